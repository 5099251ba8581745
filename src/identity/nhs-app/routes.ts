/**
 * The stand-in NHS App's pages, under the environment: `/<env>/nhs-app/services/<client>` is the launcher for one
 * partner service (host.ts says what the stand-in is). A person logs in to the stand-in with NHS login (the ordinary
 * journey, as the NHS App does), then "Open <service>" sends the browser to the service's NHS App address with a fresh
 * `assertedLoginIdentity`. The stand-in's own session (who logged in, their ID token's `jti`) is in the database
 * behind a cookie, for an hour: as long as the environment remembers the ID token an assertion may name (sso.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { getClient, kvDelete, kvGet, kvPut, kvTake, type ClientRecord } from '../../storage/index.ts';
import { newSecret } from '../../security/tokens.ts';
import { page, type JourneyDeps } from '../journeys/flow.ts';
import { CHOICE, form, formProblems } from '../../web/forms.ts';
import { hostApp, NHS_APP_CLIENT_ID, NHS_APP_NAME, NHS_APP_SCOPE, NHS_APP_VTR } from './host.ts';
import { patientIdentity, patientsOf, type Patient } from './proxy.ts';

const SESSION_TTL_MS = 60 * 60 * 1000;
const LOGIN_TTL_MS = 10 * 60 * 1000;
const SESSION_COOKIE = 'nhs_app_session';
const LOGIN_COOKIE = 'nhs_app_login';
/**
 * ASSUMPTION (not in NHS login's documents): the NHS App's web integration adds `nhsapp-ios/<version>` or
 * `nhsapp-android/<version>` to the user agent of the pages it opens. A browser's own cannot be changed from here.
 */
export const NHS_APP_USER_AGENTS = ['nhsapp-ios/2.40.0', 'nhsapp-android/2.40.0'];

interface AppSession {
  sub: string;
  /** The `jti` of the ID token the stand-in got: the `code` of every assertion it makes (single-sign-on.md). */
  jti: string;
  email?: string | undefined;
  nhsNumber?: string | undefined;
  at: number;
  /** Proxy access: the patient this person is acting for, and the identity the stand-in holds for them (proxy.ts). */
  actingFor?: (Patient & { code: string }) | undefined;
}
interface PendingLogin {
  state: string;
  nonce: string;
  service: string;
}

const ID = /^[\w-]{1,100}$/;

export function registerNhsApp(scoped: FastifyInstance, deps: JourneyDeps, fetch: typeof globalThis.fetch): void {
  const env = deps.env;
  const app = hostApp(deps.db, env, fetch);
  const base = `${env.mountPath}/nhs-app`;
  const cookie = { path: base, httpOnly: true, sameSite: 'lax' as const, secure: env.issuer.startsWith('https:') };
  const sessionId = (req: FastifyRequest) => {
    const id = req.cookies[SESSION_COOKIE];
    return id && ID.test(id) ? `${env.name}:${id}` : undefined;
  };
  const session = async (req: FastifyRequest) => {
    const key = sessionId(req);
    return key ? kvGet<AppSession>(deps.db, 'nhs-app-session', key) : undefined;
  };
  /** A partner's client in this environment, never the stand-in itself. */
  const service = async (id: unknown) =>
    typeof id === 'string' && ID.test(id) && id !== NHS_APP_CLIENT_ID ? getClient(deps.db, env.name, id) : undefined;
  const notFound = (reply: FastifyReply) =>
    page(deps, reply, 'error.njk', {
      title: 'Page not found',
      message: `There is no such service in the ${env.name} environment. Open the NHS App from your client's page in the portal.`,
    }, 404);
  type Extra = Record<string, unknown>;
  const show = async (reply: FastifyReply, client: ClientRecord, s: AppSession | undefined, extra: Extra = {}, status = 200) =>
    page(deps, reply, 'nhs-app.njk', {
      title: s ? 'Your health services' : 'Log in to the NHS App',
      serviceName: NHS_APP_NAME,
      client,
      signedIn: s,
      patients: s ? await patientsOf(deps.db, env.name, s.email) : [],
      loginHref: `${base}/login?service=${client.clientId}`,
      openHref: `${base}/services/${client.clientId}/open`,
      actForAction: `${base}/services/${client.clientId}/act-for`,
      logoutAction: `${base}/logout`,
      userAgents: NHS_APP_USER_AGENTS,
      ...extra,
    }, status);

  scoped.get<{ Params: { clientId: string } }>('/nhs-app/services/:clientId', async (req, reply) => {
    const client = await service(req.params.clientId);
    if (!client) return notFound(reply);
    return show(reply, client, await session(req));
  });

  scoped.get<{ Querystring: { service?: unknown } }>('/nhs-app/login', async (req, reply) => {
    const client = await service(req.query.service);
    if (!client) return notFound(reply);
    const { config, redirectUri } = await app();
    const pending: PendingLogin = { state: oidc.randomState(), nonce: oidc.randomNonce(), service: client.clientId };
    await kvPut(deps.db, 'nhs-app-login', `${env.name}:${pending.state}`, pending, LOGIN_TTL_MS);
    reply.setCookie(LOGIN_COOKIE, pending.state, cookie);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri, scope: NHS_APP_SCOPE, state: pending.state, nonce: pending.nonce, vtr: JSON.stringify(NHS_APP_VTR),
    });
    return reply.redirect(url.href, 303);
  });

  scoped.get('/nhs-app/callback', async (req, reply) => {
    const state = req.cookies[LOGIN_COOKIE];
    const pending = state && ID.test(state) ? await kvTake<PendingLogin>(deps.db, 'nhs-app-login', `${env.name}:${state}`) : undefined;
    reply.clearCookie(LOGIN_COOKIE, cookie);
    const client = pending ? await service(pending.service) : undefined;
    if (!pending || !client) {
      return page(deps, reply, 'error.njk', {
        title: 'Your NHS App login has expired',
        message: 'Open the NHS App again from your client\'s page in the portal, and log in within 10 minutes.',
      }, 400);
    }
    const { config, redirectUri } = await app();
    const current = new URL(req.url, redirectUri);
    const error = current.searchParams.get('error');
    if (error) {
      const declined = error === 'access_denied';
      return show(reply, client, undefined, {
        problem: declined
          ? 'You did not agree to share your NHS login information with the NHS App, so it cannot log you in.'
          : `NHS login did not log you in to the NHS App (${error}: ${current.searchParams.get('error_description') ?? ''}).`,
      }, 400);
    }
    const tokens = await oidc.authorizationCodeGrant(config, new URL(`${redirectUri}${current.search}`), {
      expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true,
    });
    const claims = tokens.claims()!;
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    const s: AppSession = {
      sub: claims.sub,
      jti: String(claims.jti),
      email: typeof info.email === 'string' ? info.email : undefined,
      nhsNumber: typeof info.nhs_number === 'string' ? info.nhs_number : undefined,
      at: Date.now(),
    };
    const id = newSecret();
    await kvPut(deps.db, 'nhs-app-session', `${env.name}:${id}`, s, SESSION_TTL_MS);
    reply.setCookie(SESSION_COOKIE, id, cookie);
    return reply.redirect(`${base}/services/${client.clientId}`, 303);
  });

  // A fresh assertion at each click: it lives 60 seconds and is spent by the first authorization that uses it.
  scoped.get<{ Params: { clientId: string } }>('/nhs-app/services/:clientId/open', async (req, reply) => {
    const client = await service(req.params.clientId);
    if (!client) return notFound(reply);
    const s = await session(req);
    if (!s || !client.nhsAppUrl) return reply.redirect(`${base}/services/${client.clientId}`, 303);
    const assertion = await (await app()).sign({ code: s.actingFor?.code ?? s.jti });
    const target = new URL(client.nhsAppUrl);
    target.searchParams.set('assertedLoginIdentity', assertion);
    return reply.redirect(target.href, 303);
  });

  // "Manage health services for others": choose whom services are opened for (yourself, or a patient you act for).
  scoped.post<{ Params: { clientId: string }; Body: { patient?: string } }>(
    '/nhs-app/services/:clientId/act-for',
    form({ patient: CHOICE('Whose health services') }),
    async (req, reply) => {
      const client = await service(req.params.clientId);
      if (!client) return notFound(reply);
      const key = sessionId(req);
      const s = await session(req);
      const choose = { errors: [{ href: '#patient-self', text: 'Choose whose health services to manage' }] };
      // The shape first, signed in or not: a list or a long value is a 400 with the error summary, never acted on.
      if (formProblems(req)) return show(reply, client, s, choose, 400);
      if (!key || !s) return reply.redirect(`${base}/services/${client.clientId}`, 303);
      const chosen = req.body?.patient;
      const patient = (await patientsOf(deps.db, env.name, s.email)).find((p) => p.sub === chosen);
      if (chosen !== 'self' && !patient) return show(reply, client, s, choose, 400);
      const actingFor = patient ? { ...patient, code: await patientIdentity(deps.db, env.name, patient) } : undefined;
      await kvPut(deps.db, 'nhs-app-session', key, { ...s, actingFor }, Math.max(1000, s.at + SESSION_TTL_MS - Date.now()));
      return reply.redirect(`${base}/services/${client.clientId}`, 303);
    },
  );

  scoped.post<{ Body: { service?: unknown } }>('/nhs-app/logout', async (req, reply) => {
    const id = req.cookies[SESSION_COOKIE];
    if (id && ID.test(id)) await kvDelete(deps.db, 'nhs-app-session', `${env.name}:${id}`);
    reply.clearCookie(SESSION_COOKIE, cookie);
    const client = await service(req.body?.service);
    return client ? reply.redirect(`${base}/services/${client.clientId}`, 303) : notFound(reply);
  });
}
