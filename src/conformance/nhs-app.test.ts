/**
 * The conformance plan's NHS App tests (plan.ts `via: 'nhs_app'`): the run starts in the stand-in NHS App, which opens the
 * service at its NHS App address. The reference relying party passes them; the same service given an address that drops
 * the assertion (its plain /login) fails each for its own reason; a service that crashes when NHS login refuses the
 * assertion fails only the refusal's test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { freePort } from '../test-support/ports.ts';
import { registerClient, setNhsAppAddress } from '../identity/index.ts';
import { createReferenceRp } from '../../examples/reference-rp/rp.ts';
import { createBrokenRp, type Defect } from './fixtures/broken-rp.ts';
import { createRun, executeRun, getRun, planFor, type EngineDeps } from './index.ts';

const PLAN = ['login-p9', 'nhs-app-login', 'nhs-app-consent-declined', 'nhs-app-sso-refused'];

describe('conformance: opened from the NHS App (sqlite)', () => {
  let app: TestApp & { origin: string };
  let deps: EngineDeps;
  let rp: FastifyInstance;
  let url: string;
  let clientId: string;
  let keys: { publicKey: string; privateKey: string };
  const run = async (o: { client?: string; start?: string; only?: string[] } = {}) => {
    const only = o.only ?? PLAN;
    const id = await createRun(deps, { env: 'sandpit', clientId: o.client ?? clientId, startUrl: o.start ?? url, createdBy: 'test', only });
    await executeRun(deps, id);
    const { results } = (await getRun(app.database.db, id))!;
    return Object.fromEntries(results.map((r) => [r.test_id, { status: r.status, detail: r.detail ?? '' }]));
  };
  before(async () => {
    app = await startListeningApp('sqlite');
    deps = { config: app.config, db: app.database.db, events: app.events };
    const port = await freePort();
    url = `http://localhost:${port}`;
    keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const client = await registerClient(app.database.db, {
      env: 'sandpit', name: 'Service under test', redirectUris: [`${url}/callback`], scopes: ['openid', 'profile', 'email'],
      vtr: ['P9.Cp.Cd'], publicKeyPem: keys.publicKey,
    });
    clientId = client.clientId;
    rp = await createReferenceRp({
      issuer: `${app.origin}/sandpit`, clientId, privateKeyPem: keys.privateKey, redirectUri: `${url}/callback`,
      scope: 'openid profile email', vtr: ['P9.Cp.Cd'], allowHttp: true,
    });
    await rp.listen({ port, host: '127.0.0.1' });
  });
  after(async () => {
    await rp.close();
    await app.stop();
  });

  test('a client without an NHS App address has no NHS App tests', () => {
    assert.ok(!planFor({ env: 'sandpit', im1: false }).some((t) => t.via));
    assert.deepEqual(planFor({ env: 'sandpit', im1: false, nhsAppUrl: 'https://x.example/app' }).filter((t) => t.via).length, 3);
  });

  test('the reference RP, opened from the NHS App, signs the person in with the assertion and shows the NHS App no-consent screen',
    async () => {
      await setNhsAppAddress(app.database.db, 'sandpit', clientId, `${url}/nhs-app`);
      const r = await run();
      for (const id of PLAN) assert.equal(r[id]?.status, 'pass', `${id}: ${r[id]?.detail}`);
    });

  test('a service that drops the assertion fails both: signed in by the session only, and the usual no-consent screen', async () => {
    await setNhsAppAddress(app.database.db, 'sandpit', clientId, `${url}/login`);
    const r = await run();
    assert.equal(r['login-p9']?.status, 'pass');
    assert.equal(r['nhs-app-login']?.status, 'fail');
    assert.match(r['nhs-app-login']!.detail, /did not send the NHS App's assertedLoginIdentity/);
    assert.equal(r['nhs-app-consent-declined']?.status, 'fail');
    assert.match(r['nhs-app-consent-declined']!.detail, /Close this tab to go back to NHS App/);
    assert.equal(r['nhs-app-sso-refused']?.status, 'fail');
    assert.match(r['nhs-app-sso-refused']!.detail, /did not send the NHS App's assertedLoginIdentity/);
  });

  for (const defects of [[], ['crashes_on_sso_refusal']] satisfies Defect[][]) {
    test(`a service ${defects.length ? 'that crashes when the assertion is refused fails only that test' : 'that shows it passes'}`,
      async () => {
        const port = await freePort();
        const own = `http://localhost:${port}`;
        const client = await registerClient(app.database.db, {
          env: 'sandpit', name: 'Broken service', redirectUris: [`${own}/callback`], scopes: ['openid', 'profile'], vtr: ['P9.Cp.Cd'],
          publicKeyPem: keys.publicKey,
        });
        await setNhsAppAddress(app.database.db, 'sandpit', client.clientId, `${own}/nhs-app`);
        const broken = await createBrokenRp({
          issuer: `${app.origin}/sandpit`, clientId: client.clientId, privateKeyPem: keys.privateKey, redirectUri: `${own}/callback`,
          defects,
        });
        await broken.listen({ port, host: '127.0.0.1' });
        try {
          const r = await run({ client: client.clientId, start: own, only: ['nhs-app-login', 'nhs-app-sso-refused'] });
          assert.equal(r['nhs-app-login']?.status, 'pass', r['nhs-app-login']?.detail);
          assert.equal(r['nhs-app-sso-refused']?.status, defects.length ? 'fail' : 'pass', r['nhs-app-sso-refused']?.detail);
          if (defects.length) assert.match(r['nhs-app-sso-refused']!.detail, /did not handle invalid_request: HTTP 500/);
        } finally {
          await broken.close();
        }
      });
  }
});
