import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { main } from './main.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

test('keys generate, clients create/list/show through the CLI, with --json', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-cli-'));
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}` };
  let c = capture();
  assert.equal(await main(['keys', 'generate', '--out', path.join(dir, 'keys'), '--json'], c.io, env), 0);
  const files = JSON.parse(c.out[0]!) as { public_key: string };
  assert.match(fs.readFileSync(files.public_key, 'utf8'), /BEGIN PUBLIC KEY/);
  assert.equal(fs.statSync(path.join(dir, 'keys', 'private.pem')).mode & 0o777, 0o600);

  c = capture();
  const create = [
    'clients',
    'create',
    '--env',
    'sandpit',
    '--name',
    'My service',
    '--redirect-uri',
    'http://localhost:8080/callback',
    '--public-key',
    files.public_key,
    '--scope',
    'openid',
    '--scope',
    'profile',
    '--vtr',
    'P9.Cp.Cd',
    '--vtr',
    'P5.Cp.Cd',
  ];
  assert.equal(await main(create, c.io, env), 0);
  const clientId = c.out[0]!;
  assert.match(clientId, /^[0-9a-f]{32}$/);

  c = capture();
  assert.equal(await main(['clients', 'show', clientId, '--json'], c.io, env), 0);
  const shown = JSON.parse(c.out[0]!);
  assert.deepEqual(shown.vtr, ['P9.Cp.Cd', 'P5.Cp.Cd']);
  assert.deepEqual(shown.scopes, ['openid', 'profile']);
  assert.equal(shown.users_v2, false, 'not approved for Users Endpoint V2 until the team says so');

  c = capture();
  assert.equal(await main(['clients', 'list', '--json'], c.io, env), 0);
  assert.equal(JSON.parse(c.out[0]!).length, 1);

  // Integration refuses http://localhost; the error names the field.
  c = capture();
  assert.equal(await main([...create.slice(0, 3), 'integration', ...create.slice(4), '--json'], c.io, env), 1);
  assert.equal(JSON.parse(c.err[0]!).error, 'invalid_redirect_uri');

  c = capture();
  assert.equal(await main(['clients', 'create', '--env', 'nowhere', '--name', 'x'], c.io, env), 2);
  assert.match(c.err[0]!, /--env must be one of sandpit, integration, live/);
});

test('clients sso sets the pairs (audited); keys rotate publishes then switches, and says when it cannot', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-cli-'));
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}` };
  let c = capture();
  await main(['keys', 'generate', '--out', path.join(dir, 'keys'), '--json'], c.io, env);
  const pub = path.join(dir, 'keys', 'public.pem');
  const ids: string[] = [];
  for (const name of ['First', 'Second']) {
    c = capture();
    assert.equal(
      await main(
        ['clients', 'create', '--env', 'sandpit', '--name', name, '--redirect-uri', 'https://rp.example.org/cb', '--public-key', pub],
        c.io,
        env,
      ),
      0,
    );
    ids.push(c.out[0]!);
  }
  c = capture();
  assert.equal(await main(['clients', 'sso', ids[0]!, '--env', 'sandpit', '--to', ids[1]!, '--json'], c.io, env), 0);
  assert.deepEqual(JSON.parse(c.out[0]!).sso_to, [ids[1]]);
  c = capture();
  assert.equal(await main(['clients', 'sso', ids[0]!, '--env', 'sandpit', '--to', 'nobody', '--json'], c.io, env), 1);
  assert.match(JSON.parse(c.err[0]!).message, /no client "nobody"/);
  c = capture();
  await main(['clients', 'show', ids[0]!, '--json'], c.io, env);
  assert.deepEqual(JSON.parse(c.out[0]!).sso_to, [ids[1]], 'the refused change left the pairs as they were');
  c = capture();
  await main(['audit', 'export'], c.io, env);
  assert.match(c.out.join(''), /client\.sso_pairs/);
  c = capture();
  assert.equal(await main(['audit', 'verify', '--json'], c.io, env), 0);
  const { head } = JSON.parse(c.out[0]!) as { head: string };
  c = capture();
  assert.equal(await main(['audit', 'verify', '--head', head], c.io, env), 0);
  assert.match(c.out[0]!, /Audit trail intact: \d+ entries\. Head: /);
  c = capture();
  assert.equal(await main(['audit', 'verify', '--head', `99${head}`], c.io, env), 1, 'a head the trail does not reach');
  assert.match(c.out[0]!, /AUDIT TRAIL BROKEN/);

  c = capture();
  assert.equal(await main(['keys', 'rotate', '--env', 'sandpit', '--step', 'switch', '--json'], c.io, env), 1);
  assert.equal(JSON.parse(c.err[0]!).error, 'no_next_key');
  c = capture();
  assert.equal(await main(['keys', 'rotate', '--env', 'sandpit', '--step', 'publish', '--json'], c.io, env), 0);
  const { kid } = JSON.parse(c.out[0]!) as { kid: string };
  c = capture();
  assert.equal(await main(['keys', 'rotate', '--env', 'sandpit', '--step', 'switch', '--json'], c.io, env), 0);
  assert.equal(JSON.parse(c.out[0]!).kid, kid);
  c = capture();
  assert.equal(
    await main(['keys', 'rotate', '--env', 'sandpit', '--step', 'retire', '--json'], c.io, env),
    1,
    'too early: tokens it signed may be valid',
  );
  assert.match(JSON.parse(c.err[0]!).message, /may still be valid: remove it after/);
  const { openDatabase } = await import('../storage/index.ts');
  const database = await openDatabase({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') });
  await database.db.updateTable('signing_key').set({ changed_at: Date.now() - 61 * 60 * 1000 }).where('state', '=', 'retired').execute();
  await database.close();
  c = capture();
  assert.equal(await main(['keys', 'rotate', '--env', 'sandpit', '--step', 'retire', '--json'], c.io, env), 0);
});

test('the toolkit bin runs on Node 24 and prints usage', () => {
  const out = execFileSync(process.execPath, [path.join(import.meta.dirname, '..', '..', 'bin', 'toolkit.js'), '--help'], {
    encoding: 'utf8',
  });
  assert.match(out, /toolkit clients create/);
});

test('the toolkit bin exits with its command\'s status after closing the database (0, then 1 for an unknown client)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-cli-exit-'));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(import.meta.dirname, '..', '..', 'bin', 'toolkit.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}` },
    });
  const list = run('clients', 'list');
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /No clients registered/);
  const show = run('clients', 'show', 'no-such-client');
  assert.equal(show.status, 1, show.stderr);
  assert.doesNotMatch(show.stderr, /unsettled top-level await/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('--only takes a comma list or repeats; a stray second value is refused, never dropped', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-cli-only-'));
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, LOG_LEVEL: 'silent' };
  let c = capture();
  await main(['keys', 'generate', '--out', path.join(dir, 'keys')], c.io, env);
  c = capture();
  await main(
    [
      'clients',
      'create',
      '--env',
      'sandpit',
      '--name',
      'Only',
      '--redirect-uri',
      'http://localhost:8080/callback',
      '--public-key',
      path.join(dir, 'keys', 'public.pem'),
    ],
    c.io,
    env,
  );
  const run = ['conformance', 'run', '--client', c.out[0]!, '--start-url', 'http://localhost:8080/'];
  // Unknown ids stop the run before it starts, and the refusal lists the ids as the CLI understood them.
  c = capture();
  assert.equal(await main([...run, '--only', 'nope-a,nope-b'], c.io, env), 2);
  assert.match(c.err[0]!, /Unknown tests nope-a, nope-b:/);
  c = capture();
  assert.equal(await main([...run, '--only', 'nope-a', '--only', 'nope-b'], c.io, env), 2);
  assert.match(c.err[0]!, /Unknown tests nope-a, nope-b:/);
  c = capture();
  assert.equal(await main([...run, '--only', 'login-p9', 'settings-link'], c.io, env), 2);
  assert.match(c.err[0]!, /unexpected argument "settings-link".*--only a --only b.*--only a,b/);
  // A test issuer's test needs the start URL of a service configured with it; the flag needs TEST=URL.
  c = capture();
  assert.equal(await main([...run, '--only', 'discovery-issuer-mismatch'], c.io, env), 2);
  assert.match(c.err[0]!, /discovery-issuer-mismatch needs the start URL of your service configured with its test issuer/);
  c = capture();
  assert.equal(await main([...run, '--start-url-for', 'https://svc.example/'], c.io, env), 2);
  assert.match(c.err[0]!, /--start-url-for needs TEST=URL/);
  c = capture();
  assert.equal(await main([...run, '--start-url-for', 'login-p9=http://localhost:8081/'], c.io, env), 2);
  assert.match(c.err[0]!, /A start URL of its own is for a test issuer's tests only, not login-p9/);
});

test('keys generate without --out writes nothing and says --out is required', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-cli-keys-'));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const c = capture();
    assert.equal(await main(['keys', 'generate'], c.io, {}), 2);
    assert.match(c.err[0]!, /--out DIR is required/);
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    process.chdir(cwd);
  }
});

test('clients create --organisation (id or name) makes a client the partner sees; without it the output says whose it is', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-cli-org-'));
  const env = { DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}` };
  let c = capture();
  await main(['keys', 'generate', '--out', path.join(dir, 'keys')], c.io, env);
  const { openDatabase, listClients } = await import('../storage/index.ts');
  const { createOrganisation } = await import('../onboarding/index.ts');
  const database = await openDatabase({ kind: 'sqlite', file: path.join(dir, 'db.sqlite') });
  try {
    const org = await createOrganisation(database.db, 'someone', { name: 'Gateway Health' });
    const create = [
      'clients',
      'create',
      '--env',
      'sandpit',
      '--name',
      'Svc',
      '--redirect-uri',
      'http://localhost:8080/callback',
      '--public-key',
      path.join(dir, 'keys', 'public.pem'),
    ];
    c = capture();
    assert.equal(await main([...create, '--organisation', 'Gateway Health'], c.io, env), 0);
    assert.match(c.err[0]!, /Registered for Gateway Health/);
    c = capture();
    assert.equal(await main([...create, '--organisation', org.id, '--json'], c.io, env), 0);
    assert.equal(JSON.parse(c.out[0]!).organisation_id, org.id);
    assert.equal((await listClients(database.db, 'sandpit', org.id)).length, 2, 'both are the organisation\'s (the portal lists these)');
    c = capture();
    assert.equal(await main([...create, '--organisation', 'Nobody Ltd'], c.io, env), 1);
    assert.match(c.err[0]!, /no organisation with the id or name "Nobody Ltd"/);
    c = capture();
    assert.equal(await main(create, c.io, env), 0);
    assert.match(c.out[0]!, /^[0-9a-f]{32}$/, 'stdout is still the client_id alone');
    assert.match(c.err[0]!, /belongs to no organisation: it is yours \(the operator's\).*--organisation/);
  } finally {
    await database.close();
  }
});

/** PATH without any node_modules/.bin: what a partner's shell has, outside the toolkit's npm scripts. */
const systemPath = () => (process.env.PATH ?? '').split(path.delimiter).filter((p) => !p.includes('node_modules')).join(path.delimiter);
const ROOT = path.join(import.meta.dirname, '..', '..');

test('from another directory, `npm exec --prefix TOOLKIT -- toolkit` runs (on the toolkit\'s Node 24) without EBADENGINE warnings', (t) => {
  const npm = spawnSync('npm', ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: systemPath() } });
  if (npm.status !== 0) return t.skip('no npm on the system PATH');
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'partner-project-'));
  const env = { ...process.env, PATH: systemPath(), npm_config_cache: path.join(elsewhere, '.npm'), npm_config_update_notifier: 'false' };
  const run = spawnSync('npm', ['exec', '--prefix', ROOT, '--', 'toolkit', '--help'], { cwd: elsewhere, encoding: 'utf8', env });
  t.diagnostic(`system node ${spawnSync('node', ['--version'], { encoding: 'utf8', env }).stdout.trim()}, npm ${npm.stdout.trim()}`);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /toolkit clients create/);
  assert.doesNotMatch(run.stderr, /EBADENGINE/);
  fs.rmSync(elsewhere, { recursive: true, force: true });
});

test("the bin started by an older Node runs itself on the toolkit's Node 24", (t) => {
  const older = spawnSync('node', ['-p', 'process.versions.node.split(".")[0]'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: systemPath() },
  });
  if (older.status !== 0 || Number(older.stdout) >= 24) return t.skip('no Node older than 24 on the system PATH');
  const run = spawnSync('node', [path.join(ROOT, 'bin', 'toolkit.js'), '--help'], {
    cwd: os.tmpdir(),
    encoding: 'utf8',
    env: { ...process.env, PATH: systemPath() },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /toolkit clients create/);
});
