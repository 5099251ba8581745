/**
 * A client's test issuers (test-issuers.ts): what each serves, to whom, and what a run's ID token for the unparseable-key test
 * says; on both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { createRp, type TestRp } from '../test-support/rp.ts';
import { spoilIdToken } from './faults.ts';
import { testIssuerSeen, testIssuerUrl, UNPARSEABLE_JWK } from './test-issuers.ts';

const SANDPIT = 'http://localhost:3000/sandpit';

for (const dialect of DIALECTS) {
  describe(`test issuers (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
    });
    after(() => app.stop());
    const get = async (path: string) => {
      const res = await app.fetch(`http://localhost:3000${path}`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const base = () => `/sandpit/test-issuers/${rp.client.clientId}`;

    test('unparseable-jwk: a discovery document naming its own address as issuer, with a JWKS of its own', async () => {
      const { status, body } = await get(`${base()}/unparseable-jwk/.well-known/openid-configuration`);
      assert.equal(status, 200);
      const self = testIssuerUrl(SANDPIT, rp.client.clientId, 'unparseable-jwk');
      assert.equal(body.issuer, self);
      assert.equal(body.jwks_uri, `${self}/jwks.json`);
      assert.equal(body.token_endpoint, `${SANDPIT}/token`, 'the endpoints are the environment\'s');
      assert.equal(body.authorization_endpoint, `${SANDPIT}/authorize`);
    });

    test('its JWKS lists a key that cannot be imported first, then every key of the environment', async () => {
      const { body } = await get(`${base()}/unparseable-jwk/jwks.json`);
      const keys = body.keys as JWK[];
      const own = ((await get('/sandpit/.well-known/jwks.json')).body.keys as JWK[]).map((k) => k.kid);
      assert.deepEqual(keys.map((k) => k.kid), [UNPARSEABLE_JWK.kid, ...own]);
      await assert.rejects(importJWK(keys[0]!, 'RS512'));
      await importJWK(keys[1]!, 'RS512');
    });

    test('issuer-mismatch: the environment\'s own document, whose issuer is not the address it was fetched from', async () => {
      const { body } = await get(`${base()}/issuer-mismatch/.well-known/openid-configuration`);
      assert.equal(body.issuer, SANDPIT);
      assert.equal(body.jwks_uri, `${SANDPIT}/.well-known/jwks.json`);
      assert.equal((await app.fetch(`http://localhost:3000${base()}/issuer-mismatch/jwks.json`)).status, 404, 'and no JWKS of its own');
    });

    test('a fetch of the discovery document is noted for the client and the kind', async () => {
      const other = await createRp(app, 'sandpit');
      assert.equal(await testIssuerSeen(app.database.db, 'sandpit', other.client.clientId, 'issuer-mismatch'), undefined);
      await get(`/sandpit/test-issuers/${other.client.clientId}/issuer-mismatch/.well-known/openid-configuration`);
      assert.ok(await testIssuerSeen(app.database.db, 'sandpit', other.client.clientId, 'issuer-mismatch'));
      assert.equal(await testIssuerSeen(app.database.db, 'sandpit', other.client.clientId, 'unparseable-jwk'), undefined);
    });

    test('an unknown client, an unknown kind, or a hostile id is not found, never 5xx', async () => {
      const status = async (path: string) => (await app.fetch(`http://localhost:3000${path}`)).status;
      assert.equal(await status('/sandpit/test-issuers/nobody/unparseable-jwk/.well-known/openid-configuration'), 404);
      assert.equal(await status(`${base()}/other/.well-known/openid-configuration`), 404);
      assert.equal(await status('/sandpit/test-issuers/a%20b/issuer-mismatch/.well-known/openid-configuration'), 404);
      assert.equal(await status('/sandpit/test-issuers/constructor/issuer-mismatch/.well-known/openid-configuration'), 404);
      assert.equal(await status(`/sandpit/test-issuers/${'x'.repeat(101)}/issuer-mismatch/jwks.json`), 404, 'longer than a route');
    });

    test('live has no test issuers', async () => {
      const live = await createRp(app, 'live');
      const path = `/live/test-issuers/${live.client.clientId}/issuer-mismatch/.well-known/openid-configuration`;
      const res = await app.fetch(`http://localhost:3000${path}`);
      assert.equal(res.status, 404);
    });
  });
}

test('a run\'s ID token for the unparseable-key test names the client\'s test issuer, signed with the same key', async () => {
  const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
  const { privateKey } = await generateKeyPair('RS512', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'k1' };
  const token = await new SignJWT({ sub: 's' }).setProtectedHeader({ alg: 'RS512', kid: 'k1' }).setIssuer(SANDPIT).setAudience('c-1')
    .sign(privateKey);
  const spoiled = await spoilIdToken('id_token_test_issuer', token, jwk);
  assert.equal(decodeJwt(spoiled).iss, testIssuerUrl(SANDPIT, 'c-1', 'unparseable-jwk'));
  assert.equal(decodeProtectedHeader(spoiled).kid, 'k1');
});
