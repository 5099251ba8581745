/** The CLI as a client of a running toolkit's API (--url, TOOLKIT_TOKEN): a partner's clients, from another machine. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { createApiToken, createOrganisation } from '../onboarding/index.ts';
import { main } from './main.ts';

describe('CLI clients through the API (sqlite)', () => {
  let app: TestApp & { origin: string };
  let dir: string;
  let env: Record<string, string>;
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
  };
  before(async () => {
    app = await startListeningApp('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-remote-'));
    const org = await createOrganisation(app.database.db, 'remote-owner', { name: 'Remote Ltd' });
    // No DATABASE_URL: only the toolkit's address and the organisation's token.
    env = { TOOLKIT_URL: app.origin, TOOLKIT_TOKEN: (await createApiToken(app.database.db, org.id, 'remote-owner', 'ci')).token };
    await main(['keys', 'generate', '--out', dir], capture().io, {});
  });
  after(async () => {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('clients create registers a sandpit client for the token\'s organisation and prints its client_id alone', async () => {
    const c = capture();
    const args = ['clients', 'create', '--name', 'From CI', '--redirect-uri', 'http://localhost:8080/callback'];
    assert.equal(await main([...args, '--public-key', path.join(dir, 'public.pem')], c.io, env), 0, c.err.join('\n'));
    assert.match(c.out[0]!, /^[\w-]{10,}$/);
    const listed = capture();
    assert.equal(await main(['clients', 'list'], listed.io, env), 0);
    assert.match(listed.out.join('\n'), new RegExp(`sandpit +${c.out[0]}  From CI  \\[P9\\.Cp\\.Cd\\]`));
    const shown = capture();
    assert.equal(await main(['clients', 'show', c.out[0]!, '--json'], shown.io, env), 0);
    assert.equal(JSON.parse(shown.out[0]!).discovery, `${app.origin}/sandpit/.well-known/openid-configuration`);
  });

  test('a registration the toolkit refuses is its error code\'s line and exit status', async () => {
    const c = capture();
    const args = ['clients', 'create', '--name', 'Bad', '--redirect-uri', 'not a url', '--public-key', path.join(dir, 'public.pem')];
    assert.equal(await main([...args, '--json'], c.io, env), 1);
    assert.equal(JSON.parse(c.err[0]!).error, 'invalid_redirect_uri');
  });

  test("another organisation's client is not found; the operator's commands refuse --url", async () => {
    const c = capture();
    assert.equal(await main(['clients', 'show', 'someone-elses'], c.io, env), 1);
    assert.match(c.err[0]!, /^Error: There is no such client in your organisation$/);
    assert.equal(await main(['clients', 'sso', 'x', '--env', 'sandpit', '--url', app.origin], c.io, {}), 2);
    assert.match(c.err.at(-1)!, /"clients sso" runs on the toolkit's own machine/);
  });

  test('faults arm a sequence in order, show what is armed, and clear it', async () => {
    const made = capture();
    const args = ['clients', 'create', '--name', 'Faulty', '--redirect-uri', 'http://localhost:8080/callback'];
    assert.equal(await main([...args, '--public-key', path.join(dir, 'public.pem')], made.io, env), 0, made.err.join('\n'));
    const id = made.out[0]!;
    const armed = capture();
    const faults = ['--fault', 'token_temporarily_unavailable', '--fault', 'token_latency:30s:15000ms', '--fault', 'pass:cleared'];
    assert.equal(await main(['faults', 'arm', id, ...faults], armed.io, env), 0, armed.err.join('\n'));
    assert.match(armed.out[0]!, /^ 1\. applies +fired 0 +1 responses +token_temporarily_unavailable$/);
    assert.match(armed.out[1]!, /^ 2\. waiting +fired 0 +30 s +token_latency 15000 ms$/);
    assert.match(armed.out[2]!, /^ 3\. waiting +fired 0 +until cleared +pass$/);
    const json = capture();
    assert.equal(await main(['faults', 'show', id, '--json'], json.io, env), 0);
    assert.equal(JSON.parse(json.out[0]!).steps.length, 3);
    const cleared = capture();
    assert.equal(await main(['faults', 'clear', id], cleared.io, env), 0);
    assert.equal(await main(['faults', 'show', id], cleared.io, env), 0);
    assert.deepEqual(cleared.out, ['Faults cleared.', 'No faults armed.']);
  });

  test('a fault the toolkit refuses names its step; a malformed --fault or no --url is a usage error', async () => {
    const c = capture();
    assert.equal(await main(['faults', 'arm', 'x', '--fault', 'pass:cleared', '--fault', 'pass', '--json'], c.io, env), 1);
    assert.equal(JSON.parse(c.err[0]!).error, 'not_found');
    const made = capture();
    const args = ['clients', 'create', '--name', 'Refused', '--redirect-uri', 'http://localhost:8080/callback'];
    await main([...args, '--public-key', path.join(dir, 'public.pem')], made.io, env);
    const refused = capture();
    assert.equal(await main(['faults', 'arm', made.out[0]!, '--fault', 'token_latency', '--json'], refused.io, env), 1);
    assert.deepEqual(JSON.parse(refused.err[0]!), { error: 'invalid_fault', message: 'Enter the delay in milliseconds, from 1 to 30000',
      field: 'steps.1.ms' });
    for (const bad of ['pass:1:2', 'pass:soon', ':1', 'token_latency:1:5ms:6ms']) {
      assert.equal(await main(['faults', 'arm', made.out[0]!, '--fault', bad], refused.io, env), 2, bad);
    }
    assert.equal(await main(['faults', 'show', made.out[0]!], refused.io, {}), 2);
    assert.match(refused.err.at(-1)!, /"faults show" talks to a running toolkit: give --url/);
  });
});

describe('CLI test users through the API (sqlite)', () => {
  let app: TestApp & { origin: string };
  let env: Record<string, string>;
  const run = async (args: string[], variables = env) => {
    const out: string[] = [];
    const err: string[] = [];
    const status = await main(args, { out: (t) => out.push(t), err: (t) => err.push(t) }, variables);
    return { status, out, err };
  };
  before(async () => {
    app = await startListeningApp('sqlite');
    const org = await createOrganisation(app.database.db, 'seeder', { name: 'Seeding Ltd' });
    env = { TOOLKIT_URL: app.origin, TOOLKIT_TOKEN: (await createApiToken(app.database.db, org.id, 'seeder', 'ci')).token };
  });
  after(() => app.stop());

  test('create makes a sandpit user with one\'s own details and prints its email; list shows it; delete removes it', async () => {
    const own = ['--nhs-number', '9990000018', '--given-name', 'Ada', '--family-name', 'Lovelace', '--birthdate', '1985-12-10',
      '--email', 'ada@seeding.example', '--level', 'P5'];
    const made = await run(['test-users', 'create', ...own]);
    assert.deepEqual([made.status, made.out], [0, ['ada@seeding.example']], made.err.join('\n'));
    const listed = await run(['test-users', 'list', '--json']);
    const [user] = JSON.parse(listed.out[0]!) as { id: string; env: string; level: string; given_name: string }[];
    assert.deepEqual([user?.env, user?.level, user?.given_name], ['sandpit', 'P5', 'Ada']);
    const line = (await run(['test-users', 'list'])).out[0]!;
    assert.match(line, /^sandpit +[0-9a-f]{32} {2}P5 {2}9990000018 {2}Ada Lovelace {2}ada@seeding\.example$/);
    assert.deepEqual((await run(['test-users', 'delete', user!.id])).out, ['Test user deleted.']);
    assert.deepEqual((await run(['test-users', 'list'])).out, ['No test users.']);
  });

  test('details the toolkit refuses are its error code and field; a missing NHS number or --url is a usage error', async () => {
    const bad = await run(['test-users', 'create', '--nhs-number', '9990000018', '--given-name', 'Ada', '--family-name', 'L', '--json']);
    assert.equal(bad.status, 1);
    assert.deepEqual([JSON.parse(bad.err[0]!).error, JSON.parse(bad.err[0]!).field], ['invalid_test_user', 'birthdate']);
    const live = await run(['test-users', 'create', '--nhs-number', '9686368973', '--env', 'live', '--json']);
    assert.deepEqual([live.status, JSON.parse(live.err[0]!).field], [1, 'env']);
    assert.equal((await run(['test-users', 'create'])).status, 2);
    assert.equal((await run(['test-users', 'delete', 'nobody'])).status, 1);
    const local = await run(['test-users', 'list'], {});
    assert.equal(local.status, 2);
    assert.match(local.err[0]!, /"test-users list" talks to a running toolkit: give --url/);
  });
});
