/** Conformance runs from the client page: start one, watch results arrive, read and download the report. */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ClientRecord } from '../onboarding/index.ts';
import { PlanError, reportFile, RunRefused, runPage, screenshotFile } from '../conformance/index.ts';
import { OWN_START_FIELDS, RUN, RUN_FIELDS, startUrlsOf, type RunTyped } from './run-form.ts';
import { orgGuard, page, type PortalDeps } from './context.ts';
import { clientPage } from './client-routes.ts';
import { formProblems } from '../web/forms.ts';
import { formStatus } from '../web/problems.ts';

/** The engine's field for a test's own start URL: `start_urls.<test id>`. */
const OWN = 'start_urls.';

type Params = {
  Params: { orgId: string; clientId: string; runId?: string; file?: string; testId?: string };
  Body: Record<string, string | undefined>;
};

export function registerConformanceRoutes(app: FastifyInstance, d: PortalDeps) {
  const clientBase = (orgId: string, c: ClientRecord) => `/portal/organisations/${orgId}/clients/${c.clientId}`;
  const notFound = (reply: FastifyReply) =>
    page(
      d,
      reply,
      'error.njk',
      { layoutName: 'portal/layout.njk', title: 'Page not found', message: 'There is no such conformance run for this client.' },
      404,
    );
  /** The run, only if it is of this organisation's client. */
  const ownRun = async (orgId: string, clientId: string, runId: string | undefined) => {
    const client = await d.onboarding.findOrganisationClient(orgId, clientId);
    const found = client && runId ? await d.onboarding.getRun(runId) : undefined;
    return client && found && found.run.client_id === client.clientId && found.run.env === client.env ? { client, ...found } : undefined;
  };

  app.post<Params>('/organisations/:orgId/clients/:clientId/conformance', RUN, async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: true });
    if (!g) return;
    const client = await d.onboarding.findOrganisationClient(g.org.id, req.params.clientId);
    if (!client) return notFound(reply);
    const bad = formProblems(req);
    const runTyped: RunTyped = Object.fromEntries(Object.keys(RUN_FIELDS).map((k) => [k, String(req.body?.[k] ?? '')]));
    if (bad) return clientPage(d, reply, g.signed, g.org, client, { errors: bad, runTyped }, 400);
    try {
      const id = await d.conformance.start({
        env: client.env,
        clientId: client.clientId,
        organisationId: g.org.id,
        createdBy: g.signed.user.email,
        startUrl: runTyped.start_url!,
        buttonSelector: runTyped.button_selector!.trim() || undefined,
        signedInText: runTyped.signed_in_text!.trim() || undefined,
        only: runTyped.only!.split(/[\s,]+/).filter(Boolean),
        startUrls: startUrlsOf(runTyped),
      });
      return reply.redirect(`${clientBase(g.org.id, client)}/conformance/${id}`, 303);
    } catch (e) {
      if (!(e instanceof RunRefused) && !(e instanceof PlanError)) throw e;
      const own = e instanceof RunRefused && e.field.startsWith(OWN) ? OWN_START_FIELDS[e.field.slice(OWN.length)] : undefined;
      const field = own ?? (e instanceof RunRefused && e.field === 'start_url' ? 'start_url' : 'conformance');
      const errors = [{ href: `#${field}`, text: e.message, field }];
      return clientPage(d, reply, g.signed, g.org, client, { errors, runTyped }, formStatus(e));
    }
  });

  app.get<Params>('/organisations/:orgId/clients/:clientId/conformance/:runId', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (!g) return;
    const found = await ownRun(g.org.id, req.params.clientId, req.params.runId);
    if (!found) return notFound(reply);
    return page(d, reply, 'conformance/run.njk', {
      layoutName: 'portal/layout.njk', title: 'Conformance run', user: g.signed.user, client: found.client,
      base: `${clientBase(g.org.id, found.client)}/conformance/${found.run.id}`, ...runPage(found.run, found.results),
    });
  });

  app.get<Params>('/organisations/:orgId/clients/:clientId/conformance/:runId/:file', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (!g) return;
    const found = await ownRun(g.org.id, req.params.clientId, req.params.runId);
    const file = found && reportFile(found.run, found.results, req.params.file ?? '');
    if (!found || !file) return notFound(reply);
    return reply
      .type(file.type)
      .header('content-disposition', `attachment; filename="conformance-${found.run.id}-${req.params.file}"`)
      .send(file.body);
  });

  app.get<Params>('/organisations/:orgId/clients/:clientId/conformance/:runId/screenshots/:testId', async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (!g) return;
    const found = await ownRun(g.org.id, req.params.clientId, req.params.runId);
    const shot = found && screenshotFile(found.results, req.params.testId ?? '');
    if (!shot) return notFound(reply);
    return reply.type('image/png').header('x-content-type-options', 'nosniff').send(shot);
  });
}
