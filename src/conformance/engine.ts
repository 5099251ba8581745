/**
 * The conformance engine: one run drives a real browser through each test of a client's plan, judges it from
 * the browser and from the environment's protocol record, and stores results as they complete, then the signed
 * report. The portal, the CLI and the API all start runs here.
 */
import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import type { Browser } from 'playwright-core';
import { capabilitiesOf, type Config } from '../config/index.ts';
import { ToolkitError } from '../errors.ts';
import { createRunMark, MARK_COOKIE } from '../identity/run-marks.ts';
import { SLOW_TOKEN_MS } from '../identity/faults.ts';
import {
  failureText, getClient, isUniqueViolation, type ConformanceResultTable, type ConformanceRunTable, type Db, type EventSink, type Schema,
} from '../storage/index.ts';
import type { Lookup } from '../security/outbound.ts';
import { browsingPolicy, type BrowsingPolicy } from './browsing.ts';
import {
  drive, driveThenIdle, followSettings, launchChromium, personaFor, type AfterIdle, type DriveOptions, type Observation,
} from './driver.ts';
import { claimLapsed, claimRun, heartbeat, LEASE, newHolder, type LeaseTiming } from './lease.ts';
import { startGuardProxy, type GuardProxy } from './proxy.ts';
import { judge, judgeAfterIdle, judgeSettings, looksSignedIn, signedIn, type RunEvent, type SignedInRule, type Verdict } from './judge.ts';
import { planFor, type TestSpec } from './plan.ts';
import { buildReport, signReport } from './report.ts';

export interface EngineDeps {
  config: Config;
  db: Db;
  /** The environments' event sink when they run in this process; absent (the CLI), their server's record is awaited. */
  events?: EventSink | undefined;
  /** How long a run's lease lasts and how often it is renewed (lease.ts); shorter in tests. */
  lease?: LeaseTiming | undefined;
  /** How host names resolve for the browser (the system resolver; tests give names of their own). */
  lookup?: Lookup | undefined;
}

export interface RunInput {
  env: string;
  clientId: string;
  startUrl: string;
  organisationId?: string | null | undefined;
  createdBy: string;
  only?: string[] | undefined;
  buttonSelector?: string | undefined;
  signedInText?: string | undefined;
  /** A last check once the request is known to be valid, before the run is stored (the CLI's preflight.ts). */
  before?: (() => Promise<void>) | undefined;
}

/** The run was ended by another instance while this process executed it: its lease lapsed (lease.ts). */
export class RunLost extends ToolkitError<'run_lost'> {
  override name = 'RunLost';
  constructor(message: string) {
    super('run_lost', message);
  }
}

export class RunRefused extends ToolkitError<'run_refused' | 'invalid_start_url' | 'live_not_allowed'> {
  override name = 'RunRefused';
  declare readonly field: string;
}

type RunStatus = ConformanceRunTable['status'];

/** Tests run this many at a time (each in its own browser context, each with its own mark). */
const CONCURRENCY = 3;
/** How long past the client's idle limit the idle test waits before opening the service's page again. */
const IDLE_MARGIN_MS = 5_000;
/** A relying party may wait this long before fetching a JWKS again (jose's default cool-down is 30 s). */
const JWKS_COOLDOWN_MS = 31_000;
/** Longer than the protocol record's batching interval (storage/events.ts). */
const EVENT_SETTLE_MS = 250;

/** Checks the input and records a run with every test pending; the run itself is `executeRun`. */
export async function createRun(d: EngineDeps, input: RunInput): Promise<string> {
  const may = capabilitiesOf(input.env);
  if (!may?.conformanceRuns) {
    throw new RunRefused('live_not_allowed', 'Conformance runs are for sandpit and integration clients, never live', 'env');
  }
  const client = await getClient(d.db, input.env, input.clientId);
  if (!client || (input.organisationId && client.organisationId !== input.organisationId))
    throw new RunRefused('run_refused', `There is no client ${input.clientId} in ${input.env}`, 'client_id');
  let start: URL;
  try {
    start = new URL(input.startUrl);
  } catch {
    throw new RunRefused('invalid_start_url', 'Give the start URL of your service, like https://your-service.example/', 'start_url');
  }
  const loopback = ['localhost', '127.0.0.1'].includes(start.hostname);
  if (start.protocol !== 'https:' && !(may.localhostHttp && loopback && d.config.conformanceAllowLoopback)) {
    const local = 'http://localhost is allowed for sandpit clients; https://localhost may use a self-signed certificate';
    const rule = d.config.conformanceAllowLoopback
      ? `The start URL must use https (${local})`
      : 'The start URL must be an https address on the internet';
    throw new RunRefused('invalid_start_url', rule, 'start_url');
  }
  // The browser is held to the same rule for every page it opens (browsing.ts); this is the early, clear answer.
  const refused = await browsingPolicy({ config: d.config, env: input.env, lookup: d.lookup }).refusal(start.href);
  if (refused) throw new RunRefused('invalid_start_url', `The start URL ${start.href} cannot be tested: ${refused}`, 'start_url');
  const busy = await d.db
    .selectFrom('conformance_run')
    .select('id')
    .where('env', '=', input.env)
    .where('client_id', '=', input.clientId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  const inProgress = new RunRefused('run_refused', 'A run for this client is in progress: wait for it to finish', 'client_id');
  if (busy) throw inProgress;
  const plan = planFor(client, input.only);
  await input.before?.();
  const id = randomUUID();
  const options = {
    tests: plan.map((t) => t.id),
    buttonSelector: input.buttonSelector || undefined,
    signedInText: input.signedInText || undefined,
  };
  try {
    await d.db.transaction().execute(async (tx) => {
      // Unclaimed until executeRun claims it; if nothing does, the lease lapses and a sweep ends it.
      const now = Date.now();
      await tx
        .insertInto('conformance_run')
        .values({
          id,
          env: input.env,
          client_id: client.clientId,
          organisation_id: client.organisationId,
          start_url: start.href,
          options: JSON.stringify(options),
          status: 'running',
          created_by: input.createdBy,
          created_at: now,
          finished_at: null,
          report: null,
          lease_holder: null,
          lease_until: now + (d.lease ?? LEASE).ms,
        })
        .execute();
      await tx
        .insertInto('conformance_result')
        .values(
          plan.map((t, position) => ({
            run_id: id,
            test_id: t.id,
            position,
            status: 'pending' as const,
            detail: null,
            evidence: null,
            screenshot: null,
            started_at: null,
            finished_at: null,
          })),
        )
        .execute();
    });
  } catch (err) {
    // Another request started one between the check and the insert: the database's one-running-run index
    // (migration 0019) refused this one.
    if (isUniqueViolation(err)) throw inProgress;
    throw err;
  }
  return id;
}

export async function getRun(db: Db, id: string): Promise<{ run: ConformanceRunTable; results: ConformanceResultTable[] } | undefined> {
  const run = await db.selectFrom('conformance_run').selectAll().where('id', '=', id).executeTakeFirst();
  if (!run) return undefined;
  const results = await db.selectFrom('conformance_result').selectAll().where('run_id', '=', id).orderBy('position').execute();
  return { run, results };
}

/**
 * Claims a run and runs every pending test of it, storing each result as it completes; `onResult` reports
 * progress. The claim is renewed while it runs (lease.ts); if another instance ends the run meanwhile, this
 * stops and throws RunLost, recording nothing more.
 */
export async function executeRun(
  d: EngineDeps,
  runId: string,
  onResult?: (r: { testId: string } & Verdict) => void,
): Promise<ConformanceRunTable['status']> {
  const run = await d.db.selectFrom('conformance_run').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!run) throw new Error(`no conformance run ${runId}`);
  const lease = d.lease ?? LEASE;
  const holder = newHolder();
  const lostError = () =>
    new RunLost(`Conformance run ${runId} was ended by another toolkit instance: this process did not renew its lease`);
  if (!(await claimRun(d.db, runId, holder, lease))) {
    throw new RunLost(`Conformance run ${runId} is not waiting to run: another process has it, or it has ended`);
  }
  const state = { lost: false };
  let browser: Browser | undefined;
  let proxy: GuardProxy | undefined;
  const beat = heartbeat(d.db, runId, holder, lease, () => {
    // What the browser would find out now could not be recorded: stop driving it.
    state.lost = true;
    browser?.close().catch(() => undefined);
  });
  try {
    const options = JSON.parse(run.options) as { tests: string[]; buttonSelector?: string; signedInText?: string };
    const client = (await getClient(d.db, run.env, run.client_id))!;
    const plan = planFor(client, options.tests);
    const issuer = d.config.environments.find((e) => e.name === run.env)!.issuer;
    const policy = browsingPolicy({ config: d.config, env: run.env, lookup: d.lookup });
    proxy = await startGuardProxy(policy);
    browser = await launchChromium(d.config.chromiumPath, proxy.url);
    if (state.lost) throw lostError();
    const ctx: RunContext = {
      d, run, holder, state, policy, issuer, browser, buttonSelector: options.buttonSelector, rule: { text: options.signedInText },
      idleS: client.sessionIdleS ?? undefined,
    };
    // Calibration: without the service's signed-in text, a plain P9 login shows what "signed in" looks like.
    const first = plan.find((t) => t.id === 'login-p9');
    if (!ctx.rule.text) {
      if (first) {
        const r = await runTest(ctx, first, onResult);
        if (r.verdict.status === 'pass') ctx.rule.calibration = { url: r.observation.finalUrl };
      } else {
        const c = await observe(ctx, {
          id: 'calibration',
          group: 'scenario',
          persona: 'P9',
          expect: 'signed_in',
          title: '',
          requirement: '',
          reference: '',
        });
        if (c.events.some((e) => e.kind === 'token' && e.outcome === 'ok') && looksSignedIn(c.observation))
          ctx.rule.calibration = { url: c.observation.finalUrl };
      }
    }
    // Key rotation first: if the service's JWKS cool-down makes it retry, the wait overlaps the other tests.
    const queue = plan
      .filter((t) => t !== first || ctx.rule.text)
      .sort((a, b) => Number(b.id === 'key-rotation') - Number(a.id === 'key-rotation'));
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let t = queue.shift(); t && !state.lost; t = queue.shift()) await runTest(ctx, t, onResult);
      }),
    );
    const status = await finish(d, runId, undefined, holder);
    if (!status) throw lostError();
    return status;
  } catch (e) {
    if (state.lost || e instanceof RunLost) throw lostError();
    await finish(d, runId, (e as Error).message, holder);
    throw e;
  } finally {
    beat.stop();
    await browser?.close().catch(() => undefined);
    await proxy?.close();
  }
}

interface RunContext {
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
}

/** Drives one journey with its own mark and collects what the environment saw of it. */
async function observe(
  ctx: RunContext,
  spec: TestSpec,
  attempt = 1,
): Promise<{
  observation: Observation; events: RunEvent[]; settings?: { status: number; text: string } | undefined; later?: AfterIdle | undefined;
  persona: string;
}> {
  const { d, run } = ctx;
  const testId = attempt > 1 ? `${spec.id}#${attempt}` : spec.id;
  const value = await createRunMark(d.db, run.env, run.client_id, { runId: run.id, testId, fault: spec.fault });
  const persona = personaFor(run.env, spec.persona);
  const o: DriveOptions = {
    startUrl: run.start_url, issuer: ctx.issuer, persona, decline: spec.decline, buttonSelector: ctx.buttonSelector,
    mark: { name: MARK_COOKIE, value }, policy: ctx.policy,
    nhsApp: spec.via === 'nhs_app' ? { launcher: `${ctx.issuer}/nhs-app/services/${run.client_id}` } : undefined,
    // A service that never times out is seen signed in once the held response comes: wait for it, with a margin.
    stepMs: spec.fault === 'token_slow' ? SLOW_TOKEN_MS + 10_000 : undefined,
  };
  const since = Date.now();
  let observation: Observation;
  let settings: { status: number; text: string } | undefined;
  let later: AfterIdle | undefined;
  if (spec.expect === 'settings_reachable') ({ observation, settings } = await followSettings(ctx.browser, o, `${ctx.issuer}/settings`));
  else if (spec.expect === 'reauthenticates')
    ({ observation, later } = await driveThenIdle(ctx.browser, o, (ctx.idleS ?? 0) * 1000 + IDLE_MARGIN_MS));
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

async function runTest(ctx: RunContext, spec: TestSpec, onResult?: (r: { testId: string } & Verdict) => void) {
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
        : judge(spec, seen.observation, seen.events, ctx.rule);
  if (verdict.retry) {
    // A journey that completed without meeting its fault (a slow moment of the service or the machine): once more.
    const first = verdict.detail;
    seen = await observe(ctx, spec, 2);
    verdict = judge(spec, seen.observation, seen.events, ctx.rule);
    verdict.detail += ` (on the second attempt; the first: ${first})`;
    delete verdict.retry;
  } else if (spec.id === 'key-rotation' && verdict.status === 'fail') {
    // A relying party may not fetch its JWKS again within a short cool-down: try once more after it.
    await new Promise((r) => setTimeout(r, JWKS_COOLDOWN_MS));
    seen = await observe(ctx, spec, 2);
    verdict = judge(spec, seen.observation, seen.events, ctx.rule);
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

/** How a run's report names what happened to a request: the failure, or the fault applied. */
const reasonText = (e: RunEvent) => (e.kind === 'fault' ? String(e.details.fault) : failureText(e));

/** A condition on a run's result rows: the run is still running under `holder`'s lease. */
function heldBy(runId: string, holder: string) {
  return (eb: ExpressionBuilder<Schema, 'conformance_result'>) =>
    eb.exists(eb.selectFrom('conformance_run').select('id')
      .where('id', '=', runId).where('status', '=', 'running').where('lease_holder', '=', holder));
}

/** Ends a run `holder` holds: the signed report and the final status. Undefined if the run is no longer its to end. */
async function finish(d: EngineDeps, runId: string, error: string | undefined, holder: string): Promise<RunStatus | undefined> {
  if (error) {
    await d.db
      .updateTable('conformance_result')
      .set({ status: 'could_not_run', detail: `The run stopped: ${error}`, finished_at: Date.now() })
      .where('run_id', '=', runId)
      .where('status', 'in', ['pending', 'running'])
      .where(heldBy(runId, holder))
      .execute();
  }
  const { run: stored, results } = (await getRun(d.db, runId))!;
  if (stored.status !== 'running' || stored.lease_holder !== holder) return undefined;
  const status: RunStatus = error ? 'error' : results.every((r) => r.status === 'pass') ? 'passed' : 'failed';
  const run = { ...stored, status, finished_at: Date.now() };
  const report = await signReport(d.db, buildReport(run, results));
  const ended = await d.db.updateTable('conformance_run').set({ status, finished_at: run.finished_at, report })
    .where('id', '=', runId).where('status', '=', 'running').where('lease_holder', '=', holder).returning('id').executeTakeFirst();
  return ended ? status : undefined;
}

/**
 * Ends every run whose lease lapsed (its process was killed or its machine lost) as an error, freeing its
 * client; every instance calls this on an interval (scheduler.ts). Returns the runs it ended.
 */
export async function endLapsedRuns(d: EngineDeps): Promise<string[]> {
  const holder = newHolder();
  const ids = await claimLapsed(d.db, holder, d.lease ?? LEASE);
  // A run this sweep claimed but could not end (the database failed) lapses again and the next sweep retries it.
  for (const id of ids) await finish(d, id, 'the toolkit process running it stopped (it no longer renewed its lease)', holder);
  return ids;
}
