/**
 * The conformance plan's test-issuer tests (plan.ts `issuer`): a second instance of the service, configured with one of the
 * client's test issuers (identity/test-issuers.ts), is given to the run as that test's start URL. The reference relying party
 * passes both; the broken one fails exactly the test of each defect; a service never configured with the test issuer is
 * told so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { freePort } from '../test-support/ports.ts';
import { registerClient } from '../identity/index.ts';
import { createReferenceRp } from '../../examples/reference-rp/rp.ts';
import { createBrokenRp, type Defect } from './fixtures/broken-rp.ts';
import { createRun, executeRun, getRun, planFor, testIssuersOf, type EngineDeps } from './index.ts';

const TESTS = ['jwks-unparseable-key', 'discovery-issuer-mismatch'] as const;
type Make = (o: { issuer: string; clientId: string; privateKeyPem: string; redirectUri: string }) => Promise<FastifyInstance>;

describe('conformance: services configured with a test issuer (sqlite)', () => {
  let app: TestApp & { origin: string };
  let deps: EngineDeps;
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  before(async () => {
    app = await startListeningApp('sqlite');
    deps = { config: app.config, db: app.database.db, events: app.events };
  });
  after(() => app.stop());

  /**
   * One client, the service at its start URL and one more instance per test issuer (each on its own port, each its own redirect
   * URI); `configured: false` starts those instances with the environment's issuer instead.
   */
  async function services(make: Make, configured = true) {
    const ports = await Promise.all([0, 1, 2].map(() => freePort()));
    const urls = ports.map((p) => `http://localhost:${p}`);
    const client = await registerClient(app.database.db, {
      env: 'sandpit', name: 'Service under test', redirectUris: urls.map((u) => `${u}/callback`), scopes: ['openid', 'profile', 'email'],
      vtr: ['P9.Cp.Cd'], publicKeyPem: keys.publicKey,
    });
    const issuers = testIssuersOf(`${app.origin}/sandpit`, client.clientId);
    const rps: FastifyInstance[] = [];
    const sandpit = `${app.origin}/sandpit`;
    for (const [i, issuer] of [sandpit, ...TESTS.map((t) => (configured ? issuers[t]! : sandpit))].entries()) {
      const rp = await make({ issuer, clientId: client.clientId, privateKeyPem: keys.privateKey, redirectUri: `${urls[i]}/callback` });
      await rp.listen({ port: ports[i]!, host: '127.0.0.1' });
      rps.push(rp);
    }
    const run = async () => {
      const id = await createRun(deps, {
        env: 'sandpit', clientId: client.clientId, startUrl: urls[0]!, createdBy: 'test', only: ['login-p9', ...TESTS],
        startUrls: Object.fromEntries(TESTS.map((t, i) => [t, urls[i + 1]!])),
      });
      await executeRun(deps, id);
      const { results } = (await getRun(app.database.db, id))!;
      return Object.fromEntries(results.map((r) => [r.test_id, { status: r.status, detail: r.detail ?? '' }]));
    };
    return { run, close: () => Promise.all(rps.map((rp) => rp.close())) };
  }

  test('without a start URL for them, a plan has no test-issuer tests; asked for by name, the run says what they need', () => {
    assert.ok(!planFor({ env: 'sandpit', im1: false }).some((t) => t.issuer));
    const given = planFor({ env: 'sandpit', im1: false }, undefined, { 'jwks-unparseable-key': 'https://a.example/' });
    assert.deepEqual(given.filter((t) => t.issuer).map((t) => t.id), ['jwks-unparseable-key']);
    assert.throws(() => planFor({ env: 'sandpit', im1: false }, ['discovery-issuer-mismatch']), /needs the start URL of your service/);
  });

  test('a start URL of its own is refused for a test that has no test issuer, and held to the start URL rule', async () => {
    const { clientId } = await registerClient(app.database.db, {
      env: 'sandpit', name: 'Service', redirectUris: ['https://svc.example.org/callback'], scopes: ['openid'], vtr: ['P9.Cp.Cd'],
      publicKeyPem: keys.publicKey,
    });
    const start = (startUrls: Record<string, string>) =>
      createRun(deps, { env: 'sandpit', clientId, startUrl: 'https://svc.example.org/', createdBy: 't', startUrls });
    await assert.rejects(start({ 'login-p9': 'https://svc.example.org/' }), { field: 'start_urls' });
    await assert.rejects(start(JSON.parse('{"__proto__": "https://svc.example.org/"}') as Record<string, string>), { field: 'start_urls' });
    await assert.rejects(start({ 'jwks-unparseable-key': 'http://svc.example.org/' }), { field: 'start_urls.jwks-unparseable-key' });
  });

  test('the reference RP, configured with each test issuer, passes both tests', async () => {
    const s = await services((o) => createReferenceRp({ ...o, scope: 'openid profile email', vtr: ['P9.Cp.Cd'], allowHttp: true }));
    try {
      const r = await s.run();
      for (const id of ['login-p9', ...TESTS]) assert.equal(r[id]?.status, 'pass', `${id}: ${r[id]?.detail}`);
    } finally {
      await s.close();
    }
  });

  for (const defects of [[], ['imports_every_jwk'], ['ignores_discovery_issuer']] satisfies Defect[][]) {
    test(`the broken RP ${defects.length ? `with ${defects[0]} fails exactly its test` : 'without defects passes both'}`, async () => {
      const s = await services((o) => createBrokenRp({ ...o, defects }));
      try {
        const r = await s.run();
        const failed = Object.entries(r).filter(([, v]) => v.status !== 'pass').map(([k]) => k);
        const expected = defects.map((d) => (d === 'imports_every_jwk' ? 'jwks-unparseable-key' : 'discovery-issuer-mismatch'));
        assert.deepEqual(failed, expected, JSON.stringify(r));
      } finally {
        await s.close();
      }
    });
  }

  test('a service never configured with the test issuers fails both, and is told which issuer to configure', async () => {
    const s = await services((o) => createReferenceRp({ ...o, scope: 'openid profile email', vtr: ['P9.Cp.Cd'], allowHttp: true }), false);
    try {
      const r = await s.run();
      for (const id of TESTS) {
        assert.equal(r[id]?.status, 'fail', `${id}: ${r[id]?.detail}`);
        assert.match(r[id]!.detail, /No service has fetched http:\/\/localhost:\d+\/sandpit\/test-issuers\/[\w-]+\/[\w-]+\/\.well-known/);
      }
    } finally {
      await s.close();
    }
  });
});
