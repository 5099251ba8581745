/**
 * Users Endpoint V2's token request (its interface specification v1.1, §3.2): the jwt-bearer grant at the
 * environment's /token, on both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { createRp, type TestRp } from '../../test-support/rp.ts';
import { getClient, updateClient } from '../../storage/index.ts';
import { JWT_BEARER } from './grant.ts';
import { usersRetrieveScope } from './scope.ts';
import { armFault } from '../fault-sequence.ts';

const RETRIEVE = usersRetrieveScope('sandpit');

async function post(app: TestApp, rp: TestRp, form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await app.fetch(rp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

for (const dialect of DIALECTS) {
  describe(`Users Endpoint V2 token (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    let unapproved: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit', { scopes: ['openid', 'profile', 'email'] });
      await updateClient(app.database.db, 'sandpit', rp.client.clientId, { usersV2: true });
      unapproved = await createRp(app, 'sandpit');
    });
    after(() => app.stop());

    const grant = async (r: TestRp, scope: string, changes: Parameters<TestRp['assertion']>[0] = {}) =>
      post(app, r, { grant_type: JWT_BEARER, assertion: await r.assertion(changes), scope });

    test('an approved client gets a 300 s RS512 Bearer token with the claims of §4.2, and the scope granted', async () => {
      const r = await grant(rp, `${RETRIEVE} profile email phone`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.token_type, 'Bearer');
      assert.equal(r.body.expires_in, 300);
      assert.equal(r.body.scope, `${RETRIEVE} profile email`, 'phone is not approved for this client');
      assert.equal(r.body.refresh_token, undefined);
      assert.equal(r.body.id_token, undefined);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.equal(r.headers.get('pragma'), 'no-cache');
      const token = String(r.body.access_token);
      assert.equal(decodeProtectedHeader(token).alg, 'RS512');
      const c = decodeJwt(token);
      assert.equal(c.iss, rp.issuer);
      assert.equal(c.sub, rp.client.clientId);
      assert.equal(c.aud, rp.client.clientId);
      assert.equal(c.client_id, rp.client.clientId);
      assert.equal(c.requesting_system, rp.client.clientId);
      assert.equal(c.reason_for_request, 'directcare');
      assert.equal(c.version, 0);
      assert.equal(c.token_use, 'access');
      assert.equal(c.scope, `${RETRIEVE} profile email phone`, 'the token carries the scopes requested (Table 13)');
      assert.equal(c.exp! - c.iat!, 300);
    });

    test('a client the team has not approved is unauthorized_client', async () => {
      const r = await grant(unapproved, RETRIEVE);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'unauthorized_client');
    });

    test('a bad assertion is invalid_grant, 400, with the precise reason (RFC 7523 §3.1)', async () => {
      for (const [what, changes] of [
        ['wrong aud', { aud: rp.issuer }],
        ['RS256', { alg: 'RS256' as const }],
        ['another key', { otherKey: true }],
        ['expired', { exp: Math.floor(Date.now() / 1000) - 60 }],
      ] as const) {
        const r = await grant(rp, RETRIEVE, changes);
        assert.equal(r.status, 400, what);
        assert.equal(r.body.error, 'invalid_grant', what);
        assert.ok(r.body.error_description, what);
        assert.equal(r.headers.get('www-authenticate'), null, what);
      }
    });

    test('an assertion is used once', async () => {
      const assertion = await rp.assertion();
      assert.equal((await post(app, rp, { grant_type: JWT_BEARER, assertion, scope: RETRIEVE })).status, 200);
      const again = await post(app, rp, { grant_type: JWT_BEARER, assertion, scope: RETRIEVE });
      assert.equal(again.body.error, 'invalid_grant');
      assert.match(String(again.body.error_description), /once/);
    });

    test('no assertion is invalid_request naming the parameter', async () => {
      const r = await post(app, rp, { grant_type: JWT_BEARER, scope: RETRIEVE });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_request');
      assert.match(String(r.body.error_description), /'assertion'/);
    });

    test('the assertion sent as a client_assertion instead is invalid_request', async () => {
      const r = await post(app, rp, {
        grant_type: JWT_BEARER, scope: RETRIEVE,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await rp.assertion(),
      });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_request');
      assert.match(String(r.body.error_description), /'assertion'/);
    });

    test('an assertion and a client assertion together are invalid_request (more than one mechanism)', async () => {
      const r = await post(app, rp, {
        grant_type: JWT_BEARER, scope: RETRIEVE, assertion: await rp.assertion(),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await rp.assertion(),
      });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_request');
      assert.match(String(r.body.error_description), /alone/);
    });

    test('no scope is invalid_request; a scope outside the allowable list is invalid_scope', async () => {
      const none = await post(app, rp, { grant_type: JWT_BEARER, assertion: await rp.assertion() });
      assert.equal(none.body.error, 'invalid_request');
      assert.match(String(none.body.error_description), /'scope'/);
      for (const scope of ['openid', 'Users.retrieve', usersRetrieveScope('integration'), `${RETRIEVE} basic_demographics`]) {
        const r = await grant(rp, scope);
        assert.equal(r.status, 400, scope);
        assert.equal(r.body.error, 'invalid_scope', scope);
      }
      const bare = await grant(rp, 'Users.retrieve');
      assert.ok(String(bare.body.error_description).includes(RETRIEVE), 'the description gives the full scope to send');
    });

    test("the specification example's grant type is unsupported_grant_type", async () => {
      const grantType = 'urn:ietf:params:oauth:grant-assertion-type:jwt-bearer';
      const r = await post(app, rp, { grant_type: grantType, assertion: await rp.assertion(), scope: RETRIEVE });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'unsupported_grant_type');
    });

    test('a suspended client is invalid_grant', async () => {
      const own = await createRp(app, 'sandpit');
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { usersV2: true, status: 'suspended' });
      const r = await grant(own, RETRIEVE);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_grant');
      assert.match(String(r.body.error_description), /suspended/);
    });

    test('each token request is in the protocol record, the failure with its code', async () => {
      const own = await createRp(app, 'sandpit');
      await grant(own, RETRIEVE);
      const rows = await app.database.db.selectFrom('protocol_event').selectAll().where('client_id', '=', own.client.clientId).execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.kind, 'token');
      assert.equal(rows[0]!.error, 'unauthorized_client');
      assert.equal(JSON.parse(rows[0]!.details!).grant_type, JWT_BEARER);
    });

    test('an armed token fault answers 503, and the token it withheld is not kept', async () => {
      const own = await createRp(app, 'sandpit');
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { usersV2: true });
      await armFault(app.database.db, 'sandpit', own.client.clientId, 'token_temporarily_unavailable', 1);
      const tokens = async () =>
        (await app.database.db.selectFrom('oidc_model').select('id').where('model', '=', 'ClientCredentials').execute()).length;
      const before = await tokens();
      const r = await grant(own, RETRIEVE);
      assert.equal(r.status, 503);
      assert.equal(r.body.error, 'temporarily_unavailable');
      assert.equal(await tokens(), before, 'the withheld token was destroyed');
      assert.equal((await grant(own, RETRIEVE)).status, 200, 'the next request is answered');
    });

    test('an armed ID token fault waits for a response with an ID token', async () => {
      const own = await createRp(app, 'sandpit');
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { usersV2: true });
      await armFault(app.database.db, 'sandpit', own.client.clientId, 'id_token_wrong_iss', 1);
      assert.equal((await grant(own, RETRIEVE)).status, 200);
      assert.equal((await getClient(app.database.db, 'sandpit', own.client.clientId))!.fault?.steps[0]?.fired, 0, 'still armed');
    });

    test('a body past the engine\'s limit is invalid_request, never a 5xx', async () => {
      const pad = 'x'.repeat(60 * 1024);
      const r = await post(app, rp, { grant_type: JWT_BEARER, assertion: await rp.assertion(), scope: RETRIEVE, pad });
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_request');
    });

    test('the code flow is untouched: a Users Endpoint V2 token does not open /userinfo', async () => {
      const r = await grant(rp, `${RETRIEVE} profile`);
      const res = await app.fetch(`${rp.issuer}/userinfo`, { headers: { authorization: `Bearer ${String(r.body.access_token)}` } });
      assert.equal(res.status, 401);
    });
  });
}
