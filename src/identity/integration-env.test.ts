/** The integration environment: its fixed accounts, and new users matched to test PDS and GP linkage records (IM1). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser } from '../test-support/browser.ts';
import { authorizationUrl, createRp, login, type TestRp } from '../test-support/rp.ts';

for (const dialect of DIALECTS) {
  describe(`integration environment (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'integration', {
        im1: true,
        scopes: ['openid', 'profile', 'profile_extended', 'gp_integration_credentials'],
        vtr: ['P9.Cp.Cd', 'P5.Cp.Cd'],
      });
    });
    after(() => app.stop());

    test('the fixed P9 account signs in, with given_name from PDS', async () => {
      const r = await login(app, rp, {
        email: 'testuserlive+1@demo.signin.nhs.uk',
        scope: 'openid profile profile_extended',
        vtr: ['P9.Cp.Cd'],
      });
      assert.equal(r.claims.nhs_number, '9661034524');
      const ui = await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub);
      assert.equal(ui.given_name, 'Hubert');
    });

    test('a new user proves identity against a PDS record with GP linkage and gets IM1 credentials', async () => {
      const b = new Browser(app.fetch, 'http://localhost:3000');
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      let page = await b.get(authorizationUrl(rp, { state, nonce, scope: 'openid profile gp_integration_credentials', vtr: ['P9.Cp.Cd'] }));
      page = await b.get(page.url.replace(/sign-in$/, 'register'));
      page = await b.post(page.url, { email: 'dinah.weir@example.org', password: 'Secret123', phone: '07700900555' });
      page = await b.post(page.url, { otp: '190696' });
      page = await b.post(page.url, {
        nhs_number: '9686368450',
        family_name: 'Weir',
        'birthdate-day': '14',
        'birthdate-month': '6',
        'birthdate-year': '1954',
        postcode: 'HD1 4JP',
      });
      assert.ok(page.url.endsWith('/prove-identity'), 'then the photo-ID step for P9');
      page = await b.post(page.url, { document: 'driving_licence' });
      page = await b.post(page.url, {});
      assert.equal(page.status, 0);
      const tokens = await oidc.authorizationCodeGrant(rp.config, new URL(page.url), { expectedState: state, expectedNonce: nonce });
      const claims = tokens.claims()!;
      assert.equal(claims.identity_proofing_level, 'P9');
      const ui = await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
      assert.deepEqual(ui.gp_integration_credentials, { gp_user_id: '9422353604', gp_linkage_key: 'YCRPyPSEUARw5', gp_ods_code: 'B85036' });
    });

    test('the fixed P5 and P0 accounts: claims by level, absent claims omitted, P0 cannot meet P5', async () => {
      const p0rp = await createRp(app, 'integration', { scopes: ['openid', 'profile', 'email', 'phone'], vtr: ['P0.Cp.Cd', 'P5.Cp.Cd'] });
      const p5 = await login(app, p0rp, { email: 'testuserlive+2@demo.signin.nhs.uk', scope: 'openid profile email', vtr: ['P5.Cp.Cd'] });
      assert.equal(p5.claims.vot, 'P5.Cp.Cd');
      assert.equal(p5.claims.identity_proofing_level, 'P5');
      assert.equal(p5.claims.nhs_number, '9661034524');
      const p0 = await login(app, p0rp, {
        email: 'testuserlive+3@demo.signin.nhs.uk',
        scope: 'openid profile email phone',
        vtr: ['P0.Cp.Cd'],
      });
      assert.equal(p0.claims.vot, 'P0.Cp.Cd');
      for (const c of ['nhs_number', 'family_name', 'birthdate', 'identity_proofing_level'])
        assert.equal(c in p0.claims, false, `P0 has no ${c}`);
      const ui = await oidc.fetchUserInfo(p0rp.config, p0.tokens.access_token, p0.claims.sub);
      assert.equal(ui.email, 'testuserlive+3@demo.signin.nhs.uk');
      assert.equal(ui.email_verified, true);
      for (const v of Object.values(ui)) assert.notEqual(v, null, 'never null');
      // Asked for P5, the P0 account is taken to prove its identity.
      const { signIn } = await import('../test-support/rp.ts');
      const uplift = await signIn(app, p0rp, { email: 'testuserlive+3@demo.signin.nhs.uk', scope: 'openid profile', vtr: ['P5.Cp.Cd'] });
      assert.equal(uplift.steps.at(-1), 'prove-identity');
    });

    test('http://localhost redirect URIs are refused outside the sandpit', async () => {
      await assert.rejects(
        createRp(app, 'integration', { redirectUris: ['http://localhost:8080/cb'] }),
        /only the sandpit allows http:\/\/localhost/,
      );
    });
  });
}
