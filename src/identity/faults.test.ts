/** Fault injection: each fault spoils only the chosen client's next responses, and openid-client refuses them. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { createRp, login, signIn, REDIRECT_URI, type TestRp } from '../test-support/rp.ts';
import { FaultError } from './faults.ts';
import { armFault, clearFaults } from './fault-sequence.ts';

for (const dialect of DIALECTS) {
  describe(`fault injection (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    let bystander: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
      bystander = await createRp(app, 'sandpit');
    });
    after(() => app.stop());

    // openid-client refuses these by itself; the signature, kid and iat faults below need the RP to verify the
    // ID token against the JWKS (openid-client skips that for tokens from the token endpoint, OIDC Core 3.1.3.7).
    const refused = ['id_token_wrong_iss', 'id_token_wrong_aud', 'id_token_expired', 'id_token_wrong_nonce', 'id_token_alg_none'];
    for (const kind of refused) {
      test(`${kind}: the relying party's library refuses the ID token; the next login is clean`, async () => {
        await armFault(app.database.db, 'sandpit', rp.client.clientId, kind, 1);
        await login(app, bystander, {}); // another client is never touched
        await assert.rejects(login(app, rp, {}));
        const clean = await login(app, rp, {});
        assert.equal(clean.claims.vot, 'P9.Cp.Cd');
      });
    }

    for (const kind of ['id_token_invalid_signature', 'id_token_unknown_kid', 'id_token_future_iat']) {
      test(`${kind}: verifying the ID token against the environment's JWKS refuses it`, async () => {
        await armFault(app.database.db, 'sandpit', rp.client.clientId, kind, 1);
        const r = await login(app, rp, {});
        const jwks = createLocalJWKSet((await (await app.fetch(`${rp.issuer}/.well-known/jwks.json`)).json()) as never);
        const verify = (t: string) =>
          jwtVerify(t, jwks, { issuer: rp.issuer, audience: rp.client.clientId, algorithms: ['RS512'], maxTokenAge: '1h' });
        if (kind === 'id_token_future_iat') assert.ok(Number(decodeJwt(r.tokens.id_token!).iat) > Date.now() / 1000 + 600);
        else await assert.rejects(verify(r.tokens.id_token!));
        await verify((await login(app, rp, {})).tokens.id_token!);
      });
    }

    test('id_token_wrong_vot changes vot (the RP must compare it with its vtr)', async () => {
      await armFault(app.database.db, 'sandpit', rp.client.clientId, 'id_token_wrong_vot', 1);
      const r = await login(app, rp, { vtr: ['P9.Cp.Cd'] });
      assert.equal(r.claims.vot, 'P0.Cp');
    });

    test('userinfo_sub_mismatch: a userinfo sub that differs from the ID token\'s', async () => {
      const r = await login(app, rp, {});
      await armFault(app.database.db, 'sandpit', rp.client.clientId, 'userinfo_sub_mismatch', null);
      await assert.rejects(oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub));
      await assert.rejects(oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub), 'until cleared');
      await clearFaults(app.database.db, 'sandpit', rp.client.clientId);
      assert.equal((await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub)).sub, r.claims.sub);
    });

    test('token_server_error and token_temporarily_unavailable; the undelivered tokens are revoked', async () => {
      for (const [kind, status, error] of [
        ['token_server_error', 500, 'server_error'],
        ['token_temporarily_unavailable', 503, 'temporarily_unavailable'],
      ] as const) {
        await armFault(app.database.db, 'sandpit', rp.client.clientId, kind, 1);
        const s = await signIn(app, rp, {});
        const res = await app.fetch(rp.tokenEndpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: s.callback!.searchParams.get('code')!,
            redirect_uri: REDIRECT_URI,
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: await rp.assertion(),
          }).toString(),
        });
        assert.equal(res.status, status);
        assert.equal(((await res.json()) as { error: string }).error, error);
      }
    });

    test('never in live; only listed faults', async () => {
      await assert.rejects(armFault(app.database.db, 'live', rp.client.clientId, 'id_token_expired', 1), FaultError);
      await assert.rejects(armFault(app.database.db, 'sandpit', rp.client.clientId, 'made_up', 1), FaultError);
      assert.ok(decodeJwt((await login(app, rp, {})).tokens.id_token!).iss);
    });
  });
}
