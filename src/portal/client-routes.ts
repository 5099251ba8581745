/**
 * Sandpit clients, self-service: register one (every rule of the environments applies, each error against
 * its field) and the page that gives everything needed to connect.
 */
import type { EnvironmentName } from '../config/index.ts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ClientRecord } from '../onboarding/index.ts';
import { FaultError, RegistrationError } from '../identity/index.ts';
import { FAULT_FORM, faultField, faultPanel, stepFromForm, typedFault, type FaultTyped } from './faults-panel.ts';
import { csrfMatches, TEST_OTP, TEST_PASSWORD } from '../onboarding/index.ts';
import { forbidden, formFields, orgGuard, page, type PortalDeps, type Signed } from './context.ts';
import { connectionSnippets } from './snippets.ts';
import { JWT_BEARER, usersRetrieveScope } from '../identity/users-v2/scope.ts';
import { capabilitiesOf, ENVIRONMENT_NAMES } from '../config/index.ts';
import type { Organisation } from '../onboarding/index.ts';
import {
  checkForm,
  CHOICE,
  CSRF,
  formProblems,
  formSchema,
  multipartForm,
  list as listField,
  text,
  type FieldProblem,
} from '../web/forms.ts';
import { formStatus } from '../web/problems.ts';
import { testIssuerFields, type RunTyped } from './run-form.ts';

type Params = { Params: { orgId: string; clientId?: string } };
type Form = Params & { Body: Record<string, string | string[] | undefined> };

const PEM = 16 * 1024;
const NEW_CLIENT = formSchema({
  _csrf: CSRF,
  env: CHOICE('Environment'),
  name: text('Client name', 100),
  redirect_uris: text('Redirect URIs', 10 * 2001),
  vtr: listField('Vectors of trust', 10, 20),
  scopes: listField('Scopes', 20, 100),
  public_key: text('Public key', PEM),
  public_key_file: text('Public key file', PEM),
  jwks: text('JWKS', 4 * PEM),
  jwks_uri: text('JWKS URL', 2000),
});
const NEW_KEY = formSchema({
  _csrf: CSRF,
  public_key: text('Public key', PEM),
  public_key_file: text('Public key file', PEM),
  jwks_uri: text('JWKS URL', 2000),
});
const isEnvironment = (env: string) => (ENVIRONMENT_NAMES as readonly string[]).includes(env);

const FIELD_FOR: Record<string, string> = {
  name: 'name',
  redirect_uri: 'redirect_uris',
  public_key: 'public_key',
  jwks: 'jwks',
  jwks_uri: 'jwks_uri',
  scope: 'scopes',
  vtr: 'vtr',
};

/** A pasted JWKS: its JSON, or (not JSON) the text itself, which the registration then refuses as not a key set. */
const pastedJwks = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

const list = (v: string | string[] | undefined) => (Array.isArray(v) ? v : v ? [v] : []);


export function registerClientRoutes(app: FastifyInstance, d: PortalDeps) {
  const allowed = (orgId: string, env: string) => d.onboarding.clientChoices(orgId, env);
  const noClient = (reply: FastifyReply) =>
    page(
      d,
      reply,
      'error.njk',
      { layoutName: 'portal/layout.njk', title: 'Page not found', message: 'There is no such client in your organisation.' },
      404,
    );
  const newClientPage = (
    reply: FastifyReply,
    signed: Signed,
    orgId: string,
    env: string,
    choice: { vectors: string[]; scopes: string[] },
    ctx: Record<string, unknown> = {},
    status = 200,
  ) =>
    page(
      d,
      reply,
      'portal/client-new.njk',
      {
        title: `Register ${/^[aeiou]/.test(env) ? 'an' : 'a'} ${env} client`,
        env,
        user: signed.user,
        csrf: signed.session.csrf,
        action: `/portal/organisations/${orgId}/clients/new`,
        vectors: choice.vectors,
        scopes: choice.scopes,
        values: { vtr: [choice.vectors.includes('P9.Cp.Cd') ? 'P9.Cp.Cd' : choice.vectors[0]], scopes: ['openid'] },
        ...ctx,
      },
      status,
    );
  // Only an environment's own name is ever shown: whatever else the address says is not repeated back.
  const notAllowed = (reply: FastifyReply, env: string) =>
    isEnvironment(env)
      ? page(
          d,
          reply,
          'error.njk',
          {
            layoutName: 'portal/layout.njk',
            title: 'Not yet',
            message: `Clients in ${env} are registered after the NHS login team approves your request for it.`,
          },
          403,
        )
      : page(
          d,
          reply,
          'error.njk',
          { layoutName: 'portal/layout.njk', title: 'Page not found', message: 'There is no such environment.' },
          404,
        );

  app.get<Params & { Querystring: { env?: string } }>(
    '/organisations/:orgId/clients/new',
    { schema: { querystring: formSchema({ env: CHOICE('Environment') }) } },
    async (req, reply) => {
      const g = await orgGuard(d, req, reply, { csrf: false });
      if (!g) return;
      const env = req.query.env ?? 'sandpit';
      const choice = await allowed(g.org.id, env);
      return choice ? newClientPage(reply, g.signed, g.org.id, env, choice) : notAllowed(reply, env);
    },
  );

  app.post<Form>('/organisations/:orgId/clients/new', multipartForm(NEW_CLIENT), async (req, reply) => {
    // The form is multipart (a PEM file may be uploaded), so its CSRF token is checked here.
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (!g) return;
    const { signed, org } = g;
    const { fields, tooLarge } = await formFields(req);
    const { problems, values: b } = checkForm(NEW_CLIENT, fields);
    if (!csrfMatches(signed.session, b._csrf)) return forbidden(d, reply);
    const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v : '');
    const env = one(b.env) || 'sandpit';
    const choice = await allowed(org.id, env);
    if (!choice) return notAllowed(reply, env);
    const uploaded = one(b.public_key_file).trim();
    const values = {
      name: one(b.name),
      redirect_uris: one(b.redirect_uris),
      vtr: list(b.vtr),
      scopes: ['openid', ...list(b.scopes).filter((s) => s !== 'openid')],
      public_key: uploaded || one(b.public_key),
      jwks: one(b.jwks),
      jwks_uri: one(b.jwks_uri),
    };
    if (problems.length) return newClientPage(reply, signed, org.id, env, choice, { errors: problems, values }, 400);
    if (tooLarge.length)
      return newClientPage(
        reply,
        signed,
        org.id,
        env,
        choice,
        {
          errors: [
            {
              href: '#public_key_file',
              text: 'A public key file is a few kilobytes: choose the .pem file with your public key',
              field: 'public_key_file',
            },
          ],
          values,
        },
        400,
      );
    try {
      const r = await d.onboarding.registerClient('partner', {
        env: env as EnvironmentName,
        organisationId: org.id,
        name: values.name,
        redirectUris: values.redirect_uris.split(/\s+/).filter(Boolean),
        scopes: values.scopes,
        vtr: values.vtr,
        publicKeyPem: values.public_key.trim() || undefined,
        jwks: values.jwks.trim() ? pastedJwks(values.jwks) : undefined,
        jwksUri: values.jwks_uri.trim() || undefined,
      });
      if ('refused' in r && r.refused === 'env_not_approved') return notAllowed(reply, env); // withdrawn since the form was read
      if ('refused' in r) {
        throw new RegistrationError(
          'invalid_scope',
          'scope',
          `Your approved application does not include ${r.outside.join(', ')}: ask the NHS login team`,
        );
      }
      return reply.redirect(`/portal/organisations/${org.id}/clients/${r.client.clientId}`, 303);
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      const errors = e.problems.map((p) => {
        const field = FIELD_FOR[p.field] ?? 'name';
        return { href: `#${field}`, text: p.message, field };
      });
      return newClientPage(reply, signed, org.id, env, choice, { errors, values }, formStatus(e));
    }
  });

  app.get<Params & { Querystring: { key?: string } }>(
    '/organisations/:orgId/clients/:clientId',
    { schema: { querystring: formSchema({ key: CHOICE('Key') }) } },
    async (req, reply) => {
      const g = await orgGuard(d, req, reply, { csrf: false });
      if (!g) return;
      const client = await d.onboarding.findOrganisationClient(g.org.id, req.params.clientId!);
      if (!client) return noClient(reply);
      return clientPage(d, reply, g.signed, g.org, client, { keyReplaced: req.query.key === 'replaced' });
    },
  );

  // A new public key: the partner's own rotation, or after the team asked for one (multipart: a .pem may be uploaded).
  app.post<Params>('/organisations/:orgId/clients/:clientId/key', multipartForm(NEW_KEY), async (req, reply) => {
    const g = await orgGuard(d, req, reply, { csrf: false });
    if (!g) return;
    const client = await d.onboarding.findOrganisationClient(g.org.id, req.params.clientId!);
    const { fields, tooLarge } = await formFields(req);
    const { problems, values } = checkForm(NEW_KEY, fields);
    if (!csrfMatches(g.signed.session, values._csrf)) return forbidden(d, reply);
    if (!client) return noClient(reply);
    const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v.trim() : '') || undefined;
    const back = `/portal/organisations/${g.org.id}/clients/${client.clientId}`;
    try {
      if (problems.length) return await clientPage(d, reply, g.signed, g.org, client, { errors: problems }, 400);
      if (tooLarge.length)
        throw new RegistrationError(
          'invalid_public_key',
          'public_key',
          'A public key file is a few kilobytes: choose the .pem file with your public key',
        );
      await d.onboarding.replaceClientKey(client.env as EnvironmentName, client.clientId, {
        publicKeyPem: one(values.public_key_file) ?? one(values.public_key),
        jwksUri: one(values.jwks_uri),
      });
      return reply.redirect(`${back}?key=replaced#key`, 303);
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      return clientPage(
        d,
        reply,
        g.signed,
        g.org,
        client,
        { errors: [{ href: '#public_key', text: e.message, field: 'public_key' }] },
        formStatus(e),
      );
    }
  });

  app.post<{ Params: { orgId: string; clientId: string }; Body: Record<string, string | undefined> }>(
    '/organisations/:orgId/clients/:clientId/fault',
    FAULT_FORM,
    async (req, reply) => {
      const g = await orgGuard(d, req, reply, { csrf: true });
      if (!g) return;
      const { signed, org } = g;
      const client = await d.onboarding.findOrganisationClient(org.id, req.params.clientId);
      if (!client) return noClient(reply);
      const bad = formProblems(req);
      if (bad) return clientPage(d, reply, signed, org, client, { errors: bad }, 400);
      const back = `/portal/organisations/${org.id}/clients/${client.clientId}`;
      if (req.body?.action === 'clear') {
        await d.onboarding.clearFaults(client.env, client.clientId);
        return reply.redirect(`${back}#faults`, 303);
      }
      const typed = typedFault(req.body);
      try {
        await d.onboarding.addFault(client.env, client.clientId, stepFromForm(typed));
        return reply.redirect(`${back}#faults`, 303);
      } catch (e) {
        if (!(e instanceof FaultError)) throw e;
        const field = faultField(e.field);
        const errors = [{ href: `#${field}`, text: e.message, field }];
        return clientPage(d, reply, signed, org, client, { errors, faultTyped: typed }, formStatus(e));
      }
    },
  );

  app.get<{ Params: { orgId: string; clientId: string; eventId: string } }>(
    '/organisations/:orgId/clients/:clientId/events/:eventId',
    async (req, reply) => {
      const g = await orgGuard(d, req, reply, { csrf: false });
      if (!g) return;
      const { signed, org } = g;
      const client = await d.onboarding.findOrganisationClient(org.id, req.params.clientId);
      const event = client ? await d.onboarding.evidenceEvent(client, req.params.eventId) : undefined;
      if (!client || !event) {
        return page(d, reply, 'error.njk', { title: 'Page not found', message: 'There is no such event for this client.' }, 404);
      }
      const base = `/portal/organisations/${org.id}/clients/${client.clientId}`;
      const readable = await d.onboarding.readableEvent(event, (runId) => `${base}/conformance/${encodeURIComponent(runId)}`);
      return page(d, reply, 'portal/event.njk', {
        title: `${readable.title} (${event.outcome === 'ok' ? 'succeeded' : 'failed'})`,
        user: signed.user,
        org,
        client,
        event,
        readable,
      });
    },
  );
}

/** What a form on the client page shows again after a refusal. */
export interface ClientPageContext {
  errors?: FieldProblem[];
  keyReplaced?: boolean;
  sessionTyped?: { idle: string; absolute: string };
  nhsAppTyped?: string;
  faultTyped?: FaultTyped;
  runTyped?: RunTyped;
}

/**
 * The client page: how to connect, the checklist, the trace, faults, conformance runs and the key. Forms on it
 * that fail show it again with their errors (never through the address: nothing typed is echoed from there).
 */
export async function clientPage(
  d: PortalDeps,
  reply: FastifyReply,
  signed: Signed,
  org: Organisation,
  client: ClientRecord,
  ctx: ClientPageContext = {},
  status = 200,
) {
  await d.onboarding.flushEvents(); // show the exchanges that just happened
  const [checklist, trace, runs] = await Promise.all([
    d.onboarding.journeyChecklist(client),
    d.onboarding.requestTrace(client.env, client.clientId),
    d.onboarding.clientRuns(client.env, client.clientId),
  ]);
  return page(
    d,
    reply,
    'portal/client.njk',
    {
      title: client.name,
      user: signed.user,
      csrf: signed.session.csrf,
      org,
      client,
      ...connection(d, client),
      checklist,
      done: checklist.filter((i) => i.done).length,
      trace,
      base: `/portal/organisations/${org.id}/clients/${client.clientId}`,
      runs,
      errors: ctx.errors,
      keyReplaced: ctx.keyReplaced,
      liveClient: !capabilitiesOf(client.env)?.conformanceRuns,
      // The conformance run form as typed after a refusal, and the tests that need a test issuer (conformance-routes.ts).
      run: ctx.runTyped ?? {},
      testIssuers: testIssuerFields(issuerOf(d, client), client.clientId, ctx.runTyped),
      testPassword: TEST_PASSWORD,
      testOtp: TEST_OTP,
      // Live has no faults (config/capabilities.ts): its clients get no panel that could only refuse.
      faults: faultPanel(client, Boolean(capabilitiesOf(client.env)?.faults), ctx.faultTyped),
      // A sandpit client's session limits (identity/session-rules.ts), as typed after a refusal, else as set.
      sessionRules: capabilitiesOf(client.env)?.shortSessions
        ? ctx.sessionTyped ?? { idle: minutes(client.sessionIdleS), absolute: minutes(client.sessionAbsoluteS) }
        : undefined,
      // The NHS App address and the stand-in's launcher for this client (identity/nhs-app), where there is a stand-in.
      nhsApp: capabilitiesOf(client.env)?.nhsApp
        ? { url: ctx.nhsAppTyped ?? client.nhsAppUrl ?? '', launcher: `${issuerOf(d, client)}/nhs-app/services/${client.clientId}` }
        : undefined,
    },
    status,
  );
}

const minutes = (s: number | null | undefined) => (s ? String(s / 60) : '');

const issuerOf = (d: PortalDeps, client: ClientRecord) => d.config.environments.find((e) => e.name === client.env)!.issuer;

function connection(d: PortalDeps, client: ClientRecord) {
  const issuer = issuerOf(d, client);
  // What a client approved for Users Endpoint V2 needs to call it (its interface specification §3.2.1, §4): only once approved,
  // so that a partner is not shown a request that would be refused.
  const usersV2 = client.usersV2
    ? { tokenEndpoint: `${issuer}/token`, grantType: JWT_BEARER, scope: usersRetrieveScope(client.env), endpoint: `${issuer}/v2/Users` }
    : undefined;
  // Provision Account (spec-Provision_Account_v1 §3.2, §3.3), likewise only once approved, with the ODS codes it may name.
  const provisioning = client.provisioning
    ? { tokenEndpoint: `${issuer}/token`, endpoint: `${issuer}/provision-account`, ods: client.provisioningOds.join(', ') }
    : undefined;
  const discovery = `${issuer}/.well-known/openid-configuration`;
  return { issuer, discovery, snippets: connectionSnippets(issuer, client), usersV2, provisioning };
}
