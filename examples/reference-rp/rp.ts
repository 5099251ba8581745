/**
 * Reference relying party for NHS login, written the way we would like partners to write theirs:
 * openid-client, private_key_jwt with RS512, state + nonce, vot checked against the request, the NHS
 * no-consent screen after ConsentNotGiven, an error page for every other OIDC error, and the refresh token
 * used to fetch the person's details again (with the checks OIDC Core §12.2 asks of a refresh).
 */
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, importPKCS8, jwtVerify, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { page, escapeHtml, NHS_LOGIN_BUTTON, NO_CONSENT_PAGE, NO_CONSENT_PAGE_NHS_APP } from './views.ts';

export interface RpOptions {
  issuer: string;
  clientId: string;
  privateKeyPem: string;
  kid?: string | undefined;
  redirectUri: string;
  scope: string;
  vtr: string[];
  /** Only for talking to a local http:// sandpit. */
  allowHttp?: boolean;
  /** Serve the service over https (a key and certificate in PEM), as integration and live redirect URIs must be. */
  https?: { key: Buffer | string; cert: Buffer | string } | undefined;
  /** The session rules below, shorter to match a sandpit client's own limits (set on its page in the portal). */
  sessionLimits?: { idleMs: number; absoluteMs: number } | undefined;
}

interface Pending {
  state: string;
  nonce: string;
  vtr: string[];
  at: number;
  /** Opened from the NHS App (its jump-off, below): the no-consent screen is the NHS App's. */
  fromNhsApp?: boolean;
}

interface SignedIn {
  claims: Record<string, unknown>;
  userinfo: Record<string, unknown>;
  since: number;
  lastSeen: number;
  /** Kept server-side only, never in a cookie; replaced by the new one each refresh (NHS login rotates them). */
  refreshToken: string | undefined;
  refreshedAt?: number;
}

/**
 * NHS login leaves the session to the service: web services must sign people in again after 30 minutes
 * without activity or 12 hours in all (NHS login interface spec, "What an RP must do"), with a full
 * authentication journey the service starts by itself (session-management.md, A): here, prompt=login.
 */
export const IDLE_LIMIT_MS = 30 * 60 * 1000;
export const ABSOLUTE_LIMIT_MS = 12 * 60 * 60 * 1000;
/** Set while a person is signed in: a later visit without a live session was a session the limits ended. */
const WAS_SIGNED_IN = 'rp_was_signed_in';
/** A sign-in that has not come back from NHS login within this time is forgotten. */
const PENDING_LIMIT_MS = 10 * 60 * 1000;

function sessionId(cookie: string | undefined): string | undefined {
  return /(?:^|;\s*)rp_session=([\w-]+)/.exec(cookie ?? '')?.[1];
}

export async function createReferenceRp(o: RpOptions, clock: () => number = Date.now): Promise<FastifyInstance> {
  // Sessions are in memory to keep the example short: use your framework's session store in production.
  const pending = new Map<string, Pending>();
  const signedIn = new Map<string, SignedIn>();
  const { idleMs, absoluteMs } = o.sessionLimits ?? { idleMs: IDLE_LIMIT_MS, absoluteMs: ABSOLUTE_LIMIT_MS };
  const ended = (u: SignedIn, now: number) => now - u.lastSeen > idleMs || now - u.since > absoluteMs;
  const active = (sid: string | undefined): SignedIn | undefined => {
    const user = sid ? signedIn.get(sid) : undefined;
    if (!user) return undefined;
    const now = clock();
    if (ended(user, now)) {
      signedIn.delete(sid!);
      return undefined;
    }
    user.lastSeen = now;
    return user;
  };
  const sweep = setInterval(() => {
    const now = clock();
    for (const [sid, p] of pending) if (now - p.at > PENDING_LIMIT_MS) pending.delete(sid);
    for (const [sid, u] of signedIn) if (ended(u, now)) signedIn.delete(sid);
  }, Math.min(60_000, idleMs)).unref();

  const key = (await importPKCS8(o.privateKeyPem, 'RS512')) as CryptoKey;
  // NHS login's discovery document is read when a sign-in first needs it, and again after a failure: a service should not
  // fail to start while NHS login is briefly unreachable, nor use a document whose issuer is not the one it asked for
  // (openid-client refuses it, OpenID Connect Discovery 1.0 §4.3); either way the person is shown a page that says so.
  let discovered: Promise<{ config: oidc.Configuration; jwks: JWTVerifyGetKey }> | undefined;
  const discover = () => (discovered ??= (async () => {
    const config: oidc.Configuration = await oidc.discovery(
      new URL(o.issuer),
      o.clientId,
      { id_token_signed_response_alg: 'RS512' },
      oidc.PrivateKeyJwt({ key, ...(o.kid ? { kid: o.kid } : {}) }, {
        // NHS login wants the client assertion's aud to be the token endpoint, not the issuer.
        [oidc.modifyAssertion]: (_header: unknown, payload: Record<string, unknown>) => {
          payload.aud = config.serverMetadata().token_endpoint;
        },
      }),
      o.allowHttp ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
    // A person waits on the callback while the token request runs: give up after 10 s and say so, rather than hang.
    config.timeout = 10;
    // jose picks the key the ID token's kid names and ignores keys it cannot use (RFC 7517 §5).
    return { config, jwks: createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!)) };
  })().catch((e: unknown) => {
    discovered = undefined;
    throw e;
  }));
  const app = (o.https ? Fastify({ logger: false, https: o.https }) : Fastify({ logger: false })) as unknown as FastifyInstance;
  app.addHook('onClose', async () => clearInterval(sweep));
  // The sign-out form posts an empty urlencoded body.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.get('/', async (req, reply) => {
    const sid = sessionId(req.headers.cookie);
    const user = active(sid);
    if (user) {
      const rows = Object.entries({ ...user.claims, ...user.userinfo })
        .map(
          ([k, v]) =>
            `<tr class="nhsuk-table__row"><th class="nhsuk-table__header">${escapeHtml(k)}</th><td ` +
              `class="nhsuk-table__cell"><code>${escapeHtml(JSON.stringify(v))}</code></td></tr>`,
        )
        .join('');
      return reply.type('text/html').send(page('You are signed in', `<h1 class="nhsuk-heading-l">You are signed in</h1>
        <p id="vot">Vector of trust achieved: <strong>${escapeHtml(String(user.claims.vot))}</strong></p>
        ${user.refreshedAt
          ? `<p id="refreshed">Details refreshed from NHS login with the refresh token at ${clockTime(user.refreshedAt)} UTC.</p>`
          : ''}
        <table class="nhsuk-table" id="claims"><tbody>${rows}</tbody></table>
        <form method="post" action="/refresh"><button class="nhsuk-button nhsuk-button--secondary">Refresh your details</button></form>
        <p><a href="${o.issuer}/settings">Manage your NHS login</a></p>
        <form method="post" action="/logout"><button class="nhsuk-button nhsuk-button--secondary">Sign out</button></form>`));
    }
    // A session the limits ended: straight back to a full authentication, without the person pressing anything.
    if (new RegExp(`(?:^|;\\s*)${WAS_SIGNED_IN}=1`).test(req.headers.cookie ?? '')) return startLogin(reply, { prompt: 'login' });
    return reply.type('text/html').send(page('Sign in', `<h1 class="nhsuk-heading-l">Reference service</h1>
      <p>Access your health information with NHS login.</p>${NHS_LOGIN_BUTTON}`));
  });

  const startLogin = async (reply: FastifyReply, extra: Record<string, string> = {}) => {
    let config: oidc.Configuration;
    try {
      ({ config } = await discover());
    } catch (e) {
      return reply.code(503).type('text/html').send(errorPage('discovery_failed', (e as Error).message));
    }
    const sid = randomBytes(16).toString('hex');
    const fromNhsApp = 'asserted_login_identity' in extra;
    const p: Pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), vtr: o.vtr, at: clock(), fromNhsApp };
    pending.set(sid, p);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: o.redirectUri,
      scope: o.scope,
      state: p.state,
      nonce: p.nonce,
      vtr: JSON.stringify(p.vtr),
      ...extra,
    });
    const cookies = [`rp_session=${sid}; Path=/; HttpOnly; SameSite=Lax`, `${WAS_SIGNED_IN}=; Path=/; Max-Age=0`];
    return reply.header('set-cookie', cookies).redirect(url.href, 302);
  };

  app.get('/login', async (_req, reply) => startLogin(reply));

  // The NHS App opens this page (the client's NHS App address) with ?assertedLoginIdentity=<jwt>: pass it on to NHS login
  // as asserted_login_identity and the person is signed in without a password (nhs-login-interface.md, single sign-on).
  // Without prompt=none: the first time, NHS login asks the person to agree to share their information with this service.
  app.get<{ Querystring: { assertedLoginIdentity?: unknown } }>('/nhs-app', async (req, reply) => {
    const assertion = req.query.assertedLoginIdentity;
    if (typeof assertion !== 'string' || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(assertion)) return reply.redirect('/', 303);
    return startLogin(reply, { asserted_login_identity: assertion });
  });

  app.get('/callback', async (req, reply) => {
    const sid = sessionId(req.headers.cookie);
    const p = sid ? pending.get(sid) : undefined;
    if (!sid || !p || clock() - p.at > PENDING_LIMIT_MS)
      return reply
        .code(400)
        .type('text/html')
        .send(page('Sign in again', '<h1 class="nhsuk-heading-l">Your sign-in has expired</h1><p><a href="/login">Sign in again</a></p>'));
    pending.delete(sid);
    const current = new URL(req.url, o.redirectUri);
    const error = current.searchParams.get('error');
    if (error === 'access_denied' && current.searchParams.get('error_description') === 'ConsentNotGiven') {
      return reply.code(403).type('text/html').send(p.fromNhsApp ? NO_CONSENT_PAGE_NHS_APP : NO_CONSENT_PAGE);
    }
    if (error) return reply.code(400).type('text/html').send(errorPage(error, current.searchParams.get('error_description')));
    try {
      const { config, jwks } = await discover();
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        expectedState: p.state,
        expectedNonce: p.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      // openid-client does not check the signature of an ID token that came from the token endpoint (OIDC Core
      // 3.1.3.7 allows that over TLS). NHS login conformance expects a badly signed one to be refused: verify it.
      await jwtVerify(tokens.id_token!, jwks, { issuer: o.issuer, audience: o.clientId, algorithms: ['RS512'] });
      if (typeof claims.iat !== 'number' || claims.iat > Date.now() / 1000 + 60)
        throw Object.assign(new Error('ID token issued in the future'), { error: 'invalid_id_token' });
      // The vot must be one of the vectors we asked for (NHS login conformance: "vot matches vtr").
      if (typeof claims.vot !== 'string' || !p.vtr.includes(claims.vot)) {
        return reply
          .code(400)
          .type('text/html')
          .send(errorPage('vot_mismatch', `vot ${String(claims.vot)} is not one of the requested vectors`));
      }
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      signedIn.set(sid, { claims, userinfo, since: clock(), lastSeen: clock(), refreshToken: tokens.refresh_token });
      return reply.header('set-cookie', `${WAS_SIGNED_IN}=1; Path=/; HttpOnly; SameSite=Lax`).redirect('/', 303);
    } catch (e) {
      const err = e as { error?: string; message: string };
      return reply.code(400).type('text/html').send(errorPage(err.error ?? 'invalid_response', err.message));
    }
  });

  // The access token lasts minutes; the refresh token gets a new one (and fresh details) without sending the
  // person back to NHS login. NHS login answers a refresh without an ID token (Federation spec §3.5.3); if one
  // comes, OIDC Core §12.2 says it must be about the same person, from the same issuer.
  app.post('/refresh', async (req, reply) => {
    const sid = sessionId(req.headers.cookie);
    const user = active(sid);
    if (!user) return reply.redirect('/', 303);
    if (!user.refreshToken) {
      return reply.code(400).type('text/html').send(errorPage('no_refresh_token', 'NHS login gave this sign-in no refresh token'));
    }
    try {
      const { config, jwks } = await discover();
      const tokens = await oidc.refreshTokenGrant(config, user.refreshToken);
      if (tokens.id_token) {
        const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: o.issuer, audience: o.clientId, algorithms: ['RS512'] });
        const someoneElse = Object.assign(new Error('the refreshed ID token is about someone else'), { error: 'invalid_id_token' });
        if (payload.sub !== user.claims.sub) throw someoneElse;
      }
      // expectedSubject: the details must be the signed-in person's (openid-client refuses another sub).
      user.userinfo = await oidc.fetchUserInfo(config, tokens.access_token, String(user.claims.sub));
      user.refreshToken = tokens.refresh_token ?? user.refreshToken;
      user.refreshedAt = clock();
      return reply.redirect('/', 303);
    } catch (e) {
      const err = e as { error?: string; message: string };
      // An expired or revoked refresh token (invalid_grant) ends this sign-in: the person signs in again.
      if (err.error === 'invalid_grant') signedIn.delete(sid!);
      return reply.code(400).type('text/html').send(errorPage(err.error ?? 'invalid_response', err.message));
    }
  });

  app.post('/logout', async (req, reply) => {
    const sid = sessionId(req.headers.cookie);
    if (sid) signedIn.delete(sid);
    return reply.header('set-cookie', ['rp_session=; Path=/; Max-Age=0', `${WAS_SIGNED_IN}=; Path=/; Max-Age=0`]).redirect('/', 303);
  });

  return app;
}

function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function errorPage(code: string, description: string | null): string {
  return page('Sorry, there is a problem', `<h1 class="nhsuk-heading-l">Sorry, there is a problem with signing in</h1>
    <p>We could not sign you in with NHS login. Try again later.</p>
    <p class="nhsuk-body-s" id="error-code">Error: ${escapeHtml(code)}${description ? ` (${escapeHtml(description)})` : ''}</p>
    <p><a href="/login">Try again</a></p>`);
}
