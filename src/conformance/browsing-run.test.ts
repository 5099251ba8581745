/**
 * A run's browser in a real run: a start URL the rule refuses is refused when the run is started; a service
 * that sends the browser to the toolkit's console or to an internal address mid-journey fails the test with
 * the address named, and that page is never loaded (so never in the screenshot the partner gets).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { freePort } from '../test-support/ports.ts';
import { registerClient } from '../identity/index.ts';
import { systemLookup, type Lookup } from '../security/outbound.ts';
import { createBrokenRp } from './fixtures/broken-rp.ts';
import { RUN_BROWSER_MARK } from './browsing.ts';
import { createRun, executeRun, getRun, RunRefused, type EngineDeps } from './index.ts';

const keyPair = () => generateKeyPairSync('rsa', {
  modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
/** An internal name, as a partner's staff network would have one. */
const lookup: Lookup = async (host) => (host === 'intranet.nhs.example' ? [{ address: '10.1.2.3', family: 4 }] : systemLookup(host));

describe('where a run\'s browser may go (sqlite)', () => {
  let app: TestApp & { origin: string };
  let deps: EngineDeps;
  /** Every path the toolkit's server was asked for, and by which user agent. */
  const served: string[] = [];
  const agents = new Set<string>();
  before(async () => {
    app = await startListeningApp('sqlite');
    deps = { config: app.config, db: app.database.db, events: app.events, lookup };
    app.fastify.server.on('request', (req: { url?: string; headers: Record<string, unknown> }) => {
      served.push(req.url ?? '');
      agents.add(String(req.headers['user-agent']));
    });
  });
  after(() => app.stop());

  /** A sandpit relying party that, once the person is signed in, sends the browser to `landing`. */
  const hostile = async (landing: string) => {
    const port = await freePort();
    const keys = keyPair();
    const redirectUri = `http://localhost:${port}/callback`;
    const client = await registerClient(app.database.db, {
      env: 'sandpit', name: 'Hostile', redirectUris: [redirectUri], scopes: ['openid', 'profile'], vtr: ['P9.Cp.Cd'],
      publicKeyPem: keys.publicKey,
    });
    const rp = await createBrokenRp({
      issuer: `${app.origin}/sandpit`, clientId: client.clientId, privateKeyPem: keys.privateKey, redirectUri, defects: [], landing,
    });
    await rp.listen({ port, host: '127.0.0.1' });
    return { url: `http://localhost:${port}/`, clientId: client.clientId, close: () => rp.close() };
  };

  test('refused when started: the toolkit\'s own pages under any name, and an internal https name', async () => {
    const { clientId } = await registerClient(app.database.db, {
      env: 'sandpit', name: 'Svc', redirectUris: ['https://svc.example/cb'], scopes: ['openid'], vtr: ['P9.Cp.Cd'],
      publicKeyPem: keyPair().publicKey,
    });
    const refused: [string, RegExp][] = [
      [`${app.origin}/console`, /toolkit's own pages/],
      [`http://127.0.0.1:${new URL(app.origin).port}/metrics`, /toolkit's own pages/],
      ['https://intranet.nhs.example/service', /intranet\.nhs\.example: 10\.1\.2\.3 is not a public internet address/],
    ];
    for (const [startUrl, why] of refused) {
      const started = createRun(deps, { env: 'sandpit', clientId, startUrl, createdBy: 't' });
      await assert.rejects(started, (e: RunRefused) => e instanceof RunRefused && e.field === 'start_url' && why.test(e.message), startUrl);
    }
  });

  test('a service that sends the signed-in browser to the toolkit\'s console fails, and the console is never loaded', async () => {
    const rp = await hostile(`${app.origin}/console`);
    try {
      const id = await createRun(deps, { env: 'sandpit', clientId: rp.clientId, startUrl: rp.url, createdBy: 't', only: ['login-p9'] });
      const before = served.length;
      assert.equal(await executeRun(deps, id), 'failed');
      const [result] = (await getRun(app.database.db, id))!.results;
      assert.equal(result!.status, 'fail');
      const named = `sent the browser to ${app.origin}/console, which a conformance run may not open: it is one of the toolkit's own pages`;
      assert.match(result!.detail!, new RegExp(named));
      const asked = served.slice(before);
      assert.ok(asked.some((u) => u.startsWith('/sandpit/')), 'the journey itself went through');
      const others = asked.filter((u) => !u.startsWith('/sandpit/') && !u.startsWith('/nhsuk-frontend'));
      assert.deepEqual(others, [], 'nothing else of the toolkit was loaded');
      assert.ok([...agents].some((a) => a.endsWith(` ${RUN_BROWSER_MARK}`)), 'the browser says it is a run\'s');
    } finally {
      await rp.close();
    }
  });

  test('the toolkit itself refuses a run\'s browser all but the journeys (a redirect to its https name escapes other checks)', async () => {
    const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/150.0.0.0 Safari/537.36';
    const ua = (mark: boolean) => ({ headers: { 'user-agent': mark ? `${chrome} ${RUN_BROWSER_MARK}` : chrome } });
    for (const path of ['/console/sign-in', '/metrics', '/portal', '/', '/api/v1/openapi.json', '/sandpit/../console']) {
      assert.equal((await app.fetch(`${app.origin}${path}`, ua(true))).status, 403, path);
    }
    for (const path of ['/sandpit/.well-known/openid-configuration', '/nhsuk-frontend-init.js', '/integration/.well-known/jwks.json']) {
      assert.equal((await app.fetch(`${app.origin}${path}`, ua(true))).status, 200, path);
    }
    assert.equal((await app.fetch(`${app.origin}/console/sign-in`, ua(false))).status, 200, 'anyone else is served as before');
  });

  test('a service that sends the browser to an internal address mid-journey fails with the address named', async () => {
    const rp = await hostile('https://intranet.nhs.example/staff');
    try {
      const id = await createRun(deps, { env: 'sandpit', clientId: rp.clientId, startUrl: rp.url, createdBy: 't', only: ['login-p9'] });
      assert.equal(await executeRun(deps, id), 'failed');
      const [result] = (await getRun(app.database.db, id))!.results;
      assert.match(result!.detail!, /sent the browser to https:\/\/intranet\.nhs\.example\/staff, which a conformance run may not open/);
      assert.match(result!.detail!, /intranet\.nhs\.example: 10\.1\.2\.3 is not a public internet address/);
    } finally {
      await rp.close();
    }
  });
});
