/** The fault step: a response of /token or /userinfo spoiled as a conformance run or the partner asked (../faults.ts). */
import type { KoaContextWithOIDC } from 'oidc-provider';
import { setTimeout as sleep } from 'node:timers/promises';
import { SLOW_TOKEN_MS, spoilIdToken, type AnyFault } from '../faults.ts';
import { takeFault } from '../fault-sequence.ts';
import { runSigningKey } from '../run-marks.ts';
import { handOut, isGpRunFault } from '../gp-system/run-credentials.ts';
import { nhsClient, profileState, type ProfileDeps, type Step } from './context.ts';

type Route = 'token' | 'userinfo';
/**
 * Whether a fault spoils this response: an ID token fault waits for a response with an ID token (not Users Endpoint V2's),
 * a GP credentials fault for a userinfo response with the gp_integration_credentials claim; `pass` is a token response
 * let through, a pause in a sequence.
 */
const fits = (ctx: KoaContextWithOIDC, route: Route, kind: string) =>
  route === 'userinfo'
    ? kind.startsWith('userinfo_') && (!isGpRunFault(kind) || gpClaim(ctx) !== undefined)
    : kind.startsWith('token_') || kind === 'pass'
      || (kind.startsWith('id_token_') && typeof (ctx.body as { id_token?: unknown }).id_token === 'string');

interface Chosen {
  kind: AnyFault;
  /** A latency step's delay, and the step of the client's sequence (1-based) it came from. */
  ms?: number | null;
  step?: number;
}

const gpClaim = (ctx: KoaContextWithOIDC) => {
  const claim = (ctx.body as { gp_integration_credentials?: unknown }).gp_integration_credentials;
  return claim && typeof claim === 'object' ? (claim as Record<string, unknown>) : undefined;
};

/**
 * The fault for this response, if any (never in live): a conformance run's own fault for its requests, else
 * one armed for the client by its partner. A run's requests never use up the client's armed fault.
 */
async function faultFor(ctx: KoaContextWithOIDC, route: Route, { config, db }: ProfileDeps): Promise<Chosen | undefined> {
  if (!config.capabilities.faults) return undefined;
  const mark = profileState(ctx).runMark;
  if (mark) return mark.fault && fits(ctx, route, mark.fault) ? { kind: mark.fault } : undefined;
  const client = nhsClient(ctx.oidc.client);
  // Only a client with something armed costs a read of its sequence.
  if (!client?.fault) return undefined;
  const step = await takeFault(db, config.name, client.clientId, (kind) => fits(ctx, route, kind));
  return step && { kind: step.kind, ms: step.ms, step: step.index + 1 };
}

/** Spoils this response as the fault says, and records that it did. */
async function applyFault(
  ctx: KoaContextWithOIDC,
  route: Route,
  { kind, ms, step }: Chosen,
  { provider, config, db, events, signingKey }: ProfileDeps,
) {
  const body = ctx.body as Record<string, unknown>;
  const state = profileState(ctx);
  const mark = state.runMark;
  const details = { route, ...(mark ? { run: mark.runId, test: mark.testId } : {}), ...(step ? { step } : {}), ...(ms ? { ms } : {}) };
  const record = () =>
    events.record({ env: config.name, clientId: ctx.oidc.client?.clientId, kind: 'fault', outcome: 'ok', fault: kind, details });
  if (kind === 'token_slow') {
    // Recorded before the wait: the run judges the service's page while the response is still held.
    record();
    await sleep(SLOW_TOKEN_MS);
    return;
  }
  if (kind === 'userinfo_sub_mismatch') body.sub = `not-${String(body.sub)}`;
  else if (kind === 'token_latency' || kind === 'userinfo_latency') await sleep(ms ?? 0);
  else if (isGpRunFault(kind) && mark) {
    body.gp_integration_credentials = await handOut(db, config.name, ctx.oidc.client!.clientId, { ...mark, fault: kind }, gpClaim(ctx)!);
  }
  else if (kind === 'userinfo_invalid_token' || kind === 'userinfo_server_error') {
    // RFC 6750 §3.1: a refused bearer token says why in WWW-Authenticate; a failing server says nothing more.
    const error = kind === 'userinfo_server_error' ? 'server_error' : 'invalid_token';
    ctx.status = error === 'server_error' ? 500 : 401;
    if (error === 'invalid_token') ctx.set('WWW-Authenticate', 'Bearer error="invalid_token", error_description="injected fault"');
    ctx.body = { error, error_description: 'injected fault (toolkit fault injection)' };
    state.refusal = { error, cause: 'fault_injected', description: 'injected fault' };
  } else if (kind === 'token_temporarily_unavailable' || kind === 'token_server_error') {
    // The tokens were issued but never delivered: revoke them with their grant.
    const grantId = (ctx.oidc.entities.AccessToken as { grantId?: string } | undefined)?.grantId;
    if (grantId) await provider.AccessToken.adapter.revokeByGrantId(grantId);
    await (ctx.oidc.entities.ClientCredentials as { destroy?: () => Promise<void> } | undefined)?.destroy?.(); // Users Endpoint V2's
    const error = kind === 'token_server_error' ? 'server_error' : 'temporarily_unavailable';
    ctx.status = error === 'server_error' ? 500 : 503;
    ctx.body = { error, error_description: 'injected fault (toolkit fault injection)' };
    state.refusal = { error, cause: 'fault_injected', description: 'injected fault' };
  } else if (kind !== 'pass' && typeof body.id_token === 'string') {
    // Without a kid the JWKS must hold more than one key to be a test: the run's own key is published beside the environment's.
    const runKey = (kind === 'id_token_new_key' || kind === 'id_token_no_kid') && mark
      ? await runSigningKey(db, config.name, mark.runId) : undefined;
    body.id_token = await spoilIdToken(kind, body.id_token, signingKey, runKey);
  }
  record();
}

export const injectFault = (route: Route): Step => async (ctx, d) => {
  if (ctx.status !== 200) return;
  const fault = await faultFor(ctx, route, d);
  if (fault) await applyFault(ctx, route, fault, d);
};

/**
 * A conformance run's authorization response with the wrong `state` (the OIDF RP tests' state check; OIDC Core
 * 3.1.2.7, RFC 6749 §10.12): the code is real, so only a service that compares `state` refuses to redeem it.
 */
export const spoilAuthorizationState: Step = (ctx, { config, events }) => {
  const mark = profileState(ctx).runMark;
  if (mark?.fault !== 'authorize_wrong_state' || ctx.status < 300 || ctx.status >= 400) return;
  const location = ctx.response.get('location');
  // The redirect to the journey's pages is relative; only the one back to the service carries the code.
  if (!location?.includes('code=')) return;
  const url = new URL(location, ctx.href);
  if (!url.searchParams.has('code')) return;
  url.searchParams.set('state', `not-${url.searchParams.get('state') ?? ''}`);
  ctx.redirect(url.href);
  const details = { route: 'authorize', run: mark.runId, test: mark.testId };
  events.record({ env: config.name, clientId: ctx.oidc.client?.clientId, kind: 'fault', outcome: 'ok', fault: mark.fault, details });
};
