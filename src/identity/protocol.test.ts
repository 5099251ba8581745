/**
 * The NHS login interface, end to end in-process, on both databases: discovery, the code flow per proofing
 * level, token and ID token shape, userinfo, refresh, and the client-authentication errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { createRp, login, REDIRECT_URI, type TestRp } from '../test-support/rp.ts';

async function tokenRequest(app: TestApp, rp: TestRp, form: Record<string, string>) {
  const res = await app.fetch(rp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', ...form }).toString(),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

for (const dialect of DIALECTS) {
  describe(`NHS login protocol (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
    });
    after(() => app.stop());

    test('every exchange of a login is in the protocol record by the time its answer arrives (a crash then loses none)', async () => {
      const own = await createRp(app, 'sandpit');
      await login(app, own, {}); // reads nothing from the record: the journey's pages and the token answer are all it sees
      const kinds = (
        await app.database.db.selectFrom('protocol_event').select('kind').where('client_id', '=', own.client.clientId).execute()
      ).map((e) => e.kind);
      for (const kind of ['authorize', 'sign_in', 'otp', 'consent', 'token'] as const)
        assert.ok(kinds.includes(kind), `${kind} is written (got ${kinds.join(', ')})`);
    });

    test('discovery advertises exactly the NHS login profile', async () => {
      const res = await app.fetch(`${rp.issuer}/.well-known/openid-configuration`);
      const d = (await res.json()) as Record<string, unknown>;
      assert.equal(d.issuer, 'http://localhost:3000/sandpit');
      assert.deepEqual(d.response_types_supported, ['code']);
      assert.deepEqual(d.response_modes_supported, ['query']);
      assert.deepEqual(d.token_endpoint_auth_methods_supported, ['private_key_jwt']);
      assert.deepEqual(d.token_endpoint_auth_signing_alg_values_supported, ['RS512']);
      assert.deepEqual(d.id_token_signing_alg_values_supported, ['RS512']);
      assert.deepEqual(d.subject_types_supported, ['public']);
      assert.equal(d.end_session_endpoint, undefined);
      assert.equal(d.authorization_response_iss_parameter_supported, undefined, 'NHS login sends no iss on redirects');
      assert.equal(d.jwks_uri, 'http://localhost:3000/sandpit/.well-known/jwks.json');
      for (const k of ['registration_request', 'registration_response', 'deregistration', 'authentication_request']) {
        assert.equal(d[`fido_uaf_${k}_endpoint`], undefined, `FIDO UAF is not offered, so ${k} is not advertised`);
      }
      for (const s of ['openid', 'profile', 'basic_demographics', 'gp_integration_credentials', 'client_metadata']) {
        assert.ok((d.scopes_supported as string[]).includes(s), s);
      }
      const jwks = (await (await app.fetch(`${rp.issuer}/.well-known/jwks.json`)).json()) as { keys: Record<string, unknown>[] };
      assert.equal(jwks.keys[0]!.alg, 'RS512');
      assert.equal(jwks.keys[0]!.d, undefined, 'no private parts published');
    });

    test('P9 login: RS512 ID and access tokens with the NHS claims, userinfo, no-store', async () => {
      const r = await login(app, rp, { scope: 'openid profile email phone gp_registration_details', vtr: ['P9.Cp.Cd'] });
      assert.deepEqual(r.steps, ['sign-in', 'otp', 'consent']);
      assert.equal(r.callback!.searchParams.get('iss'), null, 'no RFC 9207 iss in the redirect');
      const header = decodeProtectedHeader(r.tokens.id_token!);
      assert.equal(header.alg, 'RS512');
      const c = r.claims;
      assert.equal(c.iss, rp.issuer);
      assert.equal(c.aud, rp.client.clientId);
      assert.equal(c.vot, 'P9.Cp.Cd');
      assert.equal(c.vtm, 'http://localhost:3000/sandpit/trustmark/localhost:3000');
      assert.equal(c.nhs_number, '9686368973');
      assert.equal(c.family_name, 'MILLAR');
      assert.equal(c.birthdate, '1968-02-12');
      assert.equal(c.identity_proofing_level, 'P9');
      assert.ok(c.jti && c.auth_time && c.nonce);
      for (const absent of ['acr', 'amr', 'azp', 'email', 'given_name']) assert.equal(c[absent], undefined, absent);
      assert.equal(r.tokens.expires_in, 300);
      assert.ok(r.tokens.refresh_token);

      const at = r.tokens.access_token;
      assert.equal(decodeProtectedHeader(at).alg, 'RS512');
      const atClaims = decodeJwt(at);
      assert.equal(atClaims.client_id, rp.client.clientId);
      assert.equal(atClaims.vot, 'P9.Cp.Cd');
      assert.equal(atClaims.scope, 'openid profile email phone gp_registration_details');
      assert.equal(atClaims.sub, c.sub);

      const ui = await oidc.fetchUserInfo(rp.config, at, c.sub);
      assert.equal(ui.sub, c.sub);
      assert.equal(ui.email, 'testuserlive@demo.signin.nhs.uk');
      assert.equal(ui.email_verified, true);
      assert.equal(ui.phone_number, '+447887510887');
      assert.deepEqual(ui.gp_registration_details, { gp_ods_code: 'C83615' });
      assert.equal(ui.given_name, undefined, 'the sandpit has no PDS: no given_name');
      for (const [, v] of Object.entries(ui)) assert.notEqual(v, null);
    });

    test('token response headers: Cache-Control no-store and Pragma no-cache', async () => {
      const r = await login(app, rp, {});
      const refreshed = await tokenRequest(app, rp, {
        grant_type: 'refresh_token',
        refresh_token: r.tokens.refresh_token!,
        client_assertion: await rp.assertion(),
      });
      assert.equal(refreshed.status, 200);
      assert.equal(refreshed.headers.get('cache-control'), 'no-store');
      assert.equal(refreshed.headers.get('pragma'), 'no-cache');
    });

    test('a P5 user asking for P5 gets P5 claims; userinfo sub equals ID token sub', async () => {
      const p5 = await createRp(app, 'sandpit', { vtr: ['P5.Cp.Cd'], scopes: ['openid', 'basic_demographics'] });
      const r = await login(app, p5, {
        email: 'testuserlive+p5@demo.signin.nhs.uk',
        scope: 'openid basic_demographics',
        vtr: ['P5.Cp.Cd'],
      });
      assert.equal(r.claims.vot, 'P5.Cp.Cd');
      assert.equal(r.claims.nhs_number, undefined, 'basic_demographics has no NHS number');
      assert.ok(r.claims.family_name);
    });

    test('a P9 user asking ["P5.Cp.Cd","P9.Cp.Cd"] gets vot P9.Cp.Cd, at sign-in and again by single sign-on', async () => {
      // Federation spec §5.1.6.3 (Example 3): the service lists its P5 vectors first and offers a P9 user everything.
      const both = await createRp(app, 'sandpit', { vtr: ['P5.Cp.Cd', 'P9.Cp.Cd'] });
      const first = await login(app, both, { vtr: ['P5.Cp.Cd', 'P9.Cp.Cd'] });
      assert.equal(first.claims.vot, 'P9.Cp.Cd');
      assert.equal(decodeJwt(first.tokens.access_token).vot, 'P9.Cp.Cd');
      const again = await login(app, both, { vtr: ['P5.Cp.Cd', 'P9.Cp.Cd'], browser: first.browser });
      assert.ok(!again.steps.includes('sign-in'), `single sign-on (steps: ${again.steps.join(', ')})`);
      assert.equal(again.claims.vot, 'P9.Cp.Cd');
    });

    test('refresh may narrow scope but never widen it', async () => {
      const r = await login(app, rp, { scope: 'openid profile email' });
      const narrow = await tokenRequest(app, rp, {
        grant_type: 'refresh_token',
        refresh_token: r.tokens.refresh_token!,
        scope: 'openid email',
        client_assertion: await rp.assertion(),
      });
      assert.equal(narrow.status, 200);
      assert.equal(decodeJwt(String(narrow.body.access_token)).scope, 'openid email');
      const wide = await tokenRequest(app, rp, {
        grant_type: 'refresh_token',
        refresh_token: String(narrow.body.refresh_token),
        scope: 'openid email phone',
        client_assertion: await rp.assertion(),
      });
      assert.equal(wide.status, 400);
      assert.equal(wide.body.error, 'invalid_scope');
    });

    test('code replay is invalid_grant and revokes the tokens issued from the code', async () => {
      const { signIn } = await import('../test-support/rp.ts');
      const s = await signIn(app, rp, {});
      const code = s.callback!.searchParams.get('code')!;
      const first = await tokenRequest(app, rp, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_assertion: await rp.assertion(),
      });
      assert.equal(first.status, 200);
      const ok = await app.fetch(`${rp.issuer}/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
      assert.equal(ok.status, 200);
      const replay = await tokenRequest(app, rp, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_assertion: await rp.assertion(),
      });
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      const revoked = await app.fetch(`${rp.issuer}/userinfo`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
      assert.equal(revoked.status, 401);
      assert.match(revoked.headers.get('www-authenticate') ?? '', /invalid_token/);
    });

    test('a code redeemed twice at once: one token response at most, and its tokens revoked', async () => {
      const { signIn } = await import('../test-support/rp.ts');
      const s = await signIn(app, rp, {});
      const code = s.callback!.searchParams.get('code')!;
      const results = await Promise.all(
        Array.from({ length: 4 }, async () =>
          tokenRequest(app, rp, {
            grant_type: 'authorization_code',
            code,
            redirect_uri: REDIRECT_URI,
            client_assertion: await rp.assertion(),
          }),
        ),
      );
      const won = results.filter((r) => r.status === 200);
      assert.ok(won.length <= 1, `at most one redemption succeeds, got ${won.length}`);
      assert.ok(results.filter((r) => r.body.error === 'invalid_grant').length >= 3);
      for (const w of won) {
        const ui = await app.fetch(`${rp.issuer}/userinfo`, { headers: { authorization: `Bearer ${w.body.access_token}` } });
        assert.equal(ui.status, 401, 'the replay revoked the tokens the code gave');
      }
    });

    test('one client assertion sent twice at once authenticates at most once', async () => {
      const jti = `concurrent-${Date.now()}`;
      const assertion = await rp.assertion({ jti });
      const results = await Promise.all(
        Array.from({ length: 4 }, () =>
          tokenRequest(app, rp, {
            grant_type: 'authorization_code',
            code: 'not-a-code',
            redirect_uri: REDIRECT_URI,
            client_assertion: assertion,
          }),
        ),
      );
      const authenticated = results.filter((r) => r.body.error !== 'invalid_client');
      assert.equal(
        authenticated.length,
        1,
        `exactly one got past client authentication: ${JSON.stringify(results.map((r) => r.body.error))}`,
      );
      assert.equal(authenticated[0]!.body.error, 'invalid_grant');
    });

    describe('client authentication failures are invalid_client', () => {
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, () => Promise<string>][] = [
        ['wrong aud (issuer)', () => rp.assertion({ aud: rp.issuer })],
        ['wrong iss', () => rp.assertion({ iss: 'someone-else' })],
        ['wrong sub', () => rp.assertion({ sub: 'someone-else' })],
        ['expired', () => rp.assertion({ exp: now - 60 })],
        ['signed by another key', () => rp.assertion({ otherKey: true })],
        ['RS256 with the registered key', () => rp.assertion({ alg: 'RS256' })],
        ['PS512 with the registered key', () => rp.assertion({ alg: 'PS512' })],
        ['HS512 (a shared secret)', () => rp.assertion({ alg: 'HS512' })],
        ['alg none', () => rp.assertion({ alg: 'none' })],
      ];
      for (const [name, make] of cases)
        test(`a client assertion with ${name} is invalid_client, 401`, async () => {
          const res = await tokenRequest(app, rp, {
            grant_type: 'authorization_code',
            code: 'x',
            redirect_uri: REDIRECT_URI,
            client_assertion: await make(),
          });
          assert.equal(res.status, 401, name);
          assert.equal(res.body.error, 'invalid_client', name);
        });

      test('a client assertion replayed (its jti seen before) is invalid_client', async () => {
        const jti = 'replayed-jti';
        await tokenRequest(app, rp, {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT_URI,
          client_assertion: await rp.assertion({ jti }),
        });
        const replay = await tokenRequest(app, rp, {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT_URI,
          client_assertion: await rp.assertion({ jti }),
        });
        assert.equal(replay.body.error, 'invalid_client', 'assertion jti replay');
      });

      test('a client secret in the body (client_secret_post) is invalid_client', async () => {
        const secret = await tokenRequest(app, rp, {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT_URI,
          client_id: rp.client.clientId,
          client_secret: 'x',
          client_assertion_type: '',
        });
        assert.equal(secret.body.error, 'invalid_client', 'client_secret_post refused');
      });

      test('a client secret in Basic authorization (client_secret_basic) is invalid_client, 401', async () => {
        const basic = await app.fetch(rp.tokenEndpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${rp.client.clientId}:secret`).toString('base64')}`,
          },
          body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI }).toString(),
        });
        assert.equal(basic.status, 401, 'client_secret_basic refused');
        assert.equal(((await basic.json()) as { error: string }).error, 'invalid_client');
      });

      test('a client_id with no assertion (auth method none) is invalid_client, and the error is not cached', async () => {
        const noAuth = await tokenRequest(app, rp, {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT_URI,
          client_id: rp.client.clientId,
          client_assertion_type: '',
        });
        assert.equal(noAuth.body.error, 'invalid_client', 'token_endpoint_auth_method none refused');
        assert.equal(noAuth.headers.get('pragma'), 'no-cache', 'errors are not cached either');
        assert.equal(noAuth.headers.get('cache-control'), 'no-store');
      });
    });

    test('the client_credentials grant is refused, 400', async () => {
      const unsupported = await tokenRequest(app, rp, { grant_type: 'client_credentials', client_assertion: await rp.assertion() });
      assert.equal(unsupported.status, 400);
      assert.match(String(unsupported.body.error), /unsupported_grant_type|unauthorized_client/);
    });

    test('a client assertion is fresh: iat at most 5 s ahead, exp at most 5 minutes after iat (or now)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const refused: [string, { iat?: number | null; exp?: number }, RegExp][] = [
        ['iat an hour ahead', { iat: now + 3600, exp: now + 3660 }, /iat is 36\d\d s ahead/],
        ['exp ten years ahead', { exp: now + 10 * 365 * 86400 }, /must expire within 300 s/],
        ['a lifetime of 301 s', { exp: now + 301 }, /exp is 301 s after iat/],
        ['no iat and exp 10 minutes ahead', { iat: null, exp: now + 600 }, /there is no iat/],
        ['iat a day ago', { iat: now - 86400, exp: now + 60 }, /must expire within 300 s/],
      ];
      for (const [name, claims] of refused) {
        const res = await tokenRequest(app, rp, {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT_URI,
          client_assertion: await rp.assertion({ ...claims, jti: `fresh-${name}` }),
        });
        assert.equal(res.status, 401, name);
        assert.equal(res.body.error, 'invalid_client', name);
      }
      await app.events.flush();
      const rows = await app.database.db
        .selectFrom('protocol_event')
        .select(['error', 'details'])
        .where('client_id', '=', rp.client.clientId)
        .where('kind', '=', 'token')
        .execute();
      for (const [name, , detail] of refused) {
        const row = rows.find((r) => detail.test((JSON.parse(r.details!) as { detail?: string }).detail ?? ''));
        assert.ok(row, `${name}: the reason is in the partner's own record`);
        assert.equal(row.error, 'invalid_client', name);
      }
      const accepted: [string, { iat?: number | null; exp?: number }][] = [
        ['iat 3 s ahead (clock skew)', { iat: now + 3, exp: now + 60 }],
        ['a lifetime of 300 s', { exp: now + 300 }],
        ['no iat, exp a minute ahead', { iat: null, exp: now + 60 }],
      ];
      for (const [name, claims] of accepted) {
        const res = await tokenRequest(app, rp, {
          grant_type: 'authorization_code',
          code: 'x',
          redirect_uri: REDIRECT_URI,
          client_assertion: await rp.assertion({ ...claims, jti: `fresh-${name}` }),
        });
        assert.equal(res.body.error, 'invalid_grant', `${name}: past client authentication, to the made-up code`);
      }
    });

    test('a token request with no client authentication at all is invalid_client, 401 (RFC 6749 §5.2), and recorded', async () => {
      const forms: Record<string, string>[] = [
        { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI, client_assertion_type: '' },
        { grant_type: 'authorization_code', code: 'x' },
      ];
      for (const form of forms) {
        const res = await tokenRequest(app, rp, form);
        assert.equal(res.status, 401, JSON.stringify(form));
        assert.equal(res.body.error, 'invalid_client');
        assert.equal(res.headers.get('cache-control'), 'no-store');
      }
      await app.events.flush();
      const rows = await app.database.db
        .selectFrom('protocol_event')
        .select(['details'])
        .where('kind', '=', 'token')
        .where('error', '=', 'invalid_client')
        .where('cause', '=', 'no_client_authentication')
        .execute();
      assert.equal(rows.length, 2, 'both refusals are in the protocol record as invalid_client');
      assert.ok(rows.every((r) => (JSON.parse(r.details!) as { status: number }).status === 401));
      const malformed = await tokenRequest(app, rp, { grant_type: 'authorization_code', code: 'x', client_assertion: 'not-a-jwt' });
      assert.equal(
        malformed.body.error,
        'invalid_request',
        'an attempt at client authentication that cannot be read stays invalid_request',
      );
    });

    test('userinfo refuses a tampered or foreign access token', async () => {
      const r = await login(app, rp, {});
      const [h, p] = r.tokens.access_token.split('.');
      const forged = `${h}.${p}.${'A'.repeat(342)}`;
      const res = await app.fetch(`${rp.issuer}/userinfo`, { headers: { authorization: `Bearer ${forged}` } });
      assert.equal(res.status, 401);
      const none = await app.fetch(`${rp.issuer}/userinfo`);
      assert.equal(none.status, 401, 'RFC 6750 §3.1: no token is 401');
    });

    test('PATCH /userinfo stores client_user_metadata; "" clears it', async () => {
      const r = await login(app, rp, { scope: 'openid client_metadata' });
      const patch = (value: unknown) =>
        app.fetch(`${rp.issuer}/userinfo`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${r.tokens.access_token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ client_user_metadata: value }),
        });
      assert.equal((await patch('hello')).status, 204);
      let ui = await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub);
      assert.equal(ui.client_user_metadata, 'hello');
      assert.equal((await patch('x'.repeat(1025))).status, 400);
      assert.equal((await patch('')).status, 204);
      ui = await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub);
      assert.equal(ui.client_user_metadata, undefined);
      assert.equal((await patch('auto')).status, 204);
      ui = await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub);
      assert.match(String(ui.client_user_metadata), /^[\w-]{32}$/, '"auto" stores a generated value');
      const noToken = await app.fetch(`${rp.issuer}/userinfo`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: '{"client_user_metadata":"x"}',
      });
      assert.equal(noToken.status, 401);
      assert.match(noToken.headers.get('www-authenticate') ?? '', /invalid_token/);
      const other = await login(app, rp, { scope: 'openid profile' });
      const narrow = await app.fetch(`${rp.issuer}/userinfo`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${other.tokens.access_token}`, 'content-type': 'application/json' },
        body: '{"client_user_metadata":"x"}',
      });
      assert.equal(narrow.status, 403);
      assert.match(narrow.headers.get('www-authenticate') ?? '', /insufficient_scope/);
      await app.events.flush();
      const patches = await app.database.db
        .selectFrom('protocol_event')
        .select(['outcome', 'error'])
        .where('kind', '=', 'userinfo_patch')
        .where('client_id', '=', rp.client.clientId)
        .execute();
      assert.equal(patches.filter((e) => e.outcome === 'ok').length, 3, 'each PATCH is in the protocol record');
      assert.ok(patches.some((e) => e.error === 'insufficient_scope'));
    });
  });
}
