/** Steps of /token: client authentication as RFC 6749 §5.2 words it, single sign-on, JWT access tokens, no caching. */
import { rememberIdToken } from '../sso.ts';
import { NHS_APP_CLIENT_ID } from '../nhs-app/host.ts';
import { JWT_BEARER, MISSING_ASSERTION } from '../users-v2/grant.ts';
import { nhsClient, profileState, type Step } from './context.ts';
import { refreshRefusalHint } from '../session-rules.ts';

/**
 * The jwt-bearer grant's refusals (users-v2/grant.ts): its assertion is the grant, so a bad one is `invalid_grant`,
 * 400 (RFC 7523 §3.1; Users Endpoint V2 §3.2.3 "HTTP response code of 400"), where the engine, which checked it as a
 * client assertion, said `invalid_client`, 401; and a request with no assertion at all is missing a parameter.
 */
export const answerJwtBearer: Step = (ctx) => {
  const state = profileState(ctx);
  const params = ctx.oidc.params;
  if (!params || ctx.status < 400 || !state.refusal) return;
  const body = ctx.body as { error?: string; error_description?: string };
  const unauthenticated = state.refusal.cause === 'no_client_authentication' && !ctx.oidc.client;
  if (params.grant_type !== JWT_BEARER) {
    // An assertion grant under another name (the specification's own example says `grant-assertion-type`): the
    // engine looks for a client first, but what is wrong is the grant type (RFC 6749 §5.2).
    if (unauthenticated && params.assertion !== undefined) {
      const description = `grant_type must be ${JWT_BEARER} (Users Endpoint V2 §3.2.1, Table 1)`;
      ctx.body = { error: 'unsupported_grant_type', error_description: description };
      state.refusal = { error: 'unsupported_grant_type', description };
    }
    return;
  }
  if (body.error === 'invalid_client') {
    // The engine words every failed client assertion alike; the grant's own client is told which check failed.
    const description = state.refusal.detail ?? body.error_description;
    ctx.status = 400;
    ctx.remove('WWW-Authenticate');
    ctx.body = { error: 'invalid_grant', ...(description ? { error_description: description } : {}) };
    state.refusal = { ...state.refusal, error: 'invalid_grant' };
  } else if (unauthenticated) {
    ctx.body = { error: 'invalid_request', error_description: MISSING_ASSERTION };
    state.refusal = { error: 'invalid_request', description: MISSING_ASSERTION };
  }
};

/**
 * RFC 6749 §5.2: a token request that authenticates no client at all (no client_id, client_assertion, client_secret
 * or Authorization header) is `invalid_client`, 401, where the engine answers `invalid_request`, 400.
 */
export const answerNoClientAuthentication: Step = (ctx) => {
  const params = ctx.oidc.params;
  const state = profileState(ctx);
  if (ctx.status !== 400 || state.refusal?.error !== 'invalid_request' || ctx.oidc.client || !params) return;
  if (params.grant_type === JWT_BEARER || (ctx.body as { error?: string }).error !== 'invalid_request') return; // answerJwtBearer's
  if (['client_id', 'client_assertion', 'client_secret'].some((p) => params[p] !== undefined) || ctx.get('authorization')) return;
  const description = 'no client authentication mechanism provided: send client_assertion_type and client_assertion (RFC 7523)';
  ctx.status = 401;
  ctx.body = { error: 'invalid_client', error_description: description };
  state.refusal = { error: 'invalid_client', cause: 'no_client_authentication', description };
};

/** Issued tokens: the ID token remembered for single sign-on to the client's partner services, the access token a JWT. */
export const shapeIssuedTokens: Step = async (ctx, { codec, config, db }) => {
  if (ctx.status !== 200 || !ctx.body || typeof ctx.body !== 'object') return;
  const body = ctx.body as Record<string, unknown>;
  const client = nhsClient(ctx.oidc.client)!;
  // The stand-in NHS App asserts its person to the services it opens (nhs-app/host.ts), as a configured source does.
  if ((client.ssoTo.length || client.clientId === NHS_APP_CLIENT_ID) && typeof body.id_token === 'string') {
    const source = (ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken) as
      { acr?: string; amr?: string[] } | undefined;
    await rememberIdToken(db, config.name, body.id_token, {
      clientId: client.clientId,
      ...(source?.acr ? { acr: source.acr } : {}),
      ...(source?.amr ? { amr: source.amr } : {}),
    });
  }
  await codec.wrap(ctx, body);
};

/** Token responses, errors included, must not be cached (RFC 6749 §5.1, §5.2; NHS login interface spec). */
export const noStore: Step = (ctx) => {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
};

/**
 * A refused refresh token says the client's session rules (session-rules.ts), since an expired one is what a service that
 * keeps a person signed in too long meets; the engine's own wording names no limit.
 */
export const explainRefreshRefusal: Step = (ctx) => {
  if (ctx.oidc.params?.grant_type !== 'refresh_token' || ctx.status !== 400 || !ctx.oidc.client) return;
  const body = ctx.body as { error?: string; error_description?: string };
  if (body?.error !== 'invalid_grant') return;
  const hint = refreshRefusalHint(nhsClient(ctx.oidc.client));
  const description = `${body.error_description ?? 'grant request is invalid'}; ${hint}`;
  ctx.body = { ...body, error_description: description };
  const state = profileState(ctx);
  if (state.refusal) state.refusal = { ...state.refusal, description };
};
