/** Where a conformance run's browser may go (browsing.ts), without a browser: names, addresses, paths, the setting. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/index.ts';
import { ASSET_PREFIX, INIT_SCRIPT_PATH } from '../web/views.ts';
import type { Lookup } from '../security/outbound.ts';
import { ASSET_PATH, browsingPolicy } from './browsing.ts';

/** Names of the tests' own: an internal one, and one that resolves to loopback without being "localhost". */
const names: Record<string, string[]> = { 'intranet.nhs.example': ['10.1.2.3'], 'mixed.example': ['10.1.2.3', '93.184.215.14'], 'other-name.example': ['127.0.0.1'], localhost: ['127.0.0.1'] };
const lookup: Lookup = async (host) => {
  const found = names[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const laptop = (env: Record<string, string> = {}) => browsingPolicy({ config: loadConfig({ PUBLIC_URL: 'http://localhost:3000', ...env }), env: 'sandpit', lookup });
const hosted = (env: Record<string, string> = {}) => browsingPolicy({ config: loadConfig({ PUBLIC_URL: 'https://toolkit.example.org', PORT: '3000', ...env }), env: 'sandpit', lookup });

test('on the toolkit, only the run\'s environment\'s protocol and journey pages and their assets may be opened', async () => {
  const p = laptop();
  for (const path of ['/sandpit/authorize?client_id=x', '/sandpit/interaction/abc/sign-in', '/sandpit/settings', '/sandpit/.well-known/jwks.json', '/sandpit/trustmark/svc.example', '/nhsuk-frontend/nhsuk/nhsuk-frontend.min.css', '/nhsuk-frontend-init.js']) {
    assert.equal(await p.refusal(`http://localhost:3000${path}`), undefined, path);
  }
  for (const path of ['/', '/console', '/console/sign-in', '/portal', '/api/v1/openapi.json', '/metrics', '/healthz', '/live/authorize', '/integration/settings', '/sandpit', '/sandpit/../console', '/sandpit/%2e%2e/metrics']) {
    assert.match((await p.refusal(`http://localhost:3000${path}`)) ?? 'allowed', /toolkit's own pages/, path);
  }
});

test('the toolkit is recognised by its listening address under any name, and by its public name however written', async () => {
  const p = laptop();
  assert.match((await p.refusal('http://127.0.0.1:3000/console')) ?? 'allowed', /toolkit's own pages/);
  assert.match((await p.refusal('http://other-name.example:3000/metrics')) ?? 'allowed', /toolkit's own pages/);
  assert.match((await p.refusal('http://localhost.:3000/metrics')) ?? 'allowed', /toolkit's own pages/);
  const h = hosted();
  assert.match((await h.refusal('https://toolkit.example.org/console')) ?? 'allowed', /toolkit's own pages/);
  assert.match((await h.refusal('https://TOOLKIT.example.org.:443/metrics')) ?? 'allowed', /toolkit's own pages/);
  assert.equal(await h.refusal('https://toolkit.example.org/sandpit/authorize'), undefined, 'its own name, wherever it resolves');
});

test('loopback is allowed by default on a laptop toolkit only, and never the toolkit\'s own port', async () => {
  assert.equal(await laptop().refusal('http://localhost:8080/'), undefined);
  assert.match((await laptop({ CONFORMANCE_ALLOW_LOOPBACK: 'false' }).refusal('http://localhost:8080/')) ?? 'allowed', /loopback/);
  assert.match((await hosted().refusal('http://localhost:8080/')) ?? 'allowed', /loopback/);
  assert.equal(await hosted({ CONFORMANCE_ALLOW_LOOPBACK: 'true' }).refusal('http://127.0.0.1:8080/'), undefined);
  assert.match((await hosted({ CONFORMANCE_ALLOW_LOOPBACK: 'true' }).refusal('http://127.0.0.1:3000/console')) ?? 'allowed', /toolkit's own pages/);
});

test('private, link-local and metadata addresses are refused, by name after resolving it or as written', async () => {
  const p = laptop();
  assert.match((await p.refusal('https://intranet.nhs.example/')) ?? 'allowed', /intranet\.nhs\.example: 10\.1\.2\.3 is not a public internet address/);
  assert.match((await p.refusal('http://169.254.169.254/latest/meta-data/')) ?? 'allowed', /169\.254\.169\.254 is not a public/);
  assert.match((await p.refusal('http://[fd00::1]/')) ?? 'allowed', /fd00::1 is not a public/);
  assert.match((await p.refusal('ftp://svc.example/')) ?? 'allowed', /only http and https/);
  assert.equal(await p.refusal('https://unknown.example/'), undefined, 'a name that does not resolve cannot be reached either: the proxy says so');
});

test('the toolkit\'s mail server is refused whatever the setting', async () => {
  assert.match((await laptop({ SMTP_URL: 'smtp://localhost:1025' }).refusal('http://localhost:1025/')) ?? 'allowed', /mail server or database/);
});

test('each name is resolved once per run: a connection goes to the address that was checked (DNS rebinding)', async () => {
  const answers = [['127.0.0.1'], ['10.9.9.9']];
  const p = browsingPolicy({ config: loadConfig({ PUBLIC_URL: 'http://localhost:3000' }), env: 'sandpit', lookup: async () => answers.shift()!.map((address) => ({ address, family: 4 })) });
  assert.equal(await p.refusal('http://rebind.example:8080/'), undefined);
  assert.deepEqual(await p.target('rebind.example', 8080, new URL('http://rebind.example:8080/next')), { address: '127.0.0.1', family: 4 });
  assert.equal(answers.length, 1, 'not resolved again');
});

test('a connection for a name with public and private addresses uses a public one; a tunnel never reaches the toolkit\'s socket', async () => {
  const p = laptop();
  assert.deepEqual(await p.target('mixed.example', 443), { address: '93.184.215.14', family: 4 });
  await assert.rejects(p.target('localhost', 3000), /toolkit's own pages/, 'no path is known in a tunnel');
  assert.deepEqual(await p.target('localhost', 3000, new URL('http://localhost:3000/sandpit/authorize')), { address: '127.0.0.1', family: 4 });
  await assert.rejects(p.target('localhost', 3000, new URL('http://localhost:3000/metrics')), /toolkit's own pages/);
});

test('the asset paths allowed are the ones the pages use (web/views.ts)', () => {
  assert.ok(ASSET_PATH.test(`${ASSET_PREFIX}/nhsuk/nhsuk-frontend.min.js`));
  assert.ok(ASSET_PATH.test(INIT_SCRIPT_PATH));
  assert.ok(!ASSET_PATH.test(`${ASSET_PREFIX}-other`));
});
