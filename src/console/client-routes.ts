/**
 * Client administration (any environment): approved scopes and vectors (IM1, client_metadata, Users Endpoint V2),
 * single sign-on pairs, suspend and reinstate, force a key rotation; and conformance runs as the partner sees them.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SCOPES } from '../identity/claims.ts';
import { SUPPORTED_VECTORS } from '../identity/vectors.ts';
import { OnboardingError } from '../onboarding/index.ts';
import { reportFile, runPage, screenshotFile } from '../conformance/index.ts';
import { page, teamGuard, type ConsoleDeps, type Team } from './context.ts';
import { CHOICE, CSRF, form, formProblems, list as listField, text, type Field } from '../web/forms.ts';
import { formError } from '../web/problems.ts';

type Req = { Params: { env: string; clientId: string }; Body: Record<string, string | string[] | undefined> };
const list = (v: string | string[] | undefined) => (Array.isArray(v) ? v : v ? [v] : []);
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';
/** What a refused form sent, to show it again as it was ticked. */
type Kept = {
  approvals?: { scopes: string[]; vtr: string[]; im1: boolean; usersV2: boolean; provisioning: boolean; provisioningOds: string[] };
};

export function registerClientAdminRoutes(app: FastifyInstance, d: ConsoleDeps) {
  /** The client's page; a form refused is shown again with what was sent (`kept`), not with what is stored. */
  const show = async (reply: FastifyReply, t: Team, env: string, clientId: string, errors?: unknown[], status = 200, kept?: Kept) => {
    const client = await d.onboarding.getClient(env, clientId);
    if (!client)
      return page(d, reply, 'error.njk', { title: 'Page not found', message: 'There is no such client.', team: t, csrf: t.csrf }, 404);
    const others = (await d.onboarding.listClients(env)).filter((c) => c.clientId !== clientId);
    const org = client.organisationId
      ? await d.onboarding.organisationName(client.organisationId)
      : undefined;
    return page(
      d,
      reply,
      'console/client.njk',
      {
        title: client.name, team: t, csrf: t.csrf, client, org, others, scopes: SCOPES, vectors: SUPPORTED_VECTORS, errors,
        approved: kept?.approvals ?? client,
        // Provision Account's ODS codes: the approved ones, else the organisation's as a suggestion.
        provisioningOds: (kept?.approvals ?? client).provisioningOds.join(' ') || (org?.ods_code ?? ''),
      },
      status,
    );
  };
  app.get<Req>('/clients/:env/:clientId', async (req, reply) => {
    const t = await teamGuard(d, req, reply);
    if (t) return show(reply, t, req.params.env, req.params.clientId);
  });
  const change = (
    action: string,
    fields: Record<string, Field>,
    run: (t: Team, req: FastifyRequest<Req>) => Promise<unknown>,
    keep: (req: FastifyRequest<Req>) => Kept = () => ({}),
  ) =>
    app.post<Req>(`/clients/:env/:clientId/${action}`, form({ _csrf: CSRF, ...fields }), async (req, reply) => {
      const t = await teamGuard(d, req, reply, { csrf: true });
      if (!t) return;
      const bad = formProblems(req);
      if (bad) return show(reply, t, req.params.env, req.params.clientId, bad, 400, keep(req));
      try {
        await run(t, req);
        return reply.redirect(`/console/clients/${req.params.env}/${req.params.clientId}`, 303);
      } catch (e) {
        if (!(e instanceof OnboardingError)) throw e;
        const { errors, status } = formError(e, { fallback: 'client' });
        return show(reply, t, req.params.env, req.params.clientId, errors, status, keep(req));
      }
    });
  const approvals = (req: FastifyRequest<Req>) => ({
    scopes: list(req.body?.scopes),
    vtr: list(req.body?.vtr),
    im1: one(req.body?.im1) === 'yes',
    usersV2: one(req.body?.users_v2) === 'yes',
    provisioning: one(req.body?.provisioning) === 'yes',
    provisioningOds: one(req.body?.provisioning_ods).split(/[\s,]+/).filter(Boolean),
  });
  change(
    'approvals',
    {
      scopes: listField('Scopes', 20, 100),
      vtr: listField('Vectors of trust', 10, 20),
      im1: CHOICE('IM1'),
      users_v2: CHOICE('Users Endpoint V2'),
      provisioning: CHOICE('Provision Account'),
      provisioning_ods: text('ODS codes', 500),
    },
    (t, req) => d.onboarding.approveClient(t.email, req.params.env, req.params.clientId, approvals(req)),
    (req) => ({ approvals: approvals(req) }),
  );
  change('sso', { to: listField('Clients', 200, 100) }, (t, req) =>
    d.onboarding.setSsoPairs(t.email, req.params.env, req.params.clientId, list(req.body?.to)),
  );
  change('status', { status: CHOICE('Status'), reason: text('Reason', 2000) }, (t, req) =>
    d.onboarding.setClientStatus(t.email, req.params.env, req.params.clientId, one(req.body?.status), one(req.body?.reason)),
  );

  app.get<{ Params: { runId: string } }>('/conformance/:runId', async (req, reply) => {
    const t = await teamGuard(d, req, reply);
    if (!t) return;
    const found = await d.onboarding.getRun(req.params.runId);
    if (!found)
      return page(d, reply, 'error.njk', { title: 'Page not found', message: 'There is no such run.', team: t, csrf: t.csrf }, 404);
    const client = await d.onboarding.getClient(found.run.env, found.run.client_id);
    return page(d, reply, 'conformance/run.njk', {
      layoutName: 'console/layout.njk',
      title: 'Conformance run',
      team: t,
      csrf: t.csrf,
      client: client ?? { name: found.run.client_id },
      base: `/console/conformance/${found.run.id}`,
      ...runPage(found.run, found.results),
    });
  });
  app.get<{ Params: { runId: string; file: string } }>('/conformance/:runId/:file', async (req, reply) => {
    const t = await teamGuard(d, req, reply);
    if (!t) return;
    const found = await d.onboarding.getRun(req.params.runId);
    const file = found && reportFile(found.run, found.results, req.params.file);
    if (!file)
      return page(d, reply, 'error.njk', { title: 'Page not found', message: 'There is no such file.', team: t, csrf: t.csrf }, 404);
    return reply
      .type(file.type)
      .header('content-disposition', `attachment; filename="conformance-${req.params.runId}-${req.params.file}"`)
      .send(file.body);
  });
  app.get<{ Params: { runId: string; file: string } }>('/conformance/:runId/screenshots/:file', async (req, reply) => {
    const t = await teamGuard(d, req, reply);
    if (!t) return;
    const found = await d.onboarding.getRun(req.params.runId);
    const shot = found && screenshotFile(found.results, req.params.file);
    if (!shot)
      return page(d, reply, 'error.njk', { title: 'Page not found', message: 'There is no such screenshot.', team: t, csrf: t.csrf }, 404);
    return reply.type('image/png').header('x-content-type-options', 'nosniff').send(shot);
  });
}
