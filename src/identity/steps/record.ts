/** The recording step: each exchange written to the protocol record (storage/events.ts), its failure as closed codes. */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { decodeJwt } from 'jose';
import { getClient, type ExchangeFailure, type ExchangeKind } from '../../storage/index.ts';
import { codeRef, profileState, type ProfileDeps, type Step } from './context.ts';

/**
 * The registered client a refused request named, when the engine refused it before identifying the client (a
 * malformed client assertion, a wrong client_assertion_type, two authentication methods): the partner sees
 * these mistakes in its own trace. Named by client_id, or by the client assertion's subject.
 */
async function registeredClientNamed(ctx: KoaContextWithOIDC, { config, db }: ProfileDeps): Promise<string | undefined> {
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
  return named && named.length <= 200 && (await getClient(db, config.name, named)) ? named : undefined;
}

/**
 * Only a registered client goes in the record's client column (and so in the per-client metrics): an id nobody
 * registered is whatever the request said, kept in the details, so hostile requests cannot add a metric series
 * each (memory).
 */
export function recordExchange(
  ctx: KoaContextWithOIDC,
  { config, events }: ProfileDeps,
  kind: ExchangeKind,
  err: ExchangeFailure | undefined,
  clientId: string | undefined,
) {
  const params = ctx.oidc?.params ?? {};
  const state = profileState(ctx);
  const details: Record<string, unknown> = { status: ctx.status };
  if (!clientId && typeof params.client_id === 'string') details.client_id = params.client_id;
  if (kind === 'authorize') {
    for (const p of ['scope', 'vtr', 'prompt', 'redirect_uri', 'state'] as const) if (params[p] !== undefined) details[p] = params[p];
    if (ctx.oidc?.route === 'resume') details.resume = true;
    // That one was sent, even when refused (a run's NHS App tests); never the assertion itself, a credential for a minute.
    if (typeof params.asserted_login_identity === 'string' && params.asserted_login_identity) details.asserted_login_identity = true;
  }
  if (kind === 'authorize' && state.vtrDefaulted) details.vtr_defaulted = true;
  if (kind === 'authorize' && state.ssoFrom) details.sso_from = state.ssoFrom;
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
  if (err?.detail) details.detail = err.detail;
  const mark = state.runMark;
  if (mark) Object.assign(details, { run: mark.runId, test: mark.testId });
  const common = {
    env: config.name,
    clientId,
    kind,
    correlationId: ctx.oidc?.entities.Interaction?.uid ?? (ctx.oidc?.params?.state as string | undefined),
    person: ctx.oidc?.session?.accountId ?? (ctx.oidc?.entities.AccessToken as { accountId?: string } | undefined)?.accountId,
    details,
  };
  events.record(
    err ? { ...common, outcome: 'error', error: err.error, cause: err.cause, description: err.description } : { ...common, outcome: 'ok' },
  );
}

/** The step that records the endpoint's exchange, with the failure the engine's hooks or the steps before left. */
export const recordAs = (kind: ExchangeKind): Step => async (ctx, d) => {
  const clientId = ctx.oidc?.client?.clientId ?? (ctx.status >= 400 ? await registeredClientNamed(ctx, d) : undefined);
  recordExchange(ctx, d, kind, profileState(ctx).refusal, clientId);
};
