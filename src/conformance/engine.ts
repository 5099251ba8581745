/**
 * The conformance engine: one run drives a real browser through each test of a client's plan, judges it from
 * the browser and from the environment's protocol record, and stores results as they complete, then the signed
 * report. The portal, the CLI and the API all start runs here.
 */
import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { capabilitiesOf, type Config } from '../config/index.ts';
import { ToolkitError } from '../errors.ts';
import {
  getClient, isUniqueViolation, type ConformanceResultTable, type ConformanceRunTable, type Db, type EventSink,
} from '../storage/index.ts';
import type { Lookup } from '../security/outbound.ts';
import { browsingPolicy } from './browsing.ts';
import { launchChromium } from './driver.ts';
import { claimLapsed, claimRun, heartbeat, heldBy, LEASE, newHolder, type LeaseTiming } from './lease.ts';
import { startGuardProxy, type GuardProxy } from './proxy.ts';
import { looksSignedIn, type Verdict } from './judge.ts';
import { CATALOGUE, planFor } from './plan.ts';
import { buildReport, signReport } from './report.ts';
import { observe, runTest, type RunContext } from './run-test.ts';

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
  /** The start URLs of the service configured with the client's test issuers, by test (plan.ts `issuer`). */
  startUrls?: Record<string, string> | undefined;
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
/** A run's `options` column. */
export interface RunOptions {
  tests: string[];
  buttonSelector?: string;
  signedInText?: string;
  startUrls?: Record<string, string>;
}

/** Tests run this many at a time (each in its own browser context, each with its own mark). */
const CONCURRENCY = 3;

/** A start URL the run's browser may open, or the refusal naming `field`. */
async function checkStartUrl(d: EngineDeps, env: string, url: string, field: string): Promise<URL> {
  let start: URL;
  try {
    start = new URL(url);
  } catch {
    throw new RunRefused('invalid_start_url', 'Give the start URL of your service, like https://your-service.example/', field);
  }
  const loopback = ['localhost', '127.0.0.1'].includes(start.hostname);
  if (start.protocol !== 'https:' && !(capabilitiesOf(env)?.localhostHttp && loopback && d.config.conformanceAllowLoopback)) {
    const local = 'http://localhost is allowed for sandpit clients; https://localhost may use a self-signed certificate';
    const rule = d.config.conformanceAllowLoopback
      ? `The start URL must use https (${local})`
      : 'The start URL must be an https address on the internet';
    throw new RunRefused('invalid_start_url', rule, field);
  }
  // The browser is held to the same rule for every page it opens (browsing.ts); this is the early, clear answer.
  const refused = await browsingPolicy({ config: d.config, env, lookup: d.lookup }).refusal(start.href);
  if (refused) throw new RunRefused('invalid_start_url', `The start URL ${start.href} cannot be tested: ${refused}`, field);
  return start;
}

/** Checks the input and records a run with every test pending; the run itself is `executeRun`. */
export async function createRun(d: EngineDeps, input: RunInput): Promise<string> {
  const may = capabilitiesOf(input.env);
  if (!may?.conformanceRuns) {
    throw new RunRefused('live_not_allowed', 'Conformance runs are for sandpit and integration clients, never live', 'env');
  }
  const client = await getClient(d.db, input.env, input.clientId);
  if (!client || (input.organisationId && client.organisationId !== input.organisationId))
    throw new RunRefused('run_refused', `There is no client ${input.clientId} in ${input.env}`, 'client_id');
  const start = await checkStartUrl(d, input.env, input.startUrl, 'start_url');
  const startUrls: Record<string, string> = {};
  for (const [testId, url] of Object.entries(input.startUrls ?? {})) {
    if (!CATALOGUE.some((t) => t.id === testId && t.issuer))
      throw new RunRefused('invalid_start_url', `A start URL of its own is for a test issuer's tests only, not ${testId}`, 'start_urls');
    startUrls[testId] = (await checkStartUrl(d, input.env, url, `start_urls.${testId}`)).href;
  }
  const busy = await d.db
    .selectFrom('conformance_run')
    .select('id')
    .where('env', '=', input.env)
    .where('client_id', '=', input.clientId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  const inProgress = new RunRefused('run_refused', 'A run for this client is in progress: wait for it to finish', 'client_id');
  if (busy) throw inProgress;
  const plan = planFor(client, input.only, startUrls);
  await input.before?.();
  const id = randomUUID();
  const options = {
    tests: plan.map((t) => t.id),
    buttonSelector: input.buttonSelector || undefined,
    signedInText: input.signedInText || undefined,
    startUrls,
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
    const options = JSON.parse(run.options) as RunOptions;
    const client = (await getClient(d.db, run.env, run.client_id))!;
    const plan = planFor(client, options.tests, options.startUrls);
    const issuer = d.config.environments.find((e) => e.name === run.env)!.issuer;
    const policy = browsingPolicy({ config: d.config, env: run.env, lookup: d.lookup });
    proxy = await startGuardProxy(policy);
    browser = await launchChromium(d.config.chromiumPath, proxy.url);
    if (state.lost) throw lostError();
    const ctx: RunContext = {
      d, run, holder, state, policy, issuer, browser, buttonSelector: options.buttonSelector, rule: { text: options.signedInText },
      startUrls: options.startUrls ?? {},
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
