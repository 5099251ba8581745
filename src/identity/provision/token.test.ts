/**
 * Provision Account's token request (spec-Provision_Account_v1 §3.2, §4): client_credentials with private_key_jwt at
 * the environment's /token, on both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { createRp, type TestRp } from '../../test-support/rp.ts';
import { updateClient } from '../../storage/index.ts';

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

for (const dialect of DIALECTS) {
  describe(`Provision Account token (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    let unapproved: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
      await updateClient(app.database.db, 'sandpit', rp.client.clientId, { provisioning: true, provisioningOds: ['A00002'] });
      unapproved = await createRp(app, 'sandpit');
    });
    after(() => app.stop());

    async function token(r: TestRp, extra: Record<string, string> = {}, changes: Parameters<TestRp['assertion']>[0] = {}) {
      const assertion = await r.assertion(changes);
      const form = { grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion };
      Object.assign(form, extra);
      const res = await app.fetch(r.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
    }

    test('an approved client gets a 300 s RS512 Bearer token with no scope (P§3.2.3 T2, §4.2 T14)', async () => {
      const r = await token(rp);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(Object.keys(r.body).sort(), ['access_token', 'expires_in', 'token_type']);
      assert.equal(r.body.token_type, 'Bearer');
      assert.equal(r.body.expires_in, 300);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.equal(r.headers.get('pragma'), 'no-cache');
      const jwt = String(r.body.access_token);
      assert.equal(decodeProtectedHeader(jwt).alg, 'RS512');
      const c = decodeJwt(jwt);
      assert.equal(c.iss, rp.issuer);
      assert.equal(c.sub, rp.client.clientId);
      assert.equal(c.aud, rp.client.clientId);
      assert.equal(c.exp! - c.iat!, 300);
      assert.equal(c.scope, undefined);
    });

    test('a scope sent is ignored: none is granted (T1 has no scope)', async () => {
      const r = await token(rp, { scope: 'openid profile' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.scope, undefined);
      assert.equal(decodeJwt(String(r.body.access_token)).scope, undefined);
    });

    test('a client the team has not approved is unauthorized_client, 400 (T5)', async () => {
      const r = await token(unapproved);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'unauthorized_client');
    });

    test('a bad client assertion is invalid_client, 401 (T5)', async () => {
      const r = await token(rp, {}, { aud: rp.issuer });
      assert.equal(r.status, 401);
      assert.equal(r.body.error, 'invalid_client');
    });

    test('a wrong client_assertion_type is invalid_request, 400', async () => {
      const r = await token(rp, { client_assertion_type: 'urn:example:other' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_request');
    });

    test('Users Endpoint V2 answers a provisioning token 403 "No scope was present in the request"', async () => {
      await updateClient(app.database.db, 'sandpit', rp.client.clientId, { usersV2: true });
      const t = String((await token(rp)).body.access_token);
      const res = await app.fetch(`${rp.issuer}/v2/Users?filter=${encodeURIComponent('nhsnumber eq "9686368973"')}`, {
        headers: { authorization: `Bearer ${t}` },
      });
      assert.equal(res.status, 403);
      assert.match(JSON.stringify(await res.json()), /No scope was present in the request/);
    });
  });
}
