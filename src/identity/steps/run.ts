/** Steps of conformance runs (run-marks.ts): only requests that carry a run's mark, or redeem what it issued, are tagged. */
import { browserMark, findMark, linkMark, MARK_COOKIE, publishedRunKeys, runActive, type RunMark } from '../run-marks.ts';
import type { JWK } from 'jose';
import { codeRef, profileState, type Step } from './context.ts';

/** Finds the conformance run a request belongs to (browser mark, redeemed code or access token) and links what it issues. */
export const trackRun: Step = async (ctx, { config, db }) => {
  const route = ctx.oidc?.route;
  if (!config.capabilities.conformanceRuns || !route) return;
  const state = profileState(ctx);
  const code = ctx.oidc.entities.AuthorizationCode as { jti?: string } | undefined;
  let mark: RunMark | undefined;
  if (route === 'authorization' || route === 'resume') {
    // The profile check on /authorize has read it already; a resumed authorization (after the journey) has not.
    mark = state.runMark ?? (await browserMark(db, config.name, ctx.cookies.get(MARK_COOKIE, { signed: false })));
    if (mark && code?.jti) await linkMark(db, 'run-code', config.name, codeRef(code.jti), mark);
  } else if (!runActive(ctx.oidc.client)) {
    return; // token and userinfo requests of a client no run is driving: nothing to look up
  } else if (route === 'token') {
    // A refused redemption (a code used twice) never loads the code: its value, an opaque code's jti, finds the run all the same.
    const params = ctx.oidc.params;
    const sent = params?.grant_type === 'authorization_code' && typeof params.code === 'string' ? params.code : undefined;
    const jti = code?.jti ?? sent;
    mark = jti ? await findMark(db, 'run-code', config.name, codeRef(jti)) : undefined;
    const at = ctx.oidc.entities.AccessToken as { jti?: string } | undefined;
    if (mark && at?.jti) await linkMark(db, 'run-token', config.name, codeRef(at.jti), mark);
  } else if (route === 'userinfo') {
    const handle = state.userinfoHandle;
    mark = handle ? await findMark(db, 'run-token', config.name, codeRef(handle)) : undefined;
  }
  if (mark) state.runMark = mark;
};

/** The JWKS also publishes the keys conformance runs sign with (never in live). */
export const publishRunKeys: Step = async (ctx, { config, db }) => {
  if (!ctx.body || typeof ctx.body !== 'object' || !config.capabilities.conformanceRuns) return;
  const extra = await publishedRunKeys(db, config.name);
  if (extra.length) (ctx.body as { keys: JWK[] }).keys.push(...extra);
};
