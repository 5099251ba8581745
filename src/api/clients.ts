/** /api/v1/clients: register sandpit clients, read them, their checklist, trace and events, their settings. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClientRecord } from '../onboarding/index.ts';
import { capabilitiesOf, type EnvironmentName } from '../config/index.ts';
import { testIssuersOf } from '../conformance/index.ts';
import { NhsAppAddressError, RegistrationError, SessionRulesError } from '../identity/index.ts';
import { actorOf, fail, failWith, str, strings, type ApiDeps } from './context.ts';
import { BODIES, params } from './schemas.ts';
import { faultsView } from './faults.ts';

type ClientReq = FastifyRequest<{ Params: { clientId: string } }>;

export function clientView(d: ApiDeps, c: ClientRecord) {
  const issuer = d.config.environments.find((e) => e.name === c.env)!.issuer;
  return {
    client_id: c.clientId,
    env: c.env,
    name: c.name,
    redirect_uris: c.redirectUris,
    scopes: c.scopes,
    vtr: c.vtr,
    discovery: `${issuer}/.well-known/openid-configuration`,
    // The faults armed in sequence and what fired (api/faults.ts), or null.
    faults: faultsView(c.fault),
    // The NHS login team's decision (the console): shown, never set, through this API.
    users_v2: c.usersV2,
    // null: none set, the refresh token lives the specification's 30 days (identity/session-rules.ts).
    session_rules: { idle_seconds: c.sessionIdleS ?? null, absolute_seconds: c.sessionAbsoluteS ?? null },
    // Provision Account: approved for these ODS codes, or null (spec-Provision_Account_v1; the console).
    provisioning: c.provisioning ? { ods_codes: c.provisioningOds } : null,
    // The page the stand-in NHS App opens (identity/nhs-app), and the launcher that opens it; null where not set.
    nhs_app: c.nhsAppUrl ? { url: c.nhsAppUrl, launcher: `${issuer}/nhs-app/services/${c.clientId}` } : null,
    // The issuer a second instance of the service is configured with for each test that needs one (identity/test-issuers.ts).
    test_issuers: capabilitiesOf(c.env)?.conformanceRuns ? testIssuersOf(issuer, c.clientId) : null,
  };
}

/** One of the organisation's clients in any environment; any other is "not found". */
export const ownClientOf = (d: ApiDeps) => async (req: ClientReq, reply: FastifyReply) => {
  const c = await d.onboarding.findOrganisationClient(actorOf(req).organisation.id, req.params.clientId);
  if (!c) return void fail(reply, 'not_found', 'There is no such client in your organisation');
  return c;
};

export function clientRoutes(app: FastifyInstance, d: ApiDeps) {
  const ownClient = ownClientOf(d);

  app.get('/clients', async (req) =>
    (await d.onboarding.listClients(undefined, actorOf(req).organisation.id)).map((c) => clientView(d, c)),
  );
  app.post<{ Body: unknown }>('/clients', { schema: { body: BODIES.newClient } }, async (req, reply) => {
    const b = req.body;
    const name = str(b, 'name')!;
    const redirectUris = strings(b, 'redirect_uris')!;
    const vtr = strings(b, 'vtr')!;
    const scopes = strings(b, 'scopes');
    const env = str(b, 'env') ?? 'sandpit';
    try {
      const r = await d.onboarding.registerClient('partner', {
        env: env as EnvironmentName, organisationId: actorOf(req).organisation.id, name, redirectUris, vtr, scopes: scopes ?? ['openid'],
        publicKeyPem: str(b, 'public_key_pem'), jwksUri: str(b, 'jwks_uri'),
      });
      if ('refused' in r && r.refused === 'env_not_approved') {
        return fail(
          reply,
          'env_not_approved',
          `Clients in ${env} are registered after the NHS login team approves your request for it`,
          'env',
        );
      }
      if ('refused' in r) return fail(reply, 'invalid_scope', `Not allowed for this client: ${r.outside.join(', ')}`, 'scope');
      return reply.code(201).send(clientView(d, r.client));
    } catch (e) {
      if (e instanceof RegistrationError) return failWith(reply, e);
      throw e;
    }
  });
  const one = { schema: params('clientId') };
  app.get<{ Params: { clientId: string } }>('/clients/:clientId', one, async (req, reply) => {
    const c = await ownClient(req, reply);
    return c && clientView(d, c);
  });
  app.get<{ Params: { clientId: string } }>('/clients/:clientId/checklist', one, async (req, reply) => {
    const c = await ownClient(req, reply);
    if (!c) return;
    await d.onboarding.flushEvents();
    return d.onboarding.journeyChecklist(c);
  });
  app.get<{ Params: { clientId: string } }>('/clients/:clientId/trace', one, async (req, reply) => {
    const c = await ownClient(req, reply);
    if (!c) return;
    await d.onboarding.flushEvents();
    return d.onboarding.requestTrace(c.env, c.clientId);
  });
  app.get<{ Params: { clientId: string; eventId: string } }>(
    '/clients/:clientId/events/:eventId',
    { schema: params('clientId', 'eventId') },
    async (req, reply) => {
      const c = await ownClient(req, reply);
      if (!c) return;
      await d.onboarding.flushEvents();
      const e = await d.onboarding.evidenceEvent(c, req.params.eventId);
      if (!e) return fail(reply, 'not_found', 'There is no such event for this client');
      return { ...e, details: e.details ? (JSON.parse(e.details) as unknown) : null };
    },
  );
  app.put<{ Params: { clientId: string }; Body: unknown }>(
    '/clients/:clientId/key',
    { schema: { body: BODIES.key, ...params('clientId') } },
    async (req, reply) => {
      const c = await ownClient(req, reply);
      if (!c) return;
      try {
        await d.onboarding.replaceClientKey(c.env as EnvironmentName, c.clientId, {
          publicKeyPem: str(req.body, 'public_key_pem'),
          jwksUri: str(req.body, 'jwks_uri'),
        });
        return reply.code(204).send();
      } catch (e) {
        if (e instanceof RegistrationError) return failWith(reply, e);
        throw e;
      }
    },
  );
  // The client's session limits (identity/session-rules.ts), shortened for a test: the sandpit only.
  app.put<{ Params: { clientId: string }; Body: { idle_minutes: number | null; absolute_minutes: number | null } }>(
    '/clients/:clientId/session-rules',
    { schema: { body: BODIES.sessionRules, ...params('clientId') } },
    async (req, reply) => {
      const c = await ownClient(req, reply);
      if (!c) return;
      try {
        const rules = { idleMinutes: req.body.idle_minutes, absoluteMinutes: req.body.absolute_minutes };
        await d.onboarding.setSessionRules(c.env, c.clientId, rules);
        return reply.code(204).send();
      } catch (e) {
        if (e instanceof SessionRulesError) return failWith(reply, e);
        throw e;
      }
    },
  );
  // The client's NHS App address (identity/nhs-app/address.ts): sandpit and integration; null removes it.
  app.put<{ Params: { clientId: string }; Body: { url: string | null } }>(
    '/clients/:clientId/nhs-app',
    { schema: { body: BODIES.nhsApp, ...params('clientId') } },
    async (req, reply) => {
      const c = await ownClient(req, reply);
      if (!c) return;
      try {
        await d.onboarding.setNhsAppAddress(c.env, c.clientId, req.body.url);
        return reply.code(204).send();
      } catch (e) {
        if (e instanceof NhsAppAddressError) return failWith(reply, e);
        throw e;
      }
    },
  );
}
