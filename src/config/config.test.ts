import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from './index.ts';

test('defaults: port 3000, localhost public URL, SQLite under ./data, three issuers', () => {
  const c = loadConfig({}, '/srv/toolkit');
  assert.equal(c.port, 3000);
  assert.equal(c.publicUrl, 'http://localhost:3000');
  assert.deepEqual(c.database, { kind: 'sqlite', file: '/srv/toolkit/data/toolkit.db' });
  assert.deepEqual(
    c.environments.map((e) => e.issuer),
    ['http://localhost:3000/sandpit', 'http://localhost:3000/integration', 'http://localhost:3000/live'],
  );
});

test('an issuer on its own host is routed by host', () => {
  const c = loadConfig({ SANDPIT_ISSUER: 'https://auth.sandpit.example.org', DATABASE_URL: 'postgres://u@db/toolkit' });
  const s = c.environments[0]!;
  assert.equal(s.issuer, 'https://auth.sandpit.example.org');
  assert.equal(s.mountPath, '');
  assert.equal(s.hostRouted, true);
  assert.equal(c.database.kind, 'postgres');
});

test('bad values are refused with the variable named', () => {
  const bad: [Record<string, string>, string][] = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PUBLIC_URL: 'localhost:3000' }, 'PUBLIC_URL'],
    [{ PUBLIC_URL: 'http://x.org/app' }, 'PUBLIC_URL'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ SMTP_URL: 'mail.example.org:25' }, 'SMTP_URL'],
    [{ LIVE_ISSUER: 'http://localhost:3000/sandpit' }, 'LIVE_ISSUER'],
    [{ TRUST_PROXY: 'yes' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '0' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.1, proxy.example.org' }, 'TRUST_PROXY'],
    [{ METRICS_PORT: 'nine' }, 'METRICS_PORT'],
    [{ PORT: '8080', METRICS_PORT: '8080' }, 'METRICS_PORT'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    [{ METRICS_TOKEN: 'thirty-two characters but spaces in it' }, 'METRICS_TOKEN'],
  ];
  for (const [env, variable] of bad) {
    assert.throws(() => loadConfig(env), (e: ConfigError) => e instanceof ConfigError && e.variable === variable, variable);
  }
});

test('TRUST_PROXY: off by default; true or a list of proxies; a hop count is refused with the reason', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
  assert.throws(
    () => loadConfig({ TRUST_PROXY: '2' }),
    (e: ConfigError) => e.variable === 'TRUST_PROXY' && /cannot check that requests come through your proxy/.test(e.message),
  );
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).trustProxy, ['10.0.0.0/8', '::1']);
});

test('metrics: no listener and no token by default; a listener on 127.0.0.1 unless METRICS_HOST', () => {
  assert.deepEqual(loadConfig({}).metrics, { port: undefined, host: '127.0.0.1', token: undefined });
  assert.deepEqual(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics, {
    port: 9464,
    host: '0.0.0.0',
    token: undefined,
  });
  assert.equal(loadConfig({ METRICS_TOKEN: 'f'.repeat(64) }).metrics.token, 'f'.repeat(64));
});

test('CONFORMANCE_ALLOW_LOOPBACK: on by default for a toolkit on loopback, off for a hosted one; true or false', () => {
  assert.equal(loadConfig({}).conformanceAllowLoopback, true);
  assert.equal(loadConfig({ PUBLIC_URL: 'http://127.0.0.1:3000' }).conformanceAllowLoopback, true);
  assert.equal(loadConfig({ PUBLIC_URL: 'https://toolkit.example.org' }).conformanceAllowLoopback, false);
  const hosted = { PUBLIC_URL: 'https://toolkit.example.org' };
  assert.equal(loadConfig({ ...hosted, CONFORMANCE_ALLOW_LOOPBACK: 'true' }).conformanceAllowLoopback, true);
  assert.equal(loadConfig({ CONFORMANCE_ALLOW_LOOPBACK: 'false' }).conformanceAllowLoopback, false);
  assert.throws(() => loadConfig({ CONFORMANCE_ALLOW_LOOPBACK: 'yes' }), (e: ConfigError) => e.variable === 'CONFORMANCE_ALLOW_LOOPBACK');
});

test('the local mailbox: only without SMTP_URL on a loopback PUBLIC_URL (localhost, 127.0.0.0/8, [::1])', () => {
  for (const url of [
    'http://localhost:3000',
    'http://127.0.0.1:3000',
    'http://127.8.9.10',
    'http://[::1]:3000',
    'http://[0:0:0:0:0:0:0:1]',
  ]) {
    assert.equal(loadConfig({ PUBLIC_URL: url }).localMailbox, true, url);
  }
  for (const url of [
    'https://toolkit.example.org',
    'http://192.168.1.20:3000',
    'http://localhost.example.org',
    'http://128.0.0.1',
    'http://[::2]',
  ]) {
    assert.equal(loadConfig({ PUBLIC_URL: url }).localMailbox, false, url);
  }
  assert.equal(loadConfig({ SMTP_URL: 'smtp://mail.example.org:25' }).localMailbox, false, 'mail is really sent: no mailbox');
});
