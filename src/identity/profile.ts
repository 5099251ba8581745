/**
 * The NHS profile around the engine, as Koa middleware: JWT access tokens, PATCH /userinfo, the discovery
 * document's shape, no RFC 9207 `iss`, no-store token responses, faults, and the protocol record.
 */
import { hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { decodeJwt, type JWK } from 'jose';
import type { EnvironmentConfig } from '../config/index.ts';
import { getClient, takeClientFault, type Db, type EventSink } from '../storage/index.ts';
import type { AccessTokenCodec } from './access-token.ts';
import { rememberIdToken } from './sso.ts';
import { isFaultKind, spoilIdToken, type AnyFault } from './faults.ts';
import { browserMark, findMark, linkMark, MARK_COOKIE, publishedRunKeys, runActive, runSigningKey, type RunMark } from './run-marks.ts';
import { MAX_CLIENT_USER_METADATA, setClientUserMetadata } from './client-user-metadata.ts';

export interface OidcError {
  error?: string;
  error_description?: string;
  error_detail?: string;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function bearer(ctx: KoaContextWithOIDC): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
  return m?.[1];
}

function invalidToken(ctx: KoaContextWithOIDC, description: string) {
  ctx.status = 401;
  ctx.set('WWW-Authenticate', `Bearer realm="${ctx.oidc?.issuer ?? ''}", error="invalid_token", error_description="${description}"`);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: 'invalid_token', error_description: description };
}

/** PATCH /userinfo: the relying party writes `client_user_metadata` (204 on success). */
async function patchUserinfo(ctx: KoaContextWithOIDC, provider: Provider, env: EnvironmentConfig, db: Db, handle: string) {
  const at = await provider.AccessToken.find(handle);
  if (!at) return invalidToken(ctx, 'access token is invalid or expired');
  ctx.state.patchClientId = at.clientId;
  ctx.state.patchSub = at.accountId;
  if (!at.scope?.split(' ').includes('client_metadata')) {
    ctx.status = 403;
    ctx.set('WWW-Authenticate', 'Bearer error="insufficient_scope", scope="client_metadata"');
    ctx.body = { error: 'insufficient_scope', error_description: 'the access token was not issued with the client_metadata scope' };
    return;
  }
  let value: unknown;
  try {
    value = (JSON.parse(await readBody(ctx.req, 8 * 1024)) as { client_user_metadata?: unknown }).client_user_metadata;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || value.length > MAX_CLIENT_USER_METADATA) {
    ctx.status = 400;
    ctx.body = {
      error: 'invalid_request',
      error_description: `body must be JSON {"client_user_metadata": string of at most ${MAX_CLIENT_USER_METADATA} characters}`,
    };
    return;
  }
  await setClientUserMetadata(db, env.name, at.clientId!, at.accountId!, value);
  ctx.status = 204;
}

const ROUTE_KIND: Record<string, string> = {
  authorization: 'authorize',
  resume: 'authorize',
  token: 'token',
  userinfo: 'userinfo',
};
/** NHS profile around the engine: JWT access tokens, PATCH /userinfo, discovery shape, the protocol record. */
export function profileMiddleware(
  provider: Provider,
  codec: AccessTokenCodec,
  config: EnvironmentConfig,
  db: Db,
  events: EventSink,
  signingKey: JWK,
) {
  const profile = nhsProfile(provider, codec, config, db, events, signingKey);
  return async (koaCtx: unknown, next: () => Promise<void>) => {
    try {
      await profile(koaCtx as KoaContextWithOIDC, next);
    } finally {
      // The engine sends the response once this returns: what was recorded of the exchange is written first, so a
      // client never holds a token whose entry a crash could lose (storage/events.ts).
      await events.flush();
    }
  };
}

function nhsProfile(provider: Provider, codec: AccessTokenCodec, config: EnvironmentConfig, db: Db, events: EventSink, signingKey: JWK) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    if (ctx.path === '/userinfo') {
      const token = bearer(ctx);
      const handle = token ? await codec.unwrap(token) : undefined;
      if (token && !handle) {
        invalidToken(ctx, 'access token signature, issuer or format is invalid');
        recordExchange(
          ctx,
          events,
          config,
          'userinfo',
          { error: 'invalid_token', error_description: 'access token signature, issuer or format is invalid' },
          undefined,
        );
        return;
      }
      if (ctx.method === 'PATCH') {
        if (!handle) invalidToken(ctx, 'no access token: send Authorization: Bearer <access token>');
        else await patchUserinfo(ctx, provider, config, db, handle);
        const failed = ctx.status >= 400 ? (ctx.body as OidcError) : undefined;
        events.record({
          env: config.name,
          clientId: ctx.state.patchClientId,
          kind: 'userinfo_patch',
          outcome: failed ? 'error' : 'ok',
          reason: failed ? [failed.error, failed.error_description].filter(Boolean).join(': ') : undefined,
          person: ctx.state.patchSub,
          details: { status: ctx.status },
        });
        return;
      }
      if (handle) ctx.req.headers.authorization = `Bearer ${handle}`;
      ctx.state.userinfoHandle = handle;
    }
    await next();
    const route = ctx.oidc?.route;
    if (route === 'token') answerNoClientAuthentication(ctx);
    if (
      route === 'userinfo' &&
      ctx.status === 200 &&
      (ctx.oidc.client as unknown as { nhs_status?: string } | undefined)?.nhs_status === 'suspended'
    ) {
      // A suspended client's tokens stop working at once, not only when they expire. The engine has just read
      // the client for this token; its claims are replaced before anything is sent.
      invalidToken(ctx, 'the client this token was issued to is suspended by the NHS login team');
      ctx.state.oidcError = { error: 'invalid_token', error_description: 'client suspended' };
    }
    // Conformance runs: only requests that carry a run's mark (or redeem what it issued) are tagged or spoiled.
    await trackRun(ctx, config, db);
    if (route === 'jwks' && ctx.body && typeof ctx.body === 'object' && config.capabilities.conformanceRuns) {
      const extra = await publishedRunKeys(db, config.name);
      if (extra.length) (ctx.body as { keys: JWK[] }).keys.push(...extra);
    }
    if (route === 'discovery' && ctx.body && typeof ctx.body === 'object') {
      // The engine lists every response mode it implements; NHS login offers the query mode only.
      (ctx.body as Record<string, unknown>).response_modes_supported = ['query'];
      // NHS login sends no `iss` in authorization responses (RFC 9207), so it does not advertise it either.
      delete (ctx.body as Record<string, unknown>).authorization_response_iss_parameter_supported;
    }
    if ((route === 'authorization' || route === 'resume') && ctx.status >= 300 && ctx.status < 400) stripIss(ctx);
    if (route === 'token' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      const body = ctx.body as Record<string, unknown>;
      const client = ctx.oidc.client as unknown as { clientId: string; nhs_sso_to?: string[] };
      if (client.nhs_sso_to?.length && typeof body.id_token === 'string') {
        const source = (ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken) as
          { acr?: string; amr?: string[] } | undefined;
        await rememberIdToken(db, config.name, body.id_token, {
          clientId: client.clientId,
          ...(source?.acr ? { acr: source.acr } : {}),
          ...(source?.amr ? { amr: source.amr } : {}),
        });
      }
      await codec.wrap(ctx, body);
    }
    // Token responses, errors included, must not be cached (RFC 6749 §5.1, §5.2; NHS login interface spec).
    if (route === 'token') {
      ctx.set('Cache-Control', 'no-store');
      ctx.set('Pragma', 'no-cache');
    }
    if ((route === 'token' || route === 'userinfo') && ctx.status === 200) {
      const fault = await faultFor(ctx, route, config, db);
      if (fault) await applyFault(ctx, route, fault, provider, config, db, events, signingKey);
    }
    const kind = route ? ROUTE_KIND[route] : undefined;
    if (kind) {
      const clientId = ctx.oidc?.client?.clientId ?? (ctx.status >= 400 ? await registeredClientNamed(ctx, config, db) : undefined);
      recordExchange(ctx, events, config, kind, ctx.state.oidcError as OidcError | undefined, clientId);
    }
  };
}

/**
 * RFC 6749 §5.2: a token request that authenticates no client at all (no client_id, client_assertion, client_secret
 * or Authorization header) is `invalid_client`, 401, where the engine answers `invalid_request`, 400.
 */
function answerNoClientAuthentication(ctx: KoaContextWithOIDC) {
  const params = ctx.oidc.params;
  const refused = ctx.state.oidcError as OidcError | undefined;
  if (ctx.status !== 400 || refused?.error !== 'invalid_request' || ctx.oidc.client || !params) return;
  if (['client_id', 'client_assertion', 'client_secret'].some((p) => params[p] !== undefined) || ctx.get('authorization')) return;
  const description = 'no client authentication mechanism provided: send client_assertion_type and client_assertion (RFC 7523)';
  const body = { error: 'invalid_client', error_description: description };
  ctx.status = 401;
  ctx.body = body;
  ctx.state.oidcError = body;
}

/** Removes the engine's RFC 9207 `iss` from a redirect back to the relying party, as NHS login sends none. */
function stripIss(ctx: KoaContextWithOIDC) {
  const location = ctx.response.get('location');
  if (!location?.includes('iss=')) return;
  const url = new URL(location);
  if (url.searchParams.get('iss') !== ctx.oidc.issuer) return;
  url.searchParams.delete('iss');
  ctx.redirect(url.href);
}

const fits = (route: 'token' | 'userinfo', kind: string) =>
  route === 'userinfo' ? kind === 'userinfo_sub_mismatch' : kind.startsWith('id_token_') || kind.startsWith('token_');

/**
 * The fault for this response, if any (never in live): a conformance run's own fault for its requests, else
 * one armed for the client by its partner. A run's requests never use up the client's armed fault.
 */
async function faultFor(
  ctx: KoaContextWithOIDC,
  route: 'token' | 'userinfo',
  config: EnvironmentConfig,
  db: Db,
): Promise<AnyFault | undefined> {
  if (!config.capabilities.faults) return undefined;
  const mark = ctx.state.runMark as RunMark | undefined;
  if (mark) return mark.fault && fits(route, mark.fault) ? mark.fault : undefined;
  const client = ctx.oidc.client as unknown as { clientId: string; nhs_fault?: string | null } | undefined;
  const armed = client?.nhs_fault;
  if (!client || !isFaultKind(armed) || !fits(route, armed)) return undefined;
  const kind = await takeClientFault(db, config.name, client.clientId);
  return isFaultKind(kind) ? kind : undefined;
}

/** Spoils this response as the fault says. */
async function applyFault(
  ctx: KoaContextWithOIDC,
  route: 'token' | 'userinfo',
  kind: AnyFault,
  provider: Provider,
  config: EnvironmentConfig,
  db: Db,
  events: EventSink,
  signingKey: JWK,
) {
  const body = ctx.body as Record<string, unknown>;
  const mark = ctx.state.runMark as RunMark | undefined;
  if (kind === 'userinfo_sub_mismatch') body.sub = `not-${String(body.sub)}`;
  else if (kind === 'token_temporarily_unavailable' || kind === 'token_server_error') {
    // The tokens were issued but never delivered: revoke them with their grant.
    const grantId = (ctx.oidc.entities.AccessToken as { grantId?: string } | undefined)?.grantId;
    if (grantId) await provider.AccessToken.adapter.revokeByGrantId(grantId);
    const error = kind === 'token_server_error' ? 'server_error' : 'temporarily_unavailable';
    ctx.status = error === 'server_error' ? 500 : 503;
    ctx.body = { error, error_description: 'injected fault (toolkit fault injection)' };
    ctx.state.oidcError = { error, error_description: 'injected fault' };
  } else if (typeof body.id_token === 'string') {
    const runKey = kind === 'id_token_new_key' && mark ? await runSigningKey(db, config.name, mark.runId) : undefined;
    body.id_token = await spoilIdToken(kind, body.id_token, signingKey, runKey);
  }
  events.record({
    env: config.name,
    clientId: ctx.oidc.client?.clientId,
    kind: 'fault',
    outcome: 'ok',
    reason: kind,
    details: { route, ...(mark ? { run: mark.runId, test: mark.testId } : {}) },
  });
}

/** Finds the conformance run a request belongs to (browser mark, redeemed code or access token) and links what it issues. */
async function trackRun(ctx: KoaContextWithOIDC, config: EnvironmentConfig, db: Db) {
  const route = ctx.oidc?.route;
  if (!config.capabilities.conformanceRuns || !route) return;
  const code = ctx.oidc.entities.AuthorizationCode as { jti?: string } | undefined;
  let mark: RunMark | undefined;
  if (route === 'authorization' || route === 'resume') {
    // The profile check on /authorize has read it already; a resumed authorization (after the journey) has not.
    mark =
      (ctx.state.runMark as RunMark | undefined) ?? (await browserMark(db, config.name, ctx.cookies.get(MARK_COOKIE, { signed: false })));
    if (mark && code?.jti) await linkMark(db, 'run-code', config.name, codeRef(code.jti), mark);
  } else if (!runActive(ctx.oidc.client)) {
    return; // token and userinfo requests of a client no run is driving: nothing to look up
  } else if (route === 'token') {
    mark = code?.jti ? await findMark(db, 'run-code', config.name, codeRef(code.jti)) : undefined;
    const at = ctx.oidc.entities.AccessToken as { jti?: string } | undefined;
    if (mark && at?.jti) await linkMark(db, 'run-token', config.name, codeRef(at.jti), mark);
  } else if (route === 'userinfo') {
    const handle = ctx.state.userinfoHandle as string | undefined;
    mark = handle ? await findMark(db, 'run-token', config.name, codeRef(handle)) : undefined;
  }
  if (mark) ctx.state.runMark = mark;
}

function codeRef(code: string): string {
  return hash('sha256', code, 'base64url').slice(0, 16);
}

/**
 * The registered client a refused request named, when the engine refused it before identifying the client (a
 * malformed client assertion, a wrong client_assertion_type, two authentication methods): the partner sees
 * these mistakes in its own trace. Named by client_id, or by the client assertion's subject.
 */
async function registeredClientNamed(ctx: KoaContextWithOIDC, env: EnvironmentConfig, db: Db): Promise<string | undefined> {
  const params = ctx.oidc?.params ?? {};
  let named = typeof params.client_id === 'string' ? params.client_id : undefined;
  if (!named && typeof params.client_assertion === 'string') {
    try {
      const sub = decodeJwt(params.client_assertion).sub;
      named = typeof sub === 'string' ? sub : undefined;
    } catch {
      named = undefined;
    }
  }
  return named && named.length <= 200 && (await getClient(db, env.name, named)) ? named : undefined;
}

/**
 * Only a registered client goes in the record's client column (and so in the per-client metrics): an id nobody
 * registered is whatever the request said, kept in the details, so hostile requests cannot add a metric series
 * each (memory).
 */
function recordExchange(
  ctx: KoaContextWithOIDC,
  events: EventSink,
  env: EnvironmentConfig,
  kind: string,
  err: OidcError | undefined,
  clientId: string | undefined,
) {
  const params = ctx.oidc?.params ?? {};
  const details: Record<string, unknown> = { status: ctx.status };
  if (!clientId && typeof params.client_id === 'string') details.client_id = params.client_id;
  if (kind === 'authorize') {
    for (const p of ['scope', 'vtr', 'prompt', 'redirect_uri', 'state'] as const) if (params[p] !== undefined) details[p] = params[p];
    if (ctx.oidc?.route === 'resume') details.resume = true;
  }
  if (kind === 'authorize' && ctx.state.vtrDefaulted) details.vtr_defaulted = true;
  // A reference to the code links the authorize that issued it to the token request that redeemed it
  // (journey evidence: "the vot received matches the vtr sent"), without recording the code itself.
  const code = ctx.oidc?.entities.AuthorizationCode as { jti?: string } | undefined;
  if ((kind === 'authorize' || kind === 'token') && code?.jti) details.code_ref = codeRef(code.jti);
  if (kind === 'userinfo' && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
    details.claims = Object.keys(ctx.body as object).sort();
    details.scope = (ctx.oidc?.entities.AccessToken as { scope?: string } | undefined)?.scope;
  }
  if (kind === 'token') {
    details.grant_type = params.grant_type;
    const source = (ctx.oidc?.entities.AuthorizationCode ?? ctx.oidc?.entities.RefreshToken) as { acr?: string } | undefined;
    if (source?.acr) details.vot = source.acr;
    if (typeof params.scope === 'string') details.scope = params.scope;
  }
  if (err?.error_detail) details.detail = err.error_detail;
  const mark = ctx.state.runMark as RunMark | undefined;
  if (mark) Object.assign(details, { run: mark.runId, test: mark.testId });
  events.record({
    env: env.name,
    clientId,
    kind,
    outcome: err ? 'error' : 'ok',
    reason: err ? [err.error, err.error_description].filter(Boolean).join(': ') : undefined,
    correlationId: ctx.oidc?.entities.Interaction?.uid ?? (ctx.oidc?.params?.state as string | undefined),
    person: ctx.oidc?.session?.accountId ?? (ctx.oidc?.entities.AccessToken as { accountId?: string } | undefined)?.accountId,
    details,
  });
}
