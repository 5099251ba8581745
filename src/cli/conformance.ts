/** `toolkit conformance run|verify`: run a client's conformance plan from a terminal or CI, or check a report. */
import fs from 'node:fs';
import {
  createRun, executeRun, getRun, junitXml, buildReport, RunLost, verifyReport, verifyReportWith, ReportInvalid, type EngineDeps,
  type Report, checkServer,
} from '../conformance/index.ts';
import { CliError, envOption, type Io } from './main.ts';
import { api, apiFile, type Remote } from './remote.ts';

type Values = Record<string, string | boolean | string[] | undefined>;

/** `--only a,b` and `--only a --only b` both name two tests. */
export function onlyTests(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  const ids = (raw as string[]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (!ids.length) throw new CliError('--only needs test ids, like --only login-p9,userinfo-sub');
  return ids;
}

/** One finished test, as both modes print it. */
const resultLine = (r: { status: string; testId: string; detail: string | null }) =>
  `  ${r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'SKIP'}  ${r.testId}  ${r.detail ?? ''}`;

type Summary = { total: number; passed: number; failed: number; could_not_run: number };
type Tested = { id: string; status: string; detail: string | null };

/** The last line (or the JSON document with --json), and the exit status: 0 only when every test passed. */
function finish(io: Io, v: Values, id: string, status: string, summary: Summary, tests: Tested[]): number {
  if (v.json) io.out(JSON.stringify({ id, status, summary, tests: tests.map((t) => ({ id: t.id, status: t.status, detail: t.detail })) }));
  else
    io.out(
      `${status === 'passed' ? 'Passed' : 'Not passed'}: ${summary.passed} of ${summary.total} tests ` +
        `passed${summary.failed ? `, ${summary.failed} failed` : ''}` +
        `${summary.could_not_run ? `, ${summary.could_not_run} could not run` : ''}.`,
    );
  return status === 'passed' ? 0 : 1;
}

/** `--start-url-for TEST=URL`, repeated: the service configured with the client's test issuer for TEST (plan.ts `issuer`). */
export function startUrlsFor(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  const pairs = (raw as string[]).map((s) => {
    const at = s.indexOf('=');
    if (at < 1 || at === s.length - 1)
      throw new CliError('--start-url-for needs TEST=URL, like --start-url-for jwks-unparseable-key=https://...');
    return [s.slice(0, at).trim(), s.slice(at + 1).trim()] as const;
  });
  return Object.fromEntries(pairs);
}

function startFlags(v: Values) {
  if (!v.client) throw new CliError('--client is required: the client_id to test');
  if (!v['start-url']) throw new CliError('--start-url is required: the page of your service with the NHS login button');
  return {
    clientId: String(v.client), startUrl: String(v['start-url']), only: onlyTests(v.only), startUrls: startUrlsFor(v['start-url-for']),
    buttonSelector: v.button as string | undefined, signedInText: v['signed-in-text'] as string | undefined,
  };
}

/**
 * Runs the plan against the service at --start-url. The toolkit's server must be running on the same
 * database (the service's browser and back channel talk to it); progress goes to the terminal, and the exit
 * code is 0 only when every test passes. This process holds the run's lease while it runs (executeRun renews
 * it): if it is killed, the server ends the run within a minute and the client can be tested again.
 */
export async function conformanceRun(deps: EngineDeps, v: Values, io: Io): Promise<number> {
  const env = envOption((v.env as string | undefined) ?? 'sandpit')!;
  const flags = startFlags(v);
  // A refused run (RunRefused, PlanError) is a usage error: main's exit line says so (exit 2).
  const id = await createRun(deps, { env, ...flags, createdBy: 'cli', before: () => checkServer(deps, env) });
  if (!v.json) io.out(`Conformance run ${id} for client ${flags.clientId} (${env}) against ${flags.startUrl}`);
  let status;
  try {
    status = await executeRun(deps, id, (r) => {
      if (!v.json) io.out(resultLine(r));
    });
  } catch (e) {
    if (!(e instanceof RunLost)) throw e;
    io.err(v.json ? JSON.stringify({ id, error: 'run_lost', message: e.message }) : `Error: ${e.message}`);
    return 1;
  }
  const { run, results } = (await getRun(deps.db, id))!;
  const report = buildReport(run, results);
  if (v.junit) fs.writeFileSync(String(v.junit), junitXml(report, results));
  if (v.report) fs.writeFileSync(String(v.report), run.report ?? '');
  return finish(io, v, id, status, report.summary, report.tests);
}

interface RemoteRun {
  status: string;
  summary: Summary;
  tests: Tested[];
  /** Where the signed report and JUnit are, once the run has finished with them. */
  report: { jws: string; junit: string } | null;
}

/**
 * The same run through a remote toolkit's API (remote.ts): the server runs the plan, this process polls it, prints
 * each test as it finishes (and a progress line on a terminal), fetches the signed report and JUnit, and exits as the
 * local mode does. Killing this process leaves the run to finish on the server.
 */
export async function conformanceRunRemote(remote: Remote, v: Values, io: Io, pollMs = 1000): Promise<number> {
  if (v.env !== undefined) throw new CliError('--env is not used with --url: the client\'s own environment is tested');
  const flags = startFlags(v);
  const started = await api<{ id: string }>(remote, 'POST', `/clients/${encodeURIComponent(flags.clientId)}/conformance-runs`, {
    start_url: flags.startUrl, ...(flags.only ? { only: flags.only } : {}), ...(flags.startUrls ? { start_urls: flags.startUrls } : {}),
    ...(flags.buttonSelector ? { button_selector: flags.buttonSelector } : {}),
    ...(flags.signedInText ? { signed_in_text: flags.signedInText } : {}),
  });
  const id = started.id;
  if (!v.json) io.out(`Conformance run ${id} for client ${flags.clientId} at ${remote.url} against ${flags.startUrl}`);
  const shown = new Set<string>();
  let run: RemoteRun;
  for (;;) {
    run = await api<RemoteRun>(remote, 'GET', `/conformance-runs/${id}`);
    for (const t of run.tests) {
      if (shown.has(t.id) || t.status === 'pending' || t.status === 'running') continue;
      shown.add(t.id);
      if (!v.json) io.out(resultLine({ status: t.status, testId: t.id, detail: t.detail }));
    }
    if (run.status !== 'running') break;
    if (!v.json) io.progress?.(`${shown.size} of ${run.tests.length} tests done`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  io.progress?.('');
  if ((v.junit || v.report) && !run.report) io.err(`The run ended (${run.status}) without a report: no --junit or --report file written.`);
  else {
    if (v.junit) fs.writeFileSync(String(v.junit), await apiFile(remote, `/conformance-runs/${id}/report.xml`));
    if (v.report) fs.writeFileSync(String(v.report), await apiFile(remote, `/conformance-runs/${id}/report.jws`));
  }
  return finish(io, v, id, run.status, run.summary, run.tests);
}

/**
 * Checks that a signed report (a file) was produced by this toolkit and not changed since: with the database's keys,
 * or with `remote` the keys the toolkit at --url publishes (GET /api/v1/conformance/jwks.json).
 */
export async function conformanceVerify(
  deps: EngineDeps | { remote: Remote }, file: string | undefined, v: Values, io: Io,
): Promise<number> {
  if (!file) throw new CliError('give the report file: toolkit conformance verify REPORT.jws');
  const jws = fs.readFileSync(file, 'utf8');
  try {
    const report: Report = 'remote' in deps
      ? await verifyReportWith(await api(deps.remote, 'GET', '/conformance/jwks.json'), jws)
      : await verifyReport(deps.db, jws);
    io.out(
      v.json
        ? JSON.stringify({ valid: true, run: report.run, summary: report.summary })
        : `Valid: run ${report.run.id} for client ${report.run.client_id} ` +
          `(${report.run.env}), ${report.run.status}, ${report.summary.passed}/${report.summary.total} passed.`,
    );
    return 0;
  } catch (e) {
    if (!(e instanceof ReportInvalid)) throw e;
    io.err(v.json ? JSON.stringify({ valid: false, message: e.message }) : `Not valid: ${e.message}`);
    return 1;
  }
}
