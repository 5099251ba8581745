/**
 * Conformance reports: JSON signed by the toolkit (compact JWS, RS512, the toolkit's own conformance key) so
 * that the go-live gate can check it was produced here, for this client, unedited; JUnit XML for CI systems;
 * HTML for a delivery manager (rendered by the faces with report.njk).
 */
import { CompactSign, compactVerify, createLocalJWKSet, importJWK, type CryptoKey, type JWK } from 'jose';
import { createHash } from 'node:crypto';
import { loadSigningKeys, publicJwk } from '../identity/keys.ts';
import type { ConformanceResultTable, ConformanceRunTable, Db } from '../storage/index.ts';
import { CATALOGUE } from './plan.ts';
import { ToolkitError } from '../errors.ts';

/** The signing keys of reports live beside the environments' keys, under their own name. */
const KEY_SET = 'conformance';

export interface ReportTest {
  id: string;
  title: string;
  requirement: string;
  reference: string;
  status: ConformanceResultTable['status'];
  detail: string | null;
  evidence: unknown;
  screenshot_sha256: string | null;
}

export interface Report {
  kind: 'nhs-login-conformance-report';
  run: {
    id: string;
    env: string;
    client_id: string;
    start_url: string;
    started_at: string;
    finished_at: string | null;
    status: ConformanceRunTable['status'];
  };
  summary: { total: number; passed: number; failed: number; could_not_run: number };
  tests: ReportTest[];
}

export function buildReport(run: ConformanceRunTable, results: ConformanceResultTable[]): Report {
  const tests = results.sort((a, b) => a.position - b.position).map((r): ReportTest => {
    const spec = CATALOGUE.find((t) => t.id === r.test_id);
    return {
      id: r.test_id, title: spec?.title ?? r.test_id, requirement: spec?.requirement ?? '', reference: spec?.reference ?? '',
      status: r.status, detail: r.detail, evidence: r.evidence ? (JSON.parse(r.evidence) as unknown) : null,
      screenshot_sha256: r.screenshot ? createHash('sha256').update(Buffer.from(r.screenshot, 'base64')).digest('hex') : null,
    };
  });
  const count = (s: string) => tests.filter((t) => t.status === s).length;
  return {
    kind: 'nhs-login-conformance-report',
    run: {
      id: run.id,
      env: run.env,
      client_id: run.client_id,
      start_url: run.start_url,
      started_at: new Date(run.created_at).toISOString(),
      finished_at: run.finished_at ? new Date(run.finished_at).toISOString() : null,
      status: run.status,
    },
    summary: { total: tests.length, passed: count('pass'), failed: count('fail'), could_not_run: count('could_not_run') },
    tests,
  };
}

export async function signReport(db: Db, report: Report): Promise<string> {
  const [key] = await loadSigningKeys(db, KEY_SET);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(report)))
    .setProtectedHeader({ alg: 'RS512', kid: key!.kid!, typ: 'nhs-login-conformance+jwt' })
    .sign((await importJWK(key!, 'RS512')) as CryptoKey);
}

/** The public keys that verify reports (published at /api/v1/conformance/jwks.json). */
export async function reportKeys(db: Db): Promise<{ keys: JWK[] }> {
  return { keys: (await loadSigningKeys(db, KEY_SET)).map(publicJwk) };
}

export class ReportInvalid extends ToolkitError<'invalid_report'> {
  override name = 'ReportInvalid';
  constructor(message: string) {
    super('invalid_report', message);
  }
}

/** Checks a signed report: signed by this toolkit, unedited; returns its content. */
export async function verifyReport(db: Db, jws: string): Promise<Report> {
  return verifyReportWith(await reportKeys(db), jws);
}

/** The same check with the published keys (a CLI that talks to a remote toolkit fetches them). */
export async function verifyReportWith(keys: { keys: JWK[] }, jws: string): Promise<Report> {
  try {
    const { payload } = await compactVerify(jws.trim(), createLocalJWKSet(keys), { algorithms: ['RS512'] });
    const report = JSON.parse(new TextDecoder().decode(payload)) as Report;
    if (report.kind !== 'nhs-login-conformance-report') throw new Error('not a conformance report');
    return report;
  } catch (e) {
    throw new ReportInvalid(`This is not a conformance report signed by this toolkit, or it has been changed (${(e as Error).message})`);
  }
}

const xml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

export function junitXml(report: Report, results: ConformanceResultTable[]): string {
  const seconds = (r?: ConformanceResultTable) =>
    r?.started_at && r.finished_at ? ((r.finished_at - r.started_at) / 1000).toFixed(1) : '0';
  const cases = report.tests.map((t) => {
    const r = results.find((x) => x.test_id === t.id);
    const body = t.status === 'fail' ? `<failure message="${xml(t.detail ?? 'failed')}">${xml(t.requirement)}</failure>`
      : t.status === 'could_not_run' ? `<skipped message="${xml(t.detail ?? 'could not run')}"/>` : '';
    return `    <testcase classname="nhs-login.${t.id.startsWith('login') || !t.id.includes('-') ? 'scenarios' : 'conformance'}" ` +
      `name="${xml(`${t.id}: ${t.title}`)}" time="${seconds(r)}">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="NHS login conformance" tests="${report.summary.total}" failures="${report.summary.failed}" ` +
    `skipped="${report.summary.could_not_run}">
  <testsuite name="NHS login conformance: client ${xml(report.run.client_id)} (${xml(report.run.env)})" ` +
    `tests="${report.summary.total}" failures="${report.summary.failed}" skipped="${report.summary.could_not_run}" ` +
    `timestamp="${report.run.started_at}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}
