/**
 * One test of a run: its journey driven with its own mark, what the environment's protocol record saw of it, the verdict
 * (judge.ts), and the result row with its evidence and screenshot, written only while the run's lease is held.
 */
import type { Browser } from 'playwright-core';
import type { ConformanceRunTable } from '../storage/index.ts';
import { failureText } from '../storage/index.ts';
import { createRunMark, MARK_COOKIE } from '../identity/run-marks.ts';
import { SLOW_TOKEN_MS } from '../identity/faults.ts';
import type { BrowsingPolicy } from './browsing.ts';
import { drive, driveThenRevisit, followSettings, personaFor, type DriveOptions, type Observation, type Revisit } from './driver.ts';
import type { EngineDeps } from './engine.ts';
import { heldBy } from './lease.ts';
import { testIssuerSeen, testIssuerUrl } from '../identity/test-issuers.ts';
import {
  judge, judgeAfterIdle, judgeCallbackAgain, judgeSettings, signedIn, type RunEvent, type SignedInRule, type TestIssuerSeen,
  type Verdict,
} from './judge.ts';
import type { TestSpec } from './plan.ts';

/** How long past the client's idle limit the idle test waits before opening the service's page again. */
const IDLE_MARGIN_MS = 5_000;
/** A relying party may wait this long before fetching a JWKS again (jose's default cool-down is 30 s). */
const JWKS_COOLDOWN_MS = 31_000;
/** Longer than the protocol record's batching interval (storage/events.ts). */
const EVENT_SETTLE_MS = 250;

export interface RunContext {
  d: EngineDeps;
  run: ConformanceRunTable;
  /** This execution's lease (lease.ts): results are written only while it holds the run. */
  holder: string;
  state: { lost: boolean };
  policy: BrowsingPolicy;
  issuer: string;
  browser: Browser;
  buttonSelector: string | undefined;
  rule: SignedInRule;
  /** The client's shortened idle limit (identity/session-rules.ts), for the idle test. */
  idleS: number | undefined;
  /** The start URLs of the service configured with the client's test issuers, by test. */
  startUrls: Record<string, string>;
}

/** Drives one journey with its own mark and collects what the environment saw of it. */
export async function observe(
  ctx: RunContext,
  spec: TestSpec,
  attempt = 1,
): Promise<{
  observation: Observation; events: RunEvent[]; settings?: { status: number; text: string } | undefined; later?: Revisit | undefined;
  persona: string;
}> {
  const { d, run } = ctx;
  const testId = attempt > 1 ? `${spec.id}#${attempt}` : spec.id;
  const value = await createRunMark(d.db, run.env, run.client_id, { runId: run.id, testId, fault: spec.fault });
  const persona = personaFor(run.env, spec.persona);
  const o: DriveOptions = {
    startUrl: ownStartUrl(ctx, spec) ?? run.start_url, issuer: ctx.issuer, persona, decline: spec.decline,
    buttonSelector: ctx.buttonSelector,
    mark: { name: MARK_COOKIE, value }, policy: ctx.policy,
    nhsApp: spec.via === 'nhs_app' ? { launcher: `${ctx.issuer}/nhs-app/services/${run.client_id}` } : undefined,
    // A service that never times out is seen signed in once the held response comes: wait for it, with a margin.
    stepMs: spec.fault === 'token_slow' ? SLOW_TOKEN_MS + 10_000 : undefined,
  };
  const since = Date.now();
  let observation: Observation;
  let settings: { status: number; text: string } | undefined;
  let later: Revisit | undefined;
  if (spec.expect === 'settings_reachable') ({ observation, settings } = await followSettings(ctx.browser, o, `${ctx.issuer}/settings`));
  else if (spec.expect === 'reauthenticates') {
    const idleMs = (ctx.idleS ?? 0) * 1000 + IDLE_MARGIN_MS;
    ({ observation, later } = await driveThenRevisit(ctx.browser, o, { idleMs, open: 'page' }));
  }
  else if (spec.expect === 'redeems_once')
    ({ observation, later } = await driveThenRevisit(ctx.browser, o, { idleMs: 0, open: 'callback' }));
  else observation = await drive(ctx.browser, o);
  const read = async () => {
    const rows = await d.db.selectFrom('protocol_event').select(['id', 'kind', 'outcome', 'error', 'description', 'at', 'details'])
      .where('env', '=', run.env).where('client_id', '=', run.client_id).where('at', '>=', since - 1000).orderBy('at').execute();
    return rows.map((r) => ({ ...r, details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : {} }))
      .filter((e) => e.details.run === run.id && e.details.test === testId);
  };
  let events: RunEvent[];
  if (d.events) {
    await d.events.flush();
    events = await read();
  } else {
    // Another process writes the record in batches: read until it stops growing.
    events = await read();
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, EVENT_SETTLE_MS));
      const again = await read();
      if (again.length === events.length) break;
      events = again;
    }
  }
  return { observation, events, settings, later, persona: persona.email };
}

export async function runTest(ctx: RunContext, spec: TestSpec, onResult?: (r: { testId: string } & Verdict) => void) {
  const { db } = ctx.d;
  const started = Date.now();
  await db.updateTable('conformance_result').set({ status: 'running', started_at: started })
    .where('run_id', '=', ctx.run.id).where('test_id', '=', spec.id).where(heldBy(ctx.run.id, ctx.holder)).execute();
  let seen = await observe(ctx, spec);
  let verdict =
    spec.expect === 'settings_reachable'
      ? judgeSettings(seen.observation, seen.settings, seen.persona, ctx.issuer)
      : spec.expect === 'reauthenticates'
        ? judgeAfterIdle(seen.observation, seen.later, seen.events, ctx.rule, ctx.idleS ?? 0)
        : spec.expect === 'redeems_once'
          ? judgeCallbackAgain(seen.observation, seen.later, seen.events, ctx.rule)
          : judge(spec, seen.observation, seen.events, ruleFor(ctx, spec), await testIssuerOf(ctx, spec));
  if (verdict.retry) {
    // A journey that completed without meeting its fault (a slow moment of the service or the machine): once more.
    const first = verdict.detail;
    seen = await observe(ctx, spec, 2);
    verdict = judge(spec, seen.observation, seen.events, ruleFor(ctx, spec), await testIssuerOf(ctx, spec));
    verdict.detail += ` (on the second attempt; the first: ${first})`;
    delete verdict.retry;
  } else if (spec.id === 'key-rotation' && verdict.status === 'fail') {
    // A relying party may not fetch its JWKS again within a short cool-down: try once more after it.
    await new Promise((r) => setTimeout(r, JWKS_COOLDOWN_MS));
    seen = await observe(ctx, spec, 2);
    verdict = judge(spec, seen.observation, seen.events, ruleFor(ctx, spec), await testIssuerOf(ctx, spec));
    if (verdict.status === 'pass') verdict.detail += ' (on the second attempt, after a JWKS cool-down)';
  }
  // The idle test is judged by the page after the wait: that is the page its evidence shows.
  const o = seen.later ? { ...seen.observation, ...seen.later } : seen.observation;
  const evidence = {
    final_url: o.finalUrl, status: o.status, steps: o.steps, signed_in: signedIn(o, ctx.rule) ?? null,
    events: seen.events.map((e) => ({
      id: e.id,
      kind: e.kind,
      outcome: e.outcome,
      reason: reasonText(e),
      at: new Date(e.at).toISOString(),
    })),
  };
  await db
    .updateTable('conformance_result')
    .set({
      status: verdict.status,
      detail: verdict.detail,
      evidence: JSON.stringify(evidence),
      screenshot: o.screenshot || null,
      finished_at: Date.now(),
    })
    .where('run_id', '=', ctx.run.id)
    .where('test_id', '=', spec.id)
    .where(heldBy(ctx.run.id, ctx.holder))
    .execute();
  onResult?.({ testId: spec.id, ...verdict, ms: Date.now() - started } as never);
  return { ...seen, verdict };
}

/** The start URL of the service configured with this test's test issuer, if the run has one. */
const ownStartUrl = (ctx: RunContext, spec: TestSpec) => (Object.hasOwn(ctx.startUrls, spec.id) ? ctx.startUrls[spec.id] : undefined);

/**
 * The signed-in rule for this test: a calibration seen at the run's start URL is looked for at the same path of the
 * service a test's own start URL names (a second instance, configured with a test issuer).
 */
function ruleFor(ctx: RunContext, spec: TestSpec): SignedInRule {
  const own = ownStartUrl(ctx, spec);
  const calibrated = ctx.rule.calibration && new URL(ctx.rule.calibration.url);
  if (!own || !calibrated || calibrated.origin !== new URL(ctx.run.start_url).origin) return ctx.rule;
  return { ...ctx.rule, calibration: { url: new URL(`${calibrated.pathname}${calibrated.search}`, own).href } };
}

/** The client's test issuer the test needs (identity/test-issuers.ts), and whether a service has fetched its discovery document. */
async function testIssuerOf(ctx: RunContext, spec: TestSpec): Promise<TestIssuerSeen | undefined> {
  if (!spec.issuer) return undefined;
  const seen = await testIssuerSeen(ctx.d.db, ctx.run.env, ctx.run.client_id, spec.issuer);
  return { url: testIssuerUrl(ctx.issuer, ctx.run.client_id, spec.issuer), seen: seen !== undefined };
}

/** How a run's report names what happened to a request: the failure, or the fault applied. */
const reasonText = (e: RunEvent) => (e.kind === 'fault' ? String(e.details.fault) : failureText(e));

