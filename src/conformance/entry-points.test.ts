/**
 * The three entry points over one engine: the CLI (progress, exit code, JUnit and signed report files, verify),
 * the portal (start from the client page, watch, download) and the API (start, poll, report), each with a
 * short plan against the reference relying party. Tenancy: another organisation sees none of it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { freePort } from '../test-support/ports.ts';
import { Browser, csrfOf } from '../test-support/browser.ts';
import { registerClient } from '../identity/index.ts';
import { createApiToken, createOrganisation } from '../onboarding/index.ts';
import { createReferenceRp } from '../../examples/reference-rp/rp.ts';
import { main } from '../cli/main.ts';

const PLAN = ['login-p9', 'wrong-nonce'];

describe('conformance entry points (sqlite)', () => {
  let app: TestApp & { origin: string };
  let rp: FastifyInstance;
  let rpUrl: string;
  let clientId: string;
  let orgId: string;
  before(async () => {
    app = await startListeningApp('sqlite');
    const port = await freePort();
    rpUrl = `http://localhost:${port}`;
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    orgId = (await createOrganisation(app.database.db, 'owner', { name: 'Owner Ltd' })).id;
    const client = await registerClient(app.database.db, {
      env: 'sandpit',
      organisationId: orgId,
      name: 'Reference',
      redirectUris: [`${rpUrl}/callback`],
      scopes: ['openid', 'profile'],
      vtr: ['P9.Cp.Cd'],
      publicKeyPem: keys.publicKey,
    });
    clientId = client.clientId;
    rp = await createReferenceRp({
      issuer: `${app.origin}/sandpit`,
      clientId,
      privateKeyPem: keys.privateKey,
      redirectUri: `${rpUrl}/callback`,
      scope: 'openid profile',
      vtr: ['P9.Cp.Cd'],
      allowHttp: true,
    });
    await rp.listen({ port, host: '127.0.0.1' });
  });
  after(async () => {
    await rp.close();
    await app.stop();
  });

  test('CLI: progress on the terminal, exit 0 when all pass, JUnit and signed report files, verify', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-cli-'));
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    // The CLI is another process in real use: it shares only the database and the server's public URL.
    const env = { DATABASE_URL: `sqlite:${(app.config.database as { file: string }).file}`, PUBLIC_URL: app.origin, LOG_LEVEL: 'silent' };
    const args = [
      'conformance',
      'run',
      '--client',
      clientId,
      '--start-url',
      rpUrl,
      '--junit',
      path.join(dir, 'junit.xml'),
      '--report',
      path.join(dir, 'report.jws'),
    ];
    const code = await main([...args, ...PLAN.flatMap((t) => ['--only', t])], io, env);
    assert.equal(code, 0, out.join('\n'));
    assert.ok(out.some((l) => /PASS {2}wrong-nonce/.test(l)), out.join('\n'));
    assert.match(fs.readFileSync(path.join(dir, 'junit.xml'), 'utf8'), /tests="2" failures="0"/);
    out.length = 0;
    assert.equal(await main(['conformance', 'verify', path.join(dir, 'report.jws')], io, env), 0, out.join('\n'));
    fs.writeFileSync(path.join(dir, 'forged.jws'), fs.readFileSync(path.join(dir, 'report.jws'), 'utf8').replace(/\.[^.]+$/, '.AAAA'));
    assert.equal(await main(['conformance', 'verify', path.join(dir, 'forged.jws')], io, env), 1);
    assert.equal(
      await main(['conformance', 'run', '--client', clientId, '--start-url', rpUrl, '--only', 'nope'], io, env),
      2,
      'an unknown test is a usage error',
    );
  });

  test('CLI through the API (--url, TOOLKIT_TOKEN): no database of its own, each test printed, JUnit and report, verify', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-remote-'));
    const { token } = await createApiToken(app.database.db, orgId, 'owner', 'remote-ci');
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    // A partner's CI: the toolkit's address and a token, nothing of its configuration or database.
    const env = { TOOLKIT_TOKEN: token, DATABASE_URL: 'sqlite:/nonexistent/dir/never-opened.sqlite' };
    const files = ['--junit', path.join(dir, 'junit.xml'), '--report', path.join(dir, 'report.jws')];
    const args = ['conformance', 'run', '--url', app.origin, '--client', clientId, '--start-url', rpUrl, ...files];
    const code = await main([...args, '--only', PLAN.join(',')], io, env);
    assert.equal(code, 0, out.join('\n'));
    assert.ok(out.some((l) => /PASS {2}login-p9/.test(l)) && out.some((l) => /PASS {2}wrong-nonce/.test(l)), out.join('\n'));
    assert.match(out.at(-1)!, /^Passed: 2 of 2 tests passed\.$/);
    assert.match(fs.readFileSync(path.join(dir, 'junit.xml'), 'utf8'), /tests="2" failures="0"/);
    out.length = 0;
    assert.equal(await main(['conformance', 'verify', path.join(dir, 'report.jws'), '--url', app.origin], io, {}), 0, out.join('\n'));
    assert.match(out[0]!, /^Valid: run [\w-]+ for client /);
  });

  test('CLI through the API: a refused token, another organisation\'s client and a dead address are one clear line each', async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    const run = (url: string, token: string) =>
      main(['conformance', 'run', '--url', url, '--client', clientId, '--start-url', rpUrl], io, { TOOLKIT_TOKEN: token });
    assert.equal(await run(app.origin, 'not-a-token'), 2);
    assert.match(out.at(-1)!, /^Error: the toolkit refused the API token \(TOOLKIT_TOKEN\)/);
    const other = await createApiToken(app.database.db, (await createOrganisation(app.database.db, 'o2', { name: 'O2' })).id, 'o2', 'ci');
    assert.equal(await run(app.origin, other.token), 1);
    assert.match(out.at(-1)!, /^Error: There is no such client in your organisation$/);
    assert.equal(await run(`http://127.0.0.1:${await freePort()}`, other.token), 1);
    assert.match(out.at(-1)!, /^Error: no toolkit answers at http:\/\/127\.0\.0\.1:\d+ \(--url or TOOLKIT_URL\)/);
    assert.equal(await run('ftp://x', other.token), 2);
    assert.equal(await main(['conformance', 'run', '--token', 't', '--client', clientId], io, {}), 2);
    assert.match(out.at(-1)!, /--token needs --url/);
  });

  test('CLI on this machine: a server that does not answer, or is on another database, is named before any test runs', async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    const ownDb = `sqlite:${(app.config.database as { file: string }).file}`;
    const run = ['conformance', 'run', '--client', clientId, '--start-url', rpUrl, '--only', 'login-p9'];
    const dead = `http://localhost:${await freePort()}`;
    assert.equal(await main(run, io, { DATABASE_URL: ownDb, PUBLIC_URL: dead, LOG_LEVEL: 'silent' }), 1);
    assert.match(out.at(-1)!, /^Error: no toolkit answers at http:\/\/localhost:\d+\/sandpit .*set PUBLIC_URL \(or PORT\)/);
    // Another database, with a client of its own, and the running server's address: not the server's database.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-otherdb-'));
    const otherDb = { DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, PUBLIC_URL: app.origin, LOG_LEVEL: 'silent' };
    await main(['keys', 'generate', '--out', dir], io, otherDb);
    out.length = 0;
    const created = ['clients', 'create', '--env', 'sandpit', '--name', 'Elsewhere', '--redirect-uri', `${rpUrl}/callback`];
    assert.equal(await main([...created, '--public-key', path.join(dir, 'public.pem')], io, otherDb), 0, out.join('\n'));
    const elsewhere = out[0]!;
    const there = ['conformance', 'run', '--client', elsewhere, '--start-url', rpUrl, '--only', 'login-p9'];
    assert.equal(await main(there, io, otherDb), 1);
    assert.match(out.at(-1)!, /^Error: the toolkit at http:\S+\/sandpit is not on this database \(DATABASE_URL\)/);
  });

  test('API: start a run, poll it, fetch the signed report and JUnit; another organisation sees nothing', async () => {
    const { token } = await createApiToken(app.database.db, orgId, 'owner', 'ci');
    const other = await createApiToken(
      app.database.db,
      (await createOrganisation(app.database.db, 'other', { name: 'Other' })).id,
      'other',
      'ci',
    );
    const call = async (t: string, method: string, p: string, body?: unknown) => {
      const res = await app.fetch(`${app.origin}/api/v1${p}`, {
        method,
        headers: { authorization: `Bearer ${t}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
    };
    assert.equal((await call(token, 'POST', `/clients/${clientId}/conformance-runs`, { start_url: 'ftp://nowhere' })).status, 400);
    // start_urls: an object of test ids to URLs, and only for a test issuer's tests.
    for (const [startUrls, code, field] of [
      ['https://x.example/', 'invalid_request', 'start_urls'], [['https://x.example/'], 'invalid_request', 'start_urls'],
      [{ 'login-p9': 'https://x.example/' }, 'invalid_start_url', 'start_urls'], [{ 'Bad Id': 'x' }, 'invalid_request', 'start_urls'],
      [{ 'jwks-unparseable-key': ['x'] }, 'invalid_request', 'start_urls.jwks-unparseable-key'],
    ] as const) {
      const refused = await call(token, 'POST', `/clients/${clientId}/conformance-runs`, { start_url: rpUrl, start_urls: startUrls });
      assert.equal(refused.status, 400, refused.text);
      assert.deepEqual(((({ error, field }) => ({ error, field }))(JSON.parse(refused.text))), { error: code, field }, refused.text);
    }
    const client = JSON.parse((await call(token, 'GET', `/clients/${clientId}`)).text) as { test_issuers: Record<string, string> };
    assert.deepEqual(Object.keys(client.test_issuers), ['jwks-unparseable-key', 'discovery-issuer-mismatch']);
    assert.equal(client.test_issuers['discovery-issuer-mismatch'], `${app.origin}/sandpit/test-issuers/${clientId}/issuer-mismatch`);
    assert.equal(
      (await call(other.token, 'POST', `/clients/${clientId}/conformance-runs`, { start_url: rpUrl })).status,
      404,
      "not another organisation's client",
    );
    const started = await call(token, 'POST', `/clients/${clientId}/conformance-runs`, { start_url: rpUrl, only: PLAN });
    assert.equal(started.status, 202, started.text);
    const { id } = JSON.parse(started.text) as { id: string };
    await app.conformance.idle();
    const run = JSON.parse((await call(token, 'GET', `/conformance-runs/${id}`)).text) as { status: string; summary: { passed: number } };
    assert.deepEqual([run.status, run.summary.passed], ['passed', 2]);
    const jws = await call(token, 'GET', `/conformance-runs/${id}/report.jws`);
    assert.match(jws.type, /application\/jose/);
    const keys = JSON.parse((await app.fetch(`${app.origin}/api/v1/conformance/jwks.json`).then((r) => r.text()))) as { keys: unknown[] };
    const { compactVerify, createLocalJWKSet } = await import('jose');
    const { payload } = await compactVerify(jws.text, createLocalJWKSet(keys as never));
    assert.equal(JSON.parse(new TextDecoder().decode(payload)).run.id, id, 'verifiable with the published keys');
    assert.match((await call(token, 'GET', `/conformance-runs/${id}/report.xml`)).text, /<testsuites/);
    assert.equal((await call(other.token, 'GET', `/conformance-runs/${id}`)).status, 404);
    assert.equal((await call(other.token, 'GET', `/conformance-runs/${id}/report.jws`)).status, 404);
  });

  test('portal: start from the client page, watch the run, download the report; tenancy', async () => {
    const { partnerIn } = await import('../test-support/partner.ts');
    const b = await partnerIn(app, orgId, 'owner-dev@example.org');
    const clientPage = `/portal/organisations/${orgId}/clients/${clientId}`;
    let page = await b.get(clientPage);
    assert.match(page.text, /Run the conformance tests/);
    page = await b.post(`${clientPage}/conformance`, new URLSearchParams({ _csrf: csrfOf(page), start_url: 'not a url' }));
    assert.match(page.text, /Give the start URL of your service/);
    page = await b.post(
      `${clientPage}/conformance`,
      new URLSearchParams({ _csrf: csrfOf(await b.get(clientPage)), start_url: rpUrl, only: PLAN.join(' ') }),
    );
    const runPath = new URL(page.url).pathname;
    assert.match(runPath, /\/conformance\/[\w-]+$/);
    assert.match(page.text, /http-equiv="refresh"/, 'refreshes itself while running (no JavaScript needed)');
    await app.conformance.idle();
    page = await b.get(runPath);
    assert.match(page.text, /data-status="(passed|failed)"/);
    assert.doesNotMatch(page.text, /http-equiv="refresh"/);
    assert.equal((await b.get(`${runPath}/report.jws`)).status, 200);
    assert.equal((await b.get(`${runPath}/screenshots/login-p9.png`)).status, 200);
    const stranger = new Browser(app.fetch, app.origin);
    assert.ok((await stranger.get(runPath)).url.endsWith('/portal/sign-in'), 'signed-out visitors are sent to sign in');
  });
});
