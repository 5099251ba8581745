/** asserted_login_identity: single sign-on from one service to another, for configured pairs only. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { setClientSsoTo } from '../storage/index.ts';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser } from '../test-support/browser.ts';
import { authorizationUrl, createRp, login, signIn, type TestRp } from '../test-support/rp.ts';

for (const dialect of DIALECTS) {
  describe(`asserted_login_identity (${dialect})`, () => {
    let app: TestApp;
    let rp1: TestRp;
    let rp2: TestRp;
    let idTokenJti: string;
    let sub: string;
    const assertion = (o: { code?: string; lifetime?: number; iss?: string; key?: TestRp; skew?: number } = {}) => {
      const now = Math.floor(Date.now() / 1000) + (o.skew ?? 0);
      const signer = o.key ?? rp1;
      return new SignJWT({ code: o.code ?? idTokenJti })
        .setProtectedHeader({ alg: 'RS512', kid: signer.kid })
        .setIssuer(o.iss ?? rp1.client.clientId)
        .setIssuedAt(now)
        .setExpirationTime(now + (o.lifetime ?? 60))
        .setJti(randomBytes(8).toString('hex'))
        .sign(signer.privateKey);
    };
    const errorFor = async (rp: TestRp, ali: string, prompt?: string) => {
      const page = await new Browser(app.fetch, 'http://localhost:3000').get(
        authorizationUrl(rp, { state: 's', nonce: 'n', extra: { asserted_login_identity: ali }, ...(prompt ? { prompt } : {}) }),
      );
      return new URL(page.url).searchParams;
    };

    before(async () => {
      app = await startTestApp(dialect);
      rp1 = await createRp(app, 'sandpit');
      rp2 = await createRp(app, 'sandpit');
      await setClientSsoTo(app.database.db, 'sandpit', rp1.client.clientId, [rp2.client.clientId]);
      const r = await login(app, rp1, {});
      idTokenJti = String(r.claims.jti);
      sub = r.claims.sub;
    });
    after(() => app.stop());

    test('a configured pair signs the person in at the second service without a password', async () => {
      const ali = await assertion();
      const r = await login(app, rp2, { extra: { asserted_login_identity: ali } });
      assert.deepEqual(r.steps, ['consent'], 'only the second service\'s consent, no sign-in');
      assert.equal(r.claims.sub, sub);
      assert.equal(r.claims.vot, 'P9.Cp.Cd');
      const replay = await errorFor(rp2, ali);
      assert.equal(replay.get('error'), 'invalid_request');
      assert.match(replay.get('error_description')!, /already been used/);
      // In the session where consent was given, prompt=none now completes with no page at all.
      const again = await signIn(app, rp2, { browser: r.browser, prompt: 'none', extra: { asserted_login_identity: await assertion() } });
      assert.ok(again.callback?.searchParams.get('code'));
    });

    test('refused: unconfigured pair, long-lived, unknown code, wrong signer, dated in the future', async () => {
      let e = await errorFor(rp1, await assertion({ iss: rp2.client.clientId, key: rp2 }));
      assert.match(e.get('error_description')!, /not a single sign-on pair/);
      e = await errorFor(rp2, await assertion({ lifetime: 300 }));
      assert.match(e.get('error_description')!, /60 seconds/);
      e = await errorFor(rp2, await assertion({ code: 'not-an-id-token' }));
      assert.match(e.get('error_description')!, /does not name an ID token/);
      e = await errorFor(rp2, await assertion({ key: rp2 }));
      assert.match(e.get('error_description')!, /was refused/);
      assert.equal(e.get('error'), 'invalid_request');
      // Dated 50 minutes ahead with a 60 s lifetime: it would outlive its single-use marker.
      e = await errorFor(rp2, await assertion({ skew: 3000 }));
      assert.match(e.get('error_description')!, /in the future|was refused/);
      assert.equal(e.get('error'), 'invalid_request');
    });

    test('under prompt=none a refused assertion is sso_login_required, saying why (Federation §3.4.5.2)', async () => {
      const e = await errorFor(rp2, await assertion({ code: 'not-an-id-token' }), 'none');
      assert.equal(e.get('error'), 'sso_login_required');
      assert.match(e.get('error_description')!, /does not name an ID token/);
      assert.equal(e.get('state'), 's');
    });
  });
}

test('the keys of a service with a JWKS URL are fetched as registration fetches them, and reused for a minute', async () => {
  const { remoteKeySets } = await import('./sso.ts');
  const { generateKeyPair, exportJWK } = await import('jose');
  const jwk = {
    ...(await exportJWK((await generateKeyPair('RS512', { extractable: true })).publicKey)),
    kid: 'k1',
    alg: 'RS512',
    use: 'sig',
  };
  const fetched: string[] = [];
  const keys = remoteKeySets('sandpit', async (url) => {
    fetched.push(url);
    if (url.includes('down')) throw new (await import('../security/outbound.ts')).OutboundError('it could not be reached (ECONNREFUSED)');
    return { keys: [jwk] };
  });
  const uri = 'https://keys.svc.example/jwks.json';
  await Promise.all([keys(uri), keys(uri)]);
  await keys(uri);
  await keys(uri, { unknownKey: true });
  assert.deepEqual(fetched, [uri], 'one fetch: shared, reused, and an unknown key fetches again only after ten seconds');
  const down = 'https://down.svc.example/jwks.json';
  for (let i = 0; i < 3; i++) await assert.rejects(keys(down), /could not be used: it could not be reached/);
  assert.equal(fetched.filter((u) => u === down).length, 1, 'a failed fetch is not retried at once');
  await assert.rejects(
    keys('http://169.254.169.254/latest'),
    (e: Error) => e.name === 'RegistrationError',
    'the URL rules of registration apply',
  );
});
