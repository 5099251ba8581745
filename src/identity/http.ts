/**
 * Mounts every environment on the Fastify app: protocol endpoints go to its OpenID Provider, the journey
 * pages, settings page and trustmark document are Fastify routes under the issuer's path (or host).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Environment } from './environment.ts';
import { getClient, type Db } from '../storage/index.ts';
import { registerSignIn } from './journeys/sign-in.ts';
import { registerOtp } from './journeys/otp.ts';
import { registerConsent } from './journeys/consent.ts';
import { registerRegistration } from './journeys/register.ts';
import { registerProveIdentity } from './journeys/prove-identity.ts';
import { registerClaim } from './journeys/claim.ts';
import type { JourneyDeps } from './journeys/flow.ts';
import { registerPasskeySettings, sessionPerson, showSettings } from './passkeys/settings.ts';
import { withAssertionAsClientAssertion } from './users-v2/grant.ts';
import { registerUsersV2 } from './users-v2/endpoint.ts';
import { registerProvisionAccount } from './provision/endpoint.ts';
import { registerGpSystem } from './gp-system/endpoint.ts';
import { registerNhsApp } from './nhs-app/routes.ts';
import { registerTestIssuers } from './test-issuers.ts';
import { injectFetch } from '../web/inject-fetch.ts';

/** Every parameter as a list (a form's single value becomes one), a few of each, none long: the engine checks the rest. */
const AUTHORIZE_FORM = {
  type: 'object',
  maxProperties: 40,
  additionalProperties: { type: 'array', maxItems: 5, items: { type: 'string', maxLength: 4000, pattern: '^[^\\u0000]*$' } },
};

/** What the settings page says after a passkey form worked (Post/Redirect/Get). */
const SETTINGS_NOTICES: Record<string, string> = {
  added: 'Your passkey has been added. You can now use it to sign in.',
  removed: 'Your passkey has been removed.',
};

const PROTOCOL_PATH = /^\/(authorize(\/[\w-]+)?|token|userinfo|\.well-known\/(openid-configuration|jwks\.json))$/;

function hostOf(req: FastifyRequest): string {
  return String(req.headers.host ?? '').toLowerCase();
}

/** Finds the environment a request is for and the path relative to its issuer. */
export function matchEnvironment(envs: Environment[], host: string, url: string): { env: Environment; rest: string } | undefined {
  for (const env of envs) {
    const c = env.config;
    if (c.hostRouted && host !== c.host.toLowerCase()) continue;
    if (c.mountPath === '' || url === c.mountPath || url.startsWith(`${c.mountPath}/`) || url.startsWith(`${c.mountPath}?`)) {
      return { env, rest: url.slice(c.mountPath.length) || '/' };
    }
  }
  return undefined;
}

/**
 * Which service sent the person to the settings page: among the clients this session signed in to, the one
 * whose redirect URI is on the referring page's origin; with no usable Referer, the only such client.
 */
async function settingsReferrer(db: Db, env: string, sessionClients: string[], referer: string | undefined): Promise<string | undefined> {
  let origin: string | undefined;
  try {
    origin = referer ? new URL(referer).origin : undefined;
  } catch {
    origin = undefined;
  }
  const clients = (await Promise.all(sessionClients.map((id) => getClient(db, env, id)))).filter((c) => c !== undefined);
  const fromReferer = origin ? clients.filter((c) => c.redirectUris.some((u) => new URL(u).origin === origin)) : [];
  if (fromReferer.length === 1) return fromReferer[0]!.clientId;
  return !origin && clients.length === 1 ? clients[0]!.clientId : undefined;
}

export function mountEnvironments(app: FastifyInstance, envs: Environment[], deps: Omit<JourneyDeps, 'env' | 'provider'>) {
  app.addHook('onRequest', async (req, reply) => {
    const m = matchEnvironment(envs, hostOf(req), req.url);
    if (!m) return;
    const c = m.env.config;
    // The engine derives its endpoint URLs from the request; pin them to the configured issuer instead of
    // trusting whatever Host or X-Forwarded-* a client sent.
    req.raw.headers.host = c.host;
    req.raw.headers['x-forwarded-proto'] = new URL(c.issuer).protocol.slice(0, -1);
    delete req.raw.headers['x-forwarded-host'];
    const path = m.rest.split('?')[0]!;
    if (!PROTOCOL_PATH.test(path) || (req.method === 'POST' && path === '/authorize')) return;
    // A NUL in the address is never a real parameter (the app refuses it on pages): the token and userinfo
    // endpoints answer as the engine answers a malformed request (RFC 6749 section 5.2, RFC 6750 section 3.1).
    if (req.url.includes('%00') && path !== '/authorize' && !path.startsWith('/.well-known')) {
      return reply
        .code(400)
        .header('cache-control', 'no-store')
        .send({ error: 'invalid_request', error_description: 'a parameter contains NUL' });
    }
    reply.hijack();
    (req.raw as { originalUrl?: string }).originalUrl = req.url;
    req.raw.url = m.rest;
    let raw = req.raw;
    if (req.method === 'POST' && path === '/token') {
      try {
        raw = await withAssertionAsClientAssertion(req.raw);
      } catch {
        return void reply.raw.destroy(); // the client went away while sending its body
      }
    }
    await m.env.handle(raw, reply.raw);
  });

  // The stand-in NHS App calls its environment's token and userinfo endpoints in-process.
  const selfFetch = injectFetch(app);
  for (const env of envs) {
    const c = env.config;
    const journeyDeps: JourneyDeps = {
      ...deps,
      env: c,
      // The engine instance changes when signing keys rotate: always use the current one.
      get provider() {
        return env.provider;
      },
    };
    app.register(
      async (scoped) => {
        // An environment on its own host: its routes match that Host only (Fastify route constraints), so
        // several environments can each have their own host with the same paths.
        if (c.hostRouted) {
          const host = new RegExp(`^${c.host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'i');
          scoped.addHook('onRoute', (route) => {
            route.constraints = { ...route.constraints, host };
          });
        }
        // A journey's events are written before its page or redirect is sent (storage/events.ts).
        scoped.addHook('onSend', async (_req, _reply, payload) => {
          await deps.events.flush();
          return payload;
        });
        // Journey forms and the POSTed /authorize are forms: JSON and plain text here are 415, answered as
        // invalid_request on an error page (web/errors.ts), never parsed.
        scoped.removeContentTypeParser(['application/json', 'text/plain']);
        // NHS login accepts /authorize as a POSTed form too (OIDC Core 3.1.2.1); the engine takes it as a query,
        // repeated parameters and all, so it answers them as it answers them in a query (invalid_request).
        scoped.post<{ Body: Record<string, string[]> }>('/authorize', { schema: { body: AUTHORIZE_FORM } }, async (req, reply) => {
          const query = new URLSearchParams(Object.entries(req.body ?? {}).flatMap(([k, vs]) => vs.map((v) => [k, v]))).toString();
          return reply.redirect(`${c.mountPath}/authorize?${query}`, 303);
        });
        scoped.get('/trustmark/:host', async (_req, reply) =>
          reply.header('cache-control', 'public, max-age=3600').send({
            idp: c.issuer,
            trustmark_provider: c.issuer,
            P: ['P0', 'P5', 'P9'],
            C: ['Cp', 'Cd', 'Ck', 'Cm'],
          }),
        );
        scoped.get<{ Querystring: { passkey?: unknown } }>('/settings', async (req, reply) => {
          const { session, person } = await sessionPerson(env, journeyDeps, req, reply);
          const clientId = person
            ? await settingsReferrer(deps.db, c.name, Object.keys(session.authorizations ?? {}), req.headers.referer)
            : undefined;
          deps.events.record(
            person
              ? { env: c.name, clientId, kind: 'settings', outcome: 'ok', person: person.id }
              : { env: c.name, clientId, kind: 'settings', outcome: 'error', error: 'no_session' },
          );
          const notice = SETTINGS_NOTICES[String(req.query.passkey)];
          return showSettings(env, journeyDeps, req, reply, person, notice ? { notice } : {});
        });
        registerPasskeySettings(scoped, env, journeyDeps);
        registerUsersV2(scoped, { env, db: deps.db, events: deps.events });
        registerProvisionAccount(scoped, { env, db: deps.db, events: deps.events, people: deps.people, mail: deps.mail });
        if (c.capabilities.gpSystem) registerGpSystem(scoped, { env: c.name, db: deps.db, events: deps.events });
        if (c.capabilities.nhsApp) registerNhsApp(scoped, journeyDeps, selfFetch);
        if (c.capabilities.conformanceRuns) registerTestIssuers(scoped, { env: c, db: deps.db, fetch: selfFetch });
        registerSignIn(scoped, journeyDeps);
        registerOtp(scoped, journeyDeps);
        registerRegistration(scoped, journeyDeps);
        registerProveIdentity(scoped, journeyDeps);
        registerConsent(scoped, journeyDeps);
        registerClaim(scoped, journeyDeps);
      },
      { prefix: c.mountPath },
    );
  }
}
