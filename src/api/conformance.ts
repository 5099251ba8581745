/** /api/v1 conformance runs, for partners' CI: start a run, poll it, fetch the signed report or JUnit XML. */
import type { FastifyInstance } from 'fastify';
import { buildReport, PlanError, reportFile, RunRefused } from '../conformance/index.ts';
import { actorOf, fail, failWith, str, strings, type ApiDeps } from './context.ts';
import { BODIES, params } from './schemas.ts';

export function conformanceRoutes(app: FastifyInstance, d: ApiDeps) {
  const ownRun = async (orgId: string, runId: string) => {
    const found = await d.onboarding.getRun(runId);
    return found && found.run.organisation_id === orgId ? found : undefined;
  };

  app.post<{ Params: { clientId: string }; Body: unknown }>(
    '/clients/:clientId/conformance-runs',
    { schema: { body: BODIES.conformanceRun, ...params('clientId') } },
    async (req, reply) => {
      const { organisation, userId } = actorOf(req);
      const client = await d.onboarding.findOrganisationClient(organisation.id, req.params.clientId);
      if (!client) return fail(reply, 'not_found', 'There is no such client in your organisation');
      try {
        const id = await d.conformance.start({
          env: client.env,
          clientId: client.clientId,
          organisationId: organisation.id,
          createdBy: `api:${userId}`,
          startUrl: str(req.body, 'start_url') ?? '',
          only: strings(req.body, 'only'),
          startUrls: (req.body as { start_urls?: Record<string, string> }).start_urls,
          buttonSelector: str(req.body, 'button_selector'),
          signedInText: str(req.body, 'signed_in_text'),
        });
        return reply
          .code(202)
          .header('location', `/api/v1/conformance-runs/${id}`)
          .send({ id, status: 'running', poll: `/api/v1/conformance-runs/${id}` });
      } catch (e) {
        if (e instanceof RunRefused || e instanceof PlanError) return failWith(reply, e);
        throw e;
      }
    },
  );

  app.get<{ Params: { id: string } }>('/conformance-runs/:id', { schema: params('id') }, async (req, reply) => {
    const found = await ownRun(actorOf(req).organisation.id, req.params.id);
    if (!found) return fail(reply, 'not_found', 'There is no such conformance run in your organisation');
    const report = buildReport(found.run, found.results);
    return {
      ...report.run,
      summary: report.summary,
      tests: report.tests,
      report: found.run.report
        ? { jws: `/api/v1/conformance-runs/${found.run.id}/report.jws`, junit: `/api/v1/conformance-runs/${found.run.id}/report.xml` }
        : null,
    };
  });

  app.get<{ Params: { id: string; file: string } }>('/conformance-runs/:id/:file', { schema: params('id', 'file') }, async (req, reply) => {
    const found = await ownRun(actorOf(req).organisation.id, req.params.id);
    const file = found && reportFile(found.run, found.results, req.params.file);
    if (!file)
      return fail(
        reply,
        'not_found',
        found
          ? 'The report is ready when the run has finished: report.jws or report.xml'
          : 'There is no such conformance run in your organisation',
      );
    return reply.type(file.type).send(file.body);
  });
}
