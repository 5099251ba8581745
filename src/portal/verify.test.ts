/** The public report check: a report this toolkit signed shows its client, plan and result; any other is refused. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../test-support/harness.ts';
import { buildReport } from '../conformance/index.ts';
import { signReport } from '../conformance/report.ts';

describe('check a conformance report (sqlite)', () => {
  let app: TestApp;
  let origin: string;
  let jws: string;
  before(async () => {
    app = await startTestApp('sqlite');
    origin = new URL(app.config.publicUrl).origin;
    const run = {
      id: 'run-verify', env: 'integration', client_id: 'client-verify', organisation_id: 'org', start_url: 'https://rp.example/start',
      options: '{}', status: 'failed' as const, created_by: 'x', created_at: 1_700_000_000_000, finished_at: 1_700_000_060_000,
      report: null, lease_holder: null, lease_until: null,
    };
    const result = (test_id: string, position: number, status: 'pass' | 'fail', detail: string | null) =>
      ({ run_id: run.id, test_id, position, status, detail, evidence: null, screenshot: null, started_at: 1, finished_at: 2 });
    jws = await signReport(app.database.db, buildReport(run, [
      result('login-p9', 0, 'pass', null), result('state-checked', 1, 'fail', 'The service redeemed a code sent with another state'),
    ]));
  });
  after(() => app.stop());

  const check = (fields: Record<string, string | Blob>) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    return app.fetch(`${origin}/portal/conformance/verify`, { method: 'POST', body: form });
  };

  test('a pasted report this toolkit signed shows the client, each test of the plan and the result', async () => {
    const res = await check({ report: `\n${jws}\n` });
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /id="report-valid"[\s\S]*Signed by this toolkit, unchanged/);
    assert.match(html, /Not passed<\/strong> 1 of 2 tests passed, 1 failed/);
    assert.match(html, /<code>client-verify<\/code>[\s\S]*integration[\s\S]*https:\/\/rp\.example\/start/);
    assert.match(html, /data-test="state-checked"[\s\S]*another state[\s\S]*Fail/);
  });

  test('the report file works as well as pasting it', async () => {
    const res = await check({ report: '', report_file: new File([jws], 'report.jws') });
    assert.match(await res.text(), /id="report-valid"/);
  });

  test('a report changed after signing is refused, and what was pasted is kept', async () => {
    const [h, p, s] = jws.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as { run: { status: string } };
    payload.run.status = 'passed';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    const res = await check({ report: forged });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /nhsuk-error-summary[\s\S]*href="#report"[\s\S]*not a conformance report signed by this toolkit/);
    assert.ok(html.includes(forged.slice(0, 200)), 'the pasted report is shown again');
    assert.doesNotMatch(html, /id="report-valid"/);
  });

  test('nothing sent, or a field sent twice, is a 400 with the form, never a 5xx', async () => {
    assert.equal((await check({ report: ' ' })).status, 400);
    const twice = new FormData();
    twice.append('report', jws);
    twice.append('report', jws);
    assert.equal((await app.fetch(`${origin}/portal/conformance/verify`, { method: 'POST', body: twice })).status, 400);
    const json = await app.fetch(`${origin}/portal/conformance/verify`, {
      method: 'POST', body: '{}', headers: { 'content-type': 'application/json' },
    });
    assert.equal(json.status, 415);
  });

  test('the page is public, and /conformance/verify leads to it', async () => {
    const res = await app.fetch(`${origin}/conformance/verify`, { redirect: 'manual' });
    assert.equal(res.headers.get('location'), '/portal/conformance/verify');
    const form = await (await app.fetch(`${origin}/portal/conformance/verify`)).text();
    assert.match(form, /<textarea[^>]*id="report"/);
    assert.match(form, /toolkit conformance verify report\.jws --url/);
  });
});
