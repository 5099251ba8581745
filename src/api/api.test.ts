/** /api/v1 with organisation tokens, on both databases: the same self-service as the portal, and tenancy. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { approveClient, createApiToken, createOrganisation, revokeApiToken } from '../onboarding/index.ts';

const API = 'http://localhost:3000/api/v1';
const publicKey = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;

for (const dialect of DIALECTS) {
  describe(`API v1 (${dialect})`, () => {
    let app: TestApp;
    const call = async (token: string | undefined, method: string, path: string, body?: unknown) => {
      const res = await app.fetch(`${API}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Record<string, unknown> & unknown[] };
    };
    let a: { token: string; id: string; org: string };
    let b: { token: string };
    before(async () => {
      app = await startTestApp(dialect);
      const orgA = await createOrganisation(app.database.db, 'user-a', { name: 'A' });
      const orgB = await createOrganisation(app.database.db, 'user-b', { name: 'B' });
      a = { ...(await createApiToken(app.database.db, orgA.id, 'user-a', 'ci')), org: orgA.id };
      b = await createApiToken(app.database.db, orgB.id, 'user-b', 'ci');
    });
    after(() => app.stop());

    test('OpenAPI document and reference page are public', async () => {
      const doc = (await call(undefined, 'GET', '/openapi.json')).body as unknown as { openapi: string; paths: Record<string, unknown> };
      assert.equal(doc.openapi, '3.1.0');
      assert.ok(doc.paths['/clients/{clientId}/checklist']);
      assert.equal((await app.fetch(`${API}/docs`)).status, 200);
    });

    test('no token, a wrong token or a revoked token is 401 with a JSON error', async () => {
      for (const token of [undefined, 'nhslt_nope', 'something']) {
        const r = await call(token, 'GET', '/clients');
        assert.equal(r.status, 401);
        assert.equal(r.body.error, 'unauthorized');
      }
      // Refused before its body is read: a broken body gets 401, not the parser's invalid_json.
      const upload = await app.fetch(`${API}/documents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"content":"${'A'.repeat(4 * 1024 * 1024)}`,
      });
      assert.equal(upload.status, 401);
      assert.equal(((await upload.json()) as { error: string }).error, 'unauthorized');
      const spare = await createApiToken(app.database.db, a.org, 'user-a', 'spare');
      assert.equal((await call(spare.token, 'GET', '/organisation')).status, 200);
      await revokeApiToken(app.database.db, a.org, spare.id);
      assert.equal((await call(spare.token, 'GET', '/organisation')).status, 401);
    });

    describe('a client registered through the API', () => {
      let registered: Awaited<ReturnType<typeof call>>;
      let id: string;
      before(async () => {
        registered = await call(a.token, 'POST', '/clients', {
          name: 'CI client',
          redirect_uris: ['http://localhost:9999/cb'],
          vtr: ['P9.Cp.Cd'],
          scopes: ['openid', 'email'],
          public_key_pem: publicKey,
        });
        assert.equal(registered.status, 201, JSON.stringify(registered.body));
        id = String(registered.body.client_id);
      });

      test('a registered client is answered with the sandpit\'s discovery URL', () => {
        assert.equal(registered.body.discovery, 'http://localhost:3000/sandpit/.well-known/openid-configuration');
      });

      test('a client whose redirect URI is not https is invalid_redirect_uri, naming the field', async () => {
        const r = await call(a.token, 'POST', '/clients', {
          name: 'x',
          redirect_uris: ['http://example.org/cb'],
          vtr: ['P9.Cp.Cd'],
          public_key_pem: publicKey,
        });
        assert.deepEqual([r.status, r.body.error, r.body.field], [400, 'invalid_redirect_uri', 'redirect_uri']);
      });

      test('a client without its required fields is invalid_request', async () => {
        const r = await call(a.token, 'POST', '/clients', { name: 'x' });
        assert.deepEqual([r.status, r.body.error], [400, 'invalid_request']);
      });

      test('a registered client is listed and read back, with its checklist and trace', async () => {
        assert.equal(((await call(a.token, 'GET', '/clients')).body as unknown[]).length, 1);
        assert.equal((await call(a.token, 'GET', `/clients/${id}`)).body.name, 'CI client');
        assert.ok(Array.isArray((await call(a.token, 'GET', `/clients/${id}/checklist`)).body));
        assert.ok(Array.isArray((await call(a.token, 'GET', `/clients/${id}/trace`)).body));
      });

      test('a fault is armed on a client and cleared', async () => {
        assert.equal((await call(a.token, 'PUT', `/clients/${id}/fault`, { kind: 'id_token_expired', count: 2 })).status, 204);
        const armed = (await call(a.token, 'GET', `/clients/${id}`)).body.faults as { steps: { kind: string }[] };
        assert.equal(armed.steps[0]!.kind, 'id_token_expired');
        assert.equal((await call(a.token, 'DELETE', `/clients/${id}/fault`)).status, 204);
        assert.equal((await call(a.token, 'GET', `/clients/${id}`)).body.faults, null);
      });

      test('a sequence of faults is armed, read back step by step, and cleared', async () => {
        const steps = [
          { kind: 'token_temporarily_unavailable', count: 1 }, { kind: 'token_latency', seconds: 30, ms: 2000 }, { kind: 'pass' },
        ];
        assert.equal((await call(a.token, 'PUT', `/clients/${id}/faults`, { steps })).status, 204);
        type Step = { kind: string; state: string; fired: number; ms: number | null };
        const armed = (await call(a.token, 'GET', `/clients/${id}/faults`)).body as unknown as { armed_at: string; steps: Step[] };
        assert.deepEqual(armed.steps.map((s) => [s.kind, s.state, s.fired]),
          [['token_temporarily_unavailable', 'applies', 0], ['token_latency', 'waiting', 0], ['pass', 'waiting', 0]]);
        assert.equal(armed.steps[1]!.ms, 2000);
        assert.match(armed.armed_at, /^\d{4}-\d\d-\d\dT/);
        assert.equal((await call(a.token, 'DELETE', `/clients/${id}/faults`)).status, 204);
        assert.deepEqual((await call(a.token, 'GET', `/clients/${id}/faults`)).body, { armed_at: null, steps: [] });
      });

      test('a sequence of the wrong shape is a 400 naming the step, never a 500', async () => {
        for (const [body, error, field] of [
          [{ steps: 'token_server_error' }, 'invalid_request', 'steps'],
          [{ steps: [] }, 'invalid_request', 'steps'],
          [{ steps: [{ kind: 'pass', count: 1 }, { kind: ['pass'] }] }, 'invalid_request', 'steps.2.kind'],
          [{ steps: [{ kind: 'token_latency', count: 1, ms: '200' }] }, 'invalid_request', 'steps.1.ms'],
          [{ steps: [{ count: 1 }] }, 'invalid_request', 'steps.1.kind'],
          [{ steps: [{ kind: 'token_server_error' }, { kind: 'pass', count: 1 }] }, 'invalid_fault', 'steps.1.count'],
          [{ steps: [{ kind: 'token_latency', count: 1 }] }, 'invalid_fault', 'steps.1.ms'],
          [{ steps: [{ kind: 'nope', count: 1 }] }, 'invalid_fault', 'steps.1.kind'],
        ] as const) {
          const res = await call(a.token, 'PUT', `/clients/${id}/faults`, body);
          assert.deepEqual([res.status, res.body.error, res.body.field], [400, error, field], JSON.stringify(body));
        }
      });

      test("session limits are set, read back, and removed (the specification's refresh token again)", async () => {
        const put = (body: unknown) => call(a.token, 'PUT', `/clients/${id}/session-rules`, body);
        assert.equal((await put({ idle_minutes: 2, absolute_minutes: 5 })).status, 204);
        assert.deepEqual((await call(a.token, 'GET', `/clients/${id}`)).body.session_rules, { idle_seconds: 120, absolute_seconds: 300 });
        assert.equal((await put({ idle_minutes: null, absolute_minutes: null })).status, 204);
        const none = { idle_seconds: null, absolute_seconds: null };
        assert.deepEqual((await call(a.token, 'GET', `/clients/${id}`)).body.session_rules, none);
      });

      test('the NHS App address is set, shown with its launcher, refused when not https, and removed', async () => {
        const put = (url: unknown) => call(a.token, 'PUT', `/clients/${id}/nhs-app`, { url });
        assert.equal((await put('https://rp.example.org/nhs-app')).status, 204);
        const shown = (await call(a.token, 'GET', `/clients/${id}`)).body.nhs_app;
        const launcher = `http://localhost:3000/sandpit/nhs-app/services/${id}`;
        assert.deepEqual(shown, { url: 'https://rp.example.org/nhs-app', launcher });
        const bad = await put('http://rp.example.org/nhs-app');
        assert.deepEqual([bad.status, bad.body.error], [400, 'invalid_nhs_app_url']);
        assert.equal((await put(['https://rp.example.org/nhs-app'])).status, 400);
        assert.equal((await put(null)).status, 204);
        assert.equal((await call(a.token, 'GET', `/clients/${id}`)).body.nhs_app, null);
      });

      test('session limits out of range or of the wrong shape are a 400, never a 500', async () => {
        const bodies = [{ idle_minutes: 31, absolute_minutes: null }, { idle_minutes: ['1'], absolute_minutes: null }, { idle_minutes: 1 }];
        for (const body of bodies) {
          const r = await call(a.token, 'PUT', `/clients/${id}/session-rules`, body);
          assert.equal(r.status, 400, JSON.stringify(body));
        }
      });

      test('a fault of a kind not offered is invalid_fault', async () => {
        assert.equal((await call(a.token, 'PUT', `/clients/${id}/fault`, { kind: 'nope' })).body.error, 'invalid_fault');
      });

      test('another organisation\'s token finds none of the client, on every client route', async () => {
        assert.equal(((await call(b.token, 'GET', '/clients')).body as unknown[]).length, 0);
        for (const [method, path, body] of [
          ['GET', `/clients/${id}`],
          ['GET', `/clients/${id}/checklist`],
          ['GET', `/clients/${id}/trace`],
          ['PUT', `/clients/${id}/fault`, { kind: 'id_token_expired' }],
          ['DELETE', `/clients/${id}/fault`],
          ['GET', `/clients/${id}/faults`],
          ['PUT', `/clients/${id}/faults`, { steps: [{ kind: 'pass', count: 1 }] }],
          ['DELETE', `/clients/${id}/faults`],
          ['PUT', `/clients/${id}/nhs-app`, { url: 'https://rp.example.org/nhs-app' }],
        ] as const) {
          const res = await call(b.token, method, path, body);
          assert.deepEqual([res.status, res.body?.error], [404, 'not_found'], `${method} ${path}`);
        }
        assert.equal((await call(a.token, 'GET', `/clients/${id}`)).body.faults, null, 'B could not arm a fault on A\'s client');
      });

      test('a route the API does not have is not_found', async () => {
        assert.equal((await call(a.token, 'GET', '/nope')).body.error, 'not_found');
      });

      test('a registered client is not approved for Users Endpoint V2', () => {
        assert.equal(registered.body.users_v2, false);
      });

      test('once the NHS login team approves Users Endpoint V2, the client says so', async () => {
        const c = (await call(a.token, 'GET', `/clients/${id}`)).body;
        await approveClient(app.database.db, 'dm@nhs.example', 'sandpit', id, {
          scopes: c.scopes as string[], vtr: c.vtr as string[], im1: false, usersV2: true,
        });
        assert.equal((await call(a.token, 'GET', `/clients/${id}`)).body.users_v2, true);
      });

      test('a registered client is not approved for Provision Account: provisioning is null', () => {
        assert.equal(registered.body.provisioning, null);
      });

      test('once the team approves Provision Account, the client names its ODS codes', async () => {
        const c = (await call(a.token, 'GET', `/clients/${id}`)).body;
        await approveClient(app.database.db, 'dm@nhs.example', 'sandpit', id, {
          scopes: c.scopes as string[], vtr: c.vtr as string[], im1: false, usersV2: false, provisioning: true, provisioningOds: ['A00002'],
        });
        assert.deepEqual((await call(a.token, 'GET', `/clients/${id}`)).body.provisioning, { ods_codes: ['A00002'] });
      });

      test('a partner cannot approve its own client for Users Endpoint V2: the field is not theirs to send', async () => {
        const r = await call(a.token, 'POST', '/clients', {
          name: 'Self-approved', redirect_uris: ['http://localhost:9999/cb'], vtr: ['P9.Cp.Cd'], public_key_pem: publicKey, users_v2: true,
        });
        assert.deepEqual([r.status, r.body.users_v2], [201, false]);
      });
    });

    describe('an organisation\'s own data through the API', () => {
      const pdf = Buffer.from('%PDF-1.4\n%test\n').toString('base64');
      let docId: string;
      let userId: string;
      before(async () => {
        let r = await call(a.token, 'POST', '/documents', { kind: 'dspt', filename: 'dspt.pdf', content_base64: pdf });
        assert.equal(r.status, 201);
        docId = String(r.body.id);
        r = await call(a.token, 'POST', '/test-users', { nhs_number: '9686368450', level: 'P5', otp_disabled: true });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        userId = String(r.body.id);
      });

      test('the organisation\'s ODS code is checked, naming the field, and stored upper-case', async () => {
        const r = await call(a.token, 'PATCH', '/organisation', { ods_code: 'bad code!' });
        assert.deepEqual([r.status, r.body.error, r.body.field], [400, 'invalid_ods_code', 'ods_code']);
        assert.equal((await call(a.token, 'PATCH', '/organisation', { ods_code: 'a1b2c' })).status, 204);
        assert.equal((await call(a.token, 'GET', '/organisation')).body.ods_code, 'A1B2C');
      });

      test('an application with a string where a list belongs is refused, naming the field', async () => {
        const wrongShape = { product_name: 'Clinic app', vectors: 'P9.Cp.Cd', scopes: { x: 1 } };
        const r = await call(a.token, 'POST', '/application/submit', wrongShape);
        assert.deepEqual(
          [r.status, r.body.error, r.body.field],
          [400, 'invalid_request', 'vectors'],
          'a string where a list belongs is refused, naming the field',
        );
      });

      test('an incomplete application is application_incomplete, with every problem at once by field', async () => {
        const r = await call(a.token, 'POST', '/application/submit', { product_name: 'Clinic app', vectors: ['P9.Cp.Cd'] });
        assert.equal(r.status, 400);
        assert.equal(r.body.error, 'application_incomplete');
        assert.ok(
          (r.body.problems as unknown as { field: string }[]).some((p) => p.field === 'description'),
          'every problem at once, by field',
        );
      });

      test('a complete application is saved and submitted, and is then already_submitted to changes', async () => {
        const full = {
          eligibility: { england: 'yes', patient_facing: 'yes', benefit: 'yes', commissioned: 'yes', free: 'yes' },
          product_name: 'Clinic app',
          description: 'Patients book and manage appointments with their local clinic online.',
          sponsor: 'NHS Example ICB',
          vectors: ['P9.Cp.Cd'],
          scopes: ['profile'],
          scope_reasons: { profile: 'To match the patient record' },
          contact_name: 'Ada',
          contact_email: 'ada@example.org',
          safety_officer_email: 'cso@example.org',
        };
        assert.equal((await call(a.token, 'PUT', '/application', full)).status, 200);
        const r = await call(a.token, 'POST', '/application/submit', full);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal((await call(a.token, 'GET', '/application')).body.status, 'submitted');
        assert.equal((await call(a.token, 'PUT', '/application', full)).body.error, 'already_submitted');
      });

      test('an uploaded document downloads as the PDF it was', async () => {
        const download = await app.fetch(`${API}/documents/${docId}`, { headers: { authorization: `Bearer ${a.token}` } });
        assert.equal(download.headers.get('content-type'), 'application/pdf');
        assert.match(Buffer.from(await download.arrayBuffer()).toString('latin1'), /^%PDF-1\.4/);
      });

      test('a document that is not an accepted file type, or not base64, is refused', async () => {
        assert.equal(
          (
            await call(a.token, 'POST', '/documents', {
              kind: 'dspt',
              filename: 'x.exe',
              content_base64: Buffer.from('MZ...').toString('base64'),
            })
          ).body.field,
          'file',
        );
        assert.equal(
          (await call(a.token, 'POST', '/documents', { kind: 'dspt', filename: 'x.pdf', content_base64: '%%%' })).body.error,
          'invalid_request',
        );
      });

      test('a test user\'s level is changed through the API', async () => {
        assert.equal((await call(a.token, 'PATCH', `/test-users/${userId}`, { level: 'P9' })).status, 204);
        assert.equal(((await call(a.token, 'GET', '/test-users')).body as unknown as { level: string }[])[0]!.level, 'P9');
      });

      test('a test user\'s GP credential state is set through the API, for its own users only, shape-checked', async () => {
        assert.equal((await call(a.token, 'PUT', `/test-users/${userId}/gp-state`, { state: 'revoked' })).status, 204);
        const users = (await call(a.token, 'GET', '/test-users')).body as unknown as { gp_state: string }[];
        assert.equal(users[0]!.gp_state, 'revoked');
        let r = await call(a.token, 'PUT', `/test-users/${userId}/gp-state`, { state: 'lost' });
        assert.deepEqual([r.status, r.body.error, r.body.field], [400, 'invalid_choice', 'gp_state']);
        r = await call(a.token, 'PUT', `/test-users/${userId}/gp-state`, { state: ['revoked'] });
        assert.deepEqual([r.status, r.body.error], [400, 'invalid_request']);
        assert.equal((await call(b.token, 'PUT', `/test-users/${userId}/gp-state`, { state: 'current' })).status, 404);
        assert.equal(((await call(a.token, 'GET', '/test-users')).body as unknown as { gp_state: string }[])[0]!.gp_state, 'revoked');
      });

      test('a test user is let manage health services for another, for its own users only, and the link ended', async () => {
        const r = await call(a.token, 'POST', '/test-users', { nhs_number: '9686367411', level: 'P9' });
        const patientId = String(r.body.id);
        const link = `/test-users/${userId}/manages-for/${patientId}`;
        assert.equal((await call(a.token, 'PUT', link)).status, 204);
        assert.equal((await call(a.token, 'PUT', link)).status, 204, 'twice is one link');
        type Listed = { id: string; manages_for: string[] }[];
        const managesFor = async () => ((await call(a.token, 'GET', '/test-users')).body as unknown as Listed)
          .find((u) => u.id === userId)!.manages_for;
        assert.deepEqual(await managesFor(), [patientId]);
        let bad = await call(a.token, 'PUT', `/test-users/${userId}/manages-for/${userId}`);
        assert.deepEqual([bad.status, bad.body.error, bad.body.field], [400, 'invalid_choice', 'patient']);
        bad = await call(a.token, 'PUT', `/test-users/${userId}/manages-for/someone-else`);
        assert.deepEqual([bad.status, bad.body.field], [400, 'patient']);
        assert.equal((await call(b.token, 'PUT', link)).status, 404, "another organisation's user");
        assert.equal((await call(a.token, 'DELETE', link)).status, 204);
        assert.deepEqual(await managesFor(), []);
      });

      test('a test user with the partner\'s own demographics is created, listed with them, and deleted', async () => {
        const own = {
          nhs_number: '9990000018', level: 'P9', given_name: 'Ada', family_name: 'Lovelace', birthdate: '1985-12-10',
          postcode: 'ls1 4ap', gp_ods_code: 'b82005', phone_number: '07700 900456', email: 'ada@ci.example',
          gp_linkage: { account_id: 'acc-1', linkage_key: 'key-1' },
        };
        const r = await call(a.token, 'POST', '/test-users', own);
        assert.equal(r.status, 201);
        assert.deepEqual([r.body.email, r.body.given_name, r.body.postcode, r.body.gp_ods_code, r.body.phone_number, r.body.gp_linked],
          ['ada@ci.example', 'Ada', 'LS1 4AP', 'B82005', '+447700900456', true]);
        assert.equal((await call(a.token, 'POST', '/test-users', own)).status, 409, 'one per NHS number');
        const id = String(r.body.id);
        assert.equal((await call(b.token, 'DELETE', `/test-users/${id}`)).status, 404, "another organisation's");
        assert.equal((await call(a.token, 'DELETE', `/test-users/${id}`)).status, 204);
        assert.ok(!((await call(a.token, 'GET', '/test-users')).body as unknown as { id: string }[]).some((u) => u.id === id));
        assert.equal((await call(a.token, 'DELETE', `/test-users/${id}`)).status, 404, 'gone');
      });

      test('own demographics of the wrong shape or out of the rules are a 400 naming the field, never a 500', async () => {
        for (const [body, error, field] of [
          [{ nhs_number: '4010232137', level: 'P9', given_name: 'A', family_name: 'B', birthdate: '1990-01-01' }, 'invalid_test_user',
            'nhs_number'],
          [{ nhs_number: '9990000018', level: 'P9', given_name: 'A', family_name: 'B' }, 'invalid_test_user', 'birthdate'],
          [{ nhs_number: '9990000018', level: 'P9', given_name: ['A'], birthdate: '1990-01-01' }, 'invalid_request', 'given_name'],
          [{ nhs_number: '9990000018', level: 'P9', birthdate: '1990-01-01', gp_linkage: 'x' }, 'invalid_request', 'gp_linkage'],
          [{ nhs_number: '9990000018', level: 'P9', birthdate: '1990-01-01', gp_linkage: { account_id: 'x' } }, 'invalid_request',
            'gp_linkage.linkage_key'],
        ] as const) {
          const res = await call(a.token, 'POST', '/test-users', body);
          assert.deepEqual([res.status, res.body.error, res.body.field], [400, error, field], JSON.stringify(body));
        }
      });

      test('a sandpit test user is created beside an integration one of the same NHS number, and listed with its environment', async () => {
        const sandpit = await call(a.token, 'POST', '/test-users', { env: 'sandpit', nhs_number: '9686368973', level: 'P9' });
        const integration = await call(a.token, 'POST', '/test-users', { nhs_number: '9686368973', level: 'P5' });
        assert.deepEqual([sandpit.status, sandpit.body.env, integration.status, integration.body.env],
          [201, 'sandpit', 201, 'integration']);
        assert.notEqual(sandpit.body.id, integration.body.id);
        const listed = (await call(a.token, 'GET', '/test-users')).body as unknown as { id: string; env: string }[];
        assert.equal(listed.find((u) => u.id === sandpit.body.id)?.env, 'sandpit');
        assert.equal((await call(a.token, 'PATCH', `/test-users/${String(sandpit.body.id)}`, { level: 'P5' })).status, 204);
        const proxy = await call(a.token, 'PUT', `/test-users/${String(sandpit.body.id)}/manages-for/${String(integration.body.id)}`);
        assert.deepEqual([proxy.status, proxy.body.field], [400, 'patient'], 'a proxy and its patient are in one environment');
        assert.equal((await call(b.token, 'DELETE', `/test-users/${String(sandpit.body.id)}`)).status, 404, "another organisation's");
        for (const u of [sandpit, integration])
          assert.equal((await call(a.token, 'DELETE', `/test-users/${String(u.body.id)}`)).status, 204);
      });

      test('a test user for live, or an environment of the wrong shape, is a 400 naming env', async () => {
        const cases = [['live', 'invalid_choice'], ['__proto__', 'invalid_choice'], [['sandpit'], 'invalid_request']] as const;
        for (const [env, error] of cases) {
          const r = await call(a.token, 'POST', '/test-users', { env, nhs_number: '9686368973', level: 'P9' });
          assert.deepEqual([r.status, r.body.error, r.body.field], [400, error, 'env'], JSON.stringify(env));
        }
      });

      test('a test user for an NHS number with no PDS record is refused, naming the field', async () => {
        assert.equal((await call(a.token, 'POST', '/test-users', { nhs_number: '0000000000', level: 'P5' })).body.field, 'nhs_number');
      });

      test('an integration request before the application is approved is not_ready, saying what is missing', async () => {
        let r = await call(a.token, 'GET', '/environment-requests');
        const criteria = r.body.integration_readiness as unknown as { id: string; met: boolean }[];
        assert.ok(criteria.some((c) => c.id === 'application' && !c.met));
        r = await call(a.token, 'POST', '/environment-requests', { env: 'integration' });
        assert.deepEqual([r.status, r.body.error], [409, 'not_ready']);
        assert.match(String(r.body.message), /application is approved/);
      });

      test('another organisation\'s token never reaches its documents, test users, members or application', async () => {
        const level = async () => ((await call(a.token, 'GET', '/test-users')).body as unknown as { level: string }[])[0]!.level;
        const was = await level();
        for (const [method, path, body] of [
          ['GET', `/documents/${docId}`],
          ['PATCH', `/test-users/${userId}`, { level: 'P0' }],
          ['DELETE', '/members/user-a'],
        ] as const) {
          const res = await call(b.token, method, path, body);
          assert.ok([403, 404].includes(res.status), `${method} ${path}: ${res.status}`);
        }
        assert.equal(((await call(b.token, 'GET', '/documents')).body as unknown as unknown[]).length, 0);
        assert.equal(((await call(b.token, 'GET', '/test-users')).body as unknown as unknown[]).length, 0);
        assert.equal((await call(b.token, 'GET', '/application')).body.status, 'draft');
        assert.notEqual(was, 'P0');
        assert.equal(await level(), was, 'unchanged by B');
      });
    });

    test('bad JSON is a JSON error; a token stops working when its maker leaves the organisation', async () => {
      const res = await app.fetch(`${API}/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
        body: '{"name": ',
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_json');
      const { createOrganisation: create } = await import('../onboarding/index.ts');
      const org = await create(app.database.db, 'boss', { name: 'C' });
      await app.database.db
        .insertInto('membership')
        .values({ organisation_id: org.id, user_id: 'leaver', role: 'developer', created_at: Date.now() })
        .execute();
      const t = await createApiToken(app.database.db, org.id, 'leaver', 'leaver ci');
      assert.equal((await call(t.token, 'GET', '/organisation')).body.your_role, 'developer');
      assert.equal(
        (await call(t.token, 'POST', '/invitations', { email: 'x@example.org', role: 'developer' })).status,
        403,
        "a developer's token has a developer's rights",
      );
      await app.database.db.deleteFrom('membership').where('user_id', '=', 'leaver').execute();
      assert.equal((await call(t.token, 'GET', '/organisation')).status, 401);
    });

    test('errors by their code: the last admin stays (409), a file over 10 MB is 413, a role not offered is invalid_role', async () => {
      const solo = { id: 'solo', email: 'solo@example.org', name: 'Solo', password_hash: 'x', email_confirmed_at: 1, created_at: 1 };
      await app.database.db.insertInto('partner_user').values(solo).execute();
      const org = await createOrganisation(app.database.db, 'solo', { name: 'Solo' });
      const t = await createApiToken(app.database.db, org.id, 'solo', 'ci');
      let r = await call(t.token, 'DELETE', '/members/solo');
      assert.deepEqual([r.status, r.body.error], [409, 'last_admin'], 'a conflict with the organisation\'s state, not a missing right');
      r = await call(t.token, 'PATCH', '/members/solo', { role: 'developer' });
      assert.deepEqual([r.status, r.body.error], [409, 'last_admin']);
      assert.equal((await call(t.token, 'GET', '/organisation')).body.your_role, 'partner_admin');
      r = await call(t.token, 'PATCH', '/members/solo', { role: 'boss' });
      assert.deepEqual([r.status, r.body.error, r.body.field], [400, 'invalid_role', 'role']);
      r = await call(t.token, 'POST', '/invitations', { email: 'new@example.org', role: 'boss' });
      assert.deepEqual([r.status, r.body.error, r.body.field], [400, 'invalid_role', 'role']);

      const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(10 * 1024 * 1024)]).toString('base64');
      r = await call(t.token, 'POST', '/documents', { kind: 'dspt', filename: 'big.pdf', content_base64: big });
      assert.deepEqual([r.status, r.body.error, r.body.field], [413, 'file_too_large', 'file']);
      r = await call(t.token, 'POST', '/documents', { kind: 'dspt', filename: 'empty.pdf', content_base64: '' });
      assert.deepEqual([r.status, r.body.error, r.body.field], [400, 'file_missing', 'file']);
      const exe = Buffer.from('MZ...').toString('base64');
      r = await call(t.token, 'POST', '/documents', { kind: 'dspt', filename: 'x.exe', content_base64: exe });
      assert.deepEqual([r.status, r.body.error, r.body.field], [400, 'invalid_file_type', 'file']);
      const pdf = Buffer.from('%PDF-1.4\n').toString('base64');
      r = await call(t.token, 'POST', '/documents', { kind: 'nonsense', filename: 'x.pdf', content_base64: pdf });
      const why = 'a kind not offered is a wrong answer, not a missing resource';
      assert.deepEqual([r.status, r.body.error, r.body.field], [400, 'invalid_choice', 'kind'], why);
      assert.equal(((await call(t.token, 'GET', '/documents')).body as unknown as unknown[]).length, 0);
    });

    test('messages and invitations, which each email someone, are limited per organisation: 429 with a stable code', async () => {
      const full = (key: string, count: number) =>
        app.database.db
          .insertInto('attempt_counter')
          .values({ key, count, inflight: 0, expires_at: Date.now() + 60_000 })
          .onConflict((oc) => oc.column('key').doUpdateSet({ count, expires_at: Date.now() + 60_000 }))
          .execute();
      assert.equal((await call(a.token, 'POST', '/messages', { body: 'Hello team' })).status, 204);
      await full(`comments:${a.org}`, 30);
      const message = await call(a.token, 'POST', '/messages', { body: 'One more' });
      assert.deepEqual([message.status, message.body.error], [429, 'rate_limited']);
      await full(`invitations:${a.org}`, 20);
      const invitation = await call(a.token, 'POST', '/invitations', { email: 'one.more@example.org', role: 'developer' });
      assert.deepEqual([invitation.status, invitation.body.error], [429, 'rate_limited']);
      assert.equal(
        (await app.database.db.selectFrom('invitation').select('id').where('email', '=', 'one.more@example.org').execute()).length,
        0,
      );
      await app.database.db
        .deleteFrom('attempt_counter')
        .where('key', 'in', [`comments:${a.org}`, `invitations:${a.org}`])
        .execute();
    });
  });
}
