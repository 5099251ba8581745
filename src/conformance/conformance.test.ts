/**
 * Proof that the conformance suite works: the reference relying party passes every test; a deliberately broken
 * one fails exactly the tests that match each of its defects, switched on alone, and passes the rest; runs for
 * different clients at once do not affect each other or normal traffic; reports are signed and checkable.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { freePort } from '../test-support/ports.ts';
import { registerClient } from '../identity/index.ts';
import { createRp, login } from '../test-support/rp.ts';
import { createReferenceRp } from '../../examples/reference-rp/rp.ts';
import { createBrokenRp, DEFECTS, type Defect } from './fixtures/broken-rp.ts';
import { buildReport, CATALOGUE, createRun, executeRun, getRun, junitXml, verifyReport, type EngineDeps } from './index.ts';

const keyPair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

/** A relying party on its own port with its own sandpit client. */
async function service(
  app: TestApp,
  make: (o: { issuer: string; clientId: string; privateKeyPem: string; redirectUri: string }) => Promise<FastifyInstance>,
) {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const keys = keyPair();
  const client = await registerClient(app.database.db, {
    env: 'sandpit',
    name: 'Service under test',
    redirectUris: [`${url}/callback`],
    scopes: ['openid', 'profile', 'email'],
    vtr: ['P9.Cp.Cd'],
    publicKeyPem: keys.publicKey,
  });
  const rp = await make({
    issuer: `${app.origin}/sandpit`,
    clientId: client.clientId,
    privateKeyPem: keys.privateKey,
    redirectUri: `${url}/callback`,
  });
  await rp.listen({ port, host: '127.0.0.1' });
  return { url, client, rp };
}

/** The OpenID Foundation-depth ID token tests: their defects are checked against these and a login, not the whole plan. */
const OIDF_DEPTH = ['hs256-public-key', 'rs256', 'no-sub', 'no-exp', 'no-iat', 'iss-trailing-slash', 'extra-aud'];

/**
 * The authorization response and error-handling tests (a wrong state, an OIDC error from /authorize, a failing /userinfo, an ID
 * token without kid, a token endpoint that does not answer, a callback opened twice):
 * their defects are checked against these.
 */
const ERRORS = [
  'wrong-state', 'authorize-temporarily-unavailable', 'authorize-server-error', 'userinfo-invalid-token', 'userinfo-server-error',
  'kid-absent', 'slow-token', 'code-reuse',
];

/** Every test except the slow ones no defect concerns (uplift journeys, the JWKS cool-down, the settings link). */
const DEFECT_PLAN = CATALOGUE.filter(
  (t) => !['login-p5', 'login-p0', 'key-rotation', 'settings-link', 'vot-matches', ...OIDF_DEPTH, ...ERRORS].includes(t.id)
    && !t.id.startsWith('im1-') && !t.via && !t.issuer && t.expect !== 'reauthenticates',
).map((t) => t.id);

/**
 * What a defect is run against: the plan above; for an OIDF-depth defect those tests, a login and a bad signature; for an
 * error-handling defect those tests, a login and invalid_scope.
 */
const planOf = (defect: Defect): string[] => {
  const only = (ids: string[]) => DEFECTS[defect].every((id) => ids.includes(id));
  if (only(OIDF_DEPTH)) return [...OIDF_DEPTH, 'login-p9', 'bad-signature'];
  return only(ERRORS) ? [...ERRORS, 'login-p9', 'invalid-scope'] : DEFECT_PLAN;
};

describe('conformance suite (sqlite)', () => {
  let app: TestApp;
  let deps: EngineDeps;
  const run = async (clientId: string, startUrl: string, only?: string[]) => {
    const id = await createRun(deps, { env: 'sandpit', clientId, startUrl, createdBy: 'test', only });
    const status = await executeRun(deps, id);
    const found = (await getRun(app.database.db, id))!;
    return { id, status, ...found, byStatus: (s: string) => found.results.filter((r) => r.status === s).map((r) => r.test_id).sort() };
  };
  before(async () => {
    app = await startListeningApp('sqlite');
    deps = { config: app.config, db: app.database.db, events: app.events };
  });
  after(() => app.stop());

  describe('the reference relying party on the full plan (one run, shared by its tests)', () => {
    let ref: Awaited<ReturnType<typeof service>>;
    let r: Awaited<ReturnType<typeof run>>;
    let seconds: string;
    before(async () => {
      ref = await service(app, (o) => createReferenceRp({ ...o, scope: 'openid profile email', vtr: ['P9.Cp.Cd'], allowHttp: true }));
      const started = Date.now();
      r = await run(ref.client.clientId, ref.url);
      seconds = ((Date.now() - started) / 1000).toFixed(1);
    });
    after(() => ref?.rp.close());

    test('the reference relying party passes every test of the full plan', (t) => {
      t.diagnostic(`full plan (${r.results.length} tests) for one client: ${seconds} s`);
      assert.deepEqual(r.results.filter((x) => x.status !== 'pass').map((x) => `${x.test_id}: ${x.status} ${x.detail}`), []);
      assert.equal(r.status, 'passed');
      const planned = CATALOGUE.filter((c) => !c.id.startsWith('im1-') && !c.via && !c.issuer && c.expect !== 'reauthenticates');
      assert.equal(r.results.length, planned.length);
    });

    test('its report is signed by this toolkit and verifies, naming the client and every test passed', async () => {
      const report = await verifyReport(app.database.db, r.run.report!);
      assert.equal(report.run.client_id, ref.client.clientId);
      assert.equal(report.summary.passed, r.results.length);
    });

    test('its report, edited, no longer verifies', async () => {
      const [h, p, s] = r.run.report!.split('.');
      const edited = Buffer.from(p!, 'base64url').toString().replace('"passed"', '"failed"');
      await assert.rejects(verifyReport(app.database.db, `${h}.${Buffer.from(edited).toString('base64url')}.${s}`), /changed/);
    });

    test('its JUnit names every test and no failures', () => {
      const junit = junitXml(buildReport(r.run, r.results), r.results);
      assert.match(junit, new RegExp(`<testsuite [^>]*tests="${r.results.length}" failures="0"`));
    });

    test('each of its tests has a screenshot', () => {
      assert.ok(
        r.results.every((x) => x.screenshot && Buffer.from(x.screenshot, 'base64').subarray(1, 4).toString() === 'PNG'),
        'a screenshot per test',
      );
    });
  });

  // The IM1 defects need an IM1 client and a GP system (gp.test.ts); the NHS App's, an NHS App address (nhs-app.test.ts); the
  // test issuers', a service configured with one (test-issuers.test.ts).
  const withIssuer = new Set(CATALOGUE.filter((t) => t.issuer).map((t) => t.id));
  const elsewhere = (d: Defect) => DEFECTS[d].every((id) => id.startsWith('im1-') || id.startsWith('nhs-app-') || withIssuer.has(id));
  for (const defect of (Object.keys(DEFECTS) as Defect[]).filter((d) => !elsewhere(d))) {
    test(`broken relying party, ${defect} alone: fails exactly ${DEFECTS[defect].join(', ')} and passes the rest`, async () => {
      const broken = await service(app, (o) => createBrokenRp({ ...o, defects: [defect] }));
      try {
        const plan = planOf(defect);
        const r = await run(broken.client.clientId, broken.url, plan);
        const verdicts = r.results.map((x) => `${x.test_id}: ${x.status} ${x.detail}`).join('\n');
        assert.deepEqual(r.byStatus('fail'), [...DEFECTS[defect]].filter((id) => plan.includes(id)).sort(), verdicts);
        assert.deepEqual(r.byStatus('could_not_run'), []);
        assert.equal(r.status, 'failed');
      } finally {
        await broken.rp.close();
      }
    });
  }

  test('runs for two clients at once, and the same client\'s normal logins meanwhile, do not affect each other', async () => {
    const a = await service(app, (o) => createBrokenRp({ ...o, defects: [] }));
    const b = await service(app, (o) => createBrokenRp({ ...o, defects: ['skips_nonce_check'] }));
    try {
      const bystander = await createRp(app, 'sandpit');
      const plan = ['login-p9', 'wrong-nonce', 'expired', 'userinfo-sub'];
      const [ra, rb] = await Promise.all([run(a.client.clientId, a.url, plan), run(b.client.clientId, b.url, plan),
        (async () => { for (let i = 0; i < 3; i++) await login(app, bystander, {}); })()]);
      assert.equal(ra.status, 'passed', JSON.stringify(ra.results.map((x) => [x.test_id, x.status, x.detail])));
      assert.deepEqual(rb.byStatus('fail'), ['wrong-nonce']);
      await app.events.flush();
      const faults = await app.database.db
        .selectFrom('protocol_event')
        .select(['client_id', 'details'])
        .where('kind', '=', 'fault')
        .execute();
      assert.ok(
        faults.every((f) => f.client_id !== bystander.client.clientId),
        'no fault ever touched normal traffic',
      );
    } finally {
      await a.rp.close();
      await b.rp.close();
    }
  });

  describe('runs refused', () => {
    let sandpit: Awaited<ReturnType<typeof createRp>>;
    before(async () => {
      sandpit = await createRp(app, 'sandpit');
    });

    test('a run for a live client is refused', async () => {
      const live = await createRp(app, 'live');
      await assert.rejects(
        createRun(deps, { env: 'live', clientId: live.client.clientId, startUrl: 'https://svc.example.org/', createdBy: 't' }),
        /never live/,
      );
    });

    test('a start URL that is not https is refused', async () => {
      await assert.rejects(
        createRun(deps, { env: 'sandpit', clientId: sandpit.client.clientId, startUrl: 'http://svc.example.org/', createdBy: 't' }),
        /https/,
      );
    });

    test('a start URL that is not a URL is refused', async () => {
      await assert.rejects(
        createRun(deps, { env: 'sandpit', clientId: sandpit.client.clientId, startUrl: 'not a url', createdBy: 't' }),
        /start URL/,
      );
    });

    test('a test the catalogue does not have is refused by name', async () => {
      await assert.rejects(
        createRun(deps, {
          env: 'sandpit',
          clientId: sandpit.client.clientId,
          startUrl: 'https://svc.example.org/',
          createdBy: 't',
          only: ['nope'],
        }),
        /Unknown test nope/,
      );
    });

    test('a second run for a client while one is in progress is refused', async () => {
      const busy = await createRp(app, 'sandpit');
      await createRun(deps, {
        env: 'sandpit',
        clientId: busy.client.clientId,
        startUrl: 'https://svc.example.org/',
        createdBy: 't',
        only: ['login-p9'],
      });
      await assert.rejects(
        createRun(deps, { env: 'sandpit', clientId: busy.client.clientId, startUrl: 'https://svc.example.org/', createdBy: 't' }),
        /in progress/,
      );
    });
  });
});
