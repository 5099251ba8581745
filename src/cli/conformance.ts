/** `toolkit conformance run|verify`: run a client's conformance plan from a terminal or CI, or check a report. */
import fs from 'node:fs';
import {
  createRun, executeRun, getRun, junitXml, buildReport, PlanError, RunLost, RunRefused, verifyReport, ReportInvalid, type EngineDeps,
} from '../conformance/index.ts';
import { CliError, envOption, type Io } from './main.ts';

type Values = Record<string, string | boolean | string[] | undefined>;

/** `--only a,b` and `--only a --only b` both name two tests. */
export function onlyTests(raw: unknown): string[] | undefined {
  if (raw === undefined) return undefined;
  const ids = (raw as string[]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  if (!ids.length) throw new CliError('--only needs test ids, like --only login-p9,userinfo-sub');
  return ids;
}

/**
 * Runs the plan against the service at --start-url. The toolkit's server must be running on the same
 * database (the service's browser and back channel talk to it); progress goes to the terminal, and the exit
 * code is 0 only when every test passes. This process holds the run's lease while it runs (executeRun renews
 * it): if it is killed, the server ends the run within a minute and the client can be tested again.
 */
export async function conformanceRun(deps: EngineDeps, v: Values, io: Io): Promise<number> {
  const env = envOption((v.env as string | undefined) ?? 'sandpit')!;
  if (!v.client) throw new CliError('--client is required: the client_id to test');
  if (!v['start-url']) throw new CliError('--start-url is required: the page of your service with the NHS login button');
  let id: string;
  try {
    id = await createRun(deps, {
      env, clientId: String(v.client), startUrl: String(v['start-url']), createdBy: 'cli',
      only: onlyTests(v.only), buttonSelector: v.button as string | undefined, signedInText: v['signed-in-text'] as string | undefined,
    });
  } catch (e) {
    if (e instanceof RunRefused || e instanceof PlanError) throw new CliError(e.message);
    throw e;
  }
  if (!v.json) io.out(`Conformance run ${id} for client ${String(v.client)} (${env}) against ${String(v['start-url'])}`);
  let status;
  try {
    status = await executeRun(deps, id, (r) => {
      if (!v.json) io.out(`  ${r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'SKIP'}  ${r.testId}  ${r.detail}`);
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
  if (v.json)
    io.out(
      JSON.stringify({
        id,
        status,
        summary: report.summary,
        tests: report.tests.map((t) => ({ id: t.id, status: t.status, detail: t.detail })),
      }),
    );
  else
    io.out(
      `${status === 'passed' ? 'Passed' : 'Not passed'}: ${report.summary.passed} of ${report.summary.total} tests ` +
        `passed${report.summary.failed ? `, ${report.summary.failed} failed` : ''}` +
        `${report.summary.could_not_run ? `, ${report.summary.could_not_run} could not run` : ''}.`,
    );
  return status === 'passed' ? 0 : 1;
}

/** Checks that a signed report (a file) was produced by this toolkit and not changed since. */
export async function conformanceVerify(deps: EngineDeps, file: string | undefined, v: Values, io: Io): Promise<number> {
  if (!file) throw new CliError('give the report file: toolkit conformance verify REPORT.jws');
  try {
    const report = await verifyReport(deps.db, fs.readFileSync(file, 'utf8'));
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
