/** Where a conformance run's browser may go (browsing.ts), without a browser: names, addresses, paths, the setting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/index.ts';
import { ASSET_PREFIX, INIT_SCRIPT_PATH } from '../web/views.ts';
import type { Lookup } from '../security/outbound.ts';
import { ASSET_PATH, browsingPolicy } from './browsing.ts';

/** Names of the tests' own: an internal one, and one that resolves to loopback without being "localhost". */
const names: Record<string, string[]> = {
  'intranet.nhs.example': ['10.1.2.3'], 'mixed.example': ['10.1.2.3', '93.184.215.14'],
  'other-name.example': ['127.0.0.1'], localhost: ['127.0.0.1'],
};
const lookup: Lookup = async (host) => {
  const found = names[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const policy = (env: Record<string, string>) => browsingPolicy({ config: loadConfig(env), env: 'sandpit', lookup });
const laptop = (env: Record<string, string> = {}) => policy({ PUBLIC_URL: 'http://localhost:3000', ...env });
const hosted = (env: Record<string, string> = {}) => policy({ PUBLIC_URL: 'https://toolkit.example.org', PORT: '3000', ...env });
/** The reason, or "allowed", to match against. */
const why = async (p: ReturnType<typeof laptop>, url: string) => (await p.refusal(url)) ?? 'allowed';

test('on the toolkit, only the run\'s environment\'s protocol and journey pages and their assets may be opened', async () => {
  const p = laptop();
  const allowed = ['/sandpit/authorize?client_id=x', '/sandpit/interaction/abc/sign-in', '/sandpit/settings',
    '/sandpit/.well-known/jwks.json', '/sandpit/trustmark/svc.example', '/nhsuk-frontend/nhsuk/nhsuk-frontend.min.css',
    '/nhsuk-frontend-init.js'];
  for (const path of allowed) {
    assert.equal(await p.refusal(`http://localhost:3000${path}`), undefined, path);
  }
  const refused = ['/', '/console', '/console/sign-in', '/portal', '/api/v1/openapi.json', '/metrics', '/healthz', '/live/authorize',
    '/integration/settings', '/sandpit', '/sandpit/../console', '/sandpit/%2e%2e/metrics'];
  for (const path of refused) {
    assert.match(await why(p, `http://localhost:3000${path}`), /toolkit's own pages/, path);
  }
});

test('the toolkit is recognised by its listening address under any name, and by its public name however written', async () => {
  const p = laptop();
  assert.match(await why(p, 'http://127.0.0.1:3000/console'), /toolkit's own pages/);
  assert.match(await why(p, 'http://other-name.example:3000/metrics'), /toolkit's own pages/);
  assert.match(await why(p, 'http://localhost.:3000/metrics'), /toolkit's own pages/);
  const h = hosted();
  assert.match(await why(h, 'https://toolkit.example.org/console'), /toolkit's own pages/);
  assert.match(await why(h, 'https://TOOLKIT.example.org.:443/metrics'), /toolkit's own pages/);
  assert.equal(await h.refusal('https://toolkit.example.org/sandpit/authorize'), undefined, 'its own name, wherever it resolves');
});

test('loopback is allowed by default on a laptop toolkit only, and never the toolkit\'s own port', async () => {
  assert.equal(await laptop().refusal('http://localhost:8080/'), undefined);
  assert.match(await why(laptop({ CONFORMANCE_ALLOW_LOOPBACK: 'false' }), 'http://localhost:8080/'), /loopback/);
  assert.match(await why(hosted(), 'http://localhost:8080/'), /loopback/);
  assert.equal(await hosted({ CONFORMANCE_ALLOW_LOOPBACK: 'true' }).refusal('http://127.0.0.1:8080/'), undefined);
  assert.match(await why(hosted({ CONFORMANCE_ALLOW_LOOPBACK: 'true' }), 'http://127.0.0.1:3000/console'), /toolkit's own pages/);
});

test('private, link-local and metadata addresses are refused, by name after resolving it or as written', async () => {
  const p = laptop();
  assert.match(await why(p, 'https://intranet.nhs.example/'), /intranet\.nhs\.example: 10\.1\.2\.3 is not a public internet address/);
  assert.match(await why(p, 'http://169.254.169.254/latest/meta-data/'), /169\.254\.169\.254 is not a public/);
  assert.match(await why(p, 'http://[fd00::1]/'), /fd00::1 is not a public/);
  assert.match(await why(p, 'ftp://svc.example/'), /only http and https/);
  assert.equal(await p.refusal('https://unknown.example/'), undefined, 'a name that does not resolve cannot be reached: the proxy says so');
});

test('the toolkit\'s metrics listener is refused whatever the setting', async () => {
  assert.match(await why(laptop({ METRICS_PORT: '9464' }), 'http://localhost:9464/metrics'), /toolkit's own pages/);
  assert.match(
    await why(hosted({ METRICS_PORT: '9464', CONFORMANCE_ALLOW_LOOPBACK: 'true' }), 'http://127.0.0.1:9464/metrics'),
    /toolkit's own pages/,
  );
});

test('the toolkit\'s mail server is refused whatever the setting', async () => {
  assert.match(await why(laptop({ SMTP_URL: 'smtp://localhost:1025' }), 'http://localhost:1025/'), /mail server or database/);
});

test('each name is resolved once per run: a connection goes to the address that was checked (DNS rebinding)', async () => {
  const answers = [['127.0.0.1'], ['10.9.9.9']];
  const rebinding: Lookup = async () => answers.shift()!.map((address) => ({ address, family: 4 }));
  const p = browsingPolicy({ config: loadConfig({ PUBLIC_URL: 'http://localhost:3000' }), env: 'sandpit', lookup: rebinding });
  assert.equal(await p.refusal('http://rebind.example:8080/'), undefined);
  assert.deepEqual(await p.target('rebind.example', 8080, new URL('http://rebind.example:8080/next')), { address: '127.0.0.1', family: 4 });
  assert.equal(answers.length, 1, 'not resolved again');
});

test('a name with public and private addresses is reached at a public one; a tunnel never reaches the toolkit\'s socket', async () => {
  const p = laptop();
  assert.deepEqual(await p.target('mixed.example', 443), { address: '93.184.215.14', family: 4 });
  await assert.rejects(p.target('localhost', 3000), /toolkit's own pages/, 'no path is known in a tunnel');
  const journey = new URL('http://localhost:3000/sandpit/authorize');
  assert.deepEqual(await p.target('localhost', 3000, journey), { address: '127.0.0.1', family: 4 });
  await assert.rejects(p.target('localhost', 3000, new URL('http://localhost:3000/metrics')), /toolkit's own pages/);
});

test('the asset paths allowed are the ones the pages use (web/views.ts)', () => {
  assert.ok(ASSET_PATH.test(`${ASSET_PREFIX}/nhsuk/nhsuk-frontend.min.js`));
  assert.ok(ASSET_PATH.test(INIT_SCRIPT_PATH));
  assert.ok(!ASSET_PATH.test(`${ASSET_PREFIX}-other`));
});
