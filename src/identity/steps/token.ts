/** Steps of /token: client authentication as RFC 6749 §5.2 words it, single sign-on, JWT access tokens, no caching. */
import { rememberIdToken } from '../sso.ts';
import { nhsClient, profileState, type Step } from './context.ts';

/**
 * RFC 6749 §5.2: a token request that authenticates no client at all (no client_id, client_assertion, client_secret
 * or Authorization header) is `invalid_client`, 401, where the engine answers `invalid_request`, 400.
 */
export const answerNoClientAuthentication: Step = (ctx) => {
  const params = ctx.oidc.params;
  const state = profileState(ctx);
  if (ctx.status !== 400 || state.refusal?.error !== 'invalid_request' || ctx.oidc.client || !params) return;
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
  if (client.ssoTo.length && typeof body.id_token === 'string') {
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
