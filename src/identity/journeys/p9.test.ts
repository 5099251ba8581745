/**
 * From P5 to P9 with GP online services details (Patient Online): the linkage key, account ID and ODS code of the
 * person's GP account, matched against the test GP linkage records; wrong details count towards throttling. On both
 * databases, without JavaScript.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { createRp, login, signIn, type TestRp } from '../../test-support/rp.ts';
import { findPerson, insertPerson } from '../../storage/index.ts';
import { hashPassword } from '../../security/passwords.ts';
import { testPerson } from '../../test-support/people.ts';

/** WEIR, 9686368450: a record of integration-gp-linkage.csv. */
const LINKAGE = { linkage_key: 'YCRPyPSEUARw5', account_id: '9422353604', ods_code: 'B85036' };

for (const dialect of DIALECTS) {
  describe(`P9 with GP online services details (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    let hash: string;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit', { scopes: ['openid', 'profile', 'email', 'phone', 'gp_integration_credentials'], im1: true });
      hash = await hashPassword('Passw0rd$1');
    });
    after(() => app.stop());

    /** A new P5 person with WEIR's NHS number (so with a GP linkage record), signed in and at the P9 step. */
    async function atP9Step(changes: Partial<Parameters<typeof testPerson>[1]> = {}) {
      const email = `pol-${randomUUID()}@example.org`;
      const id = randomUUID();
      await insertPerson(app.database.db, testPerson('P5', {
        env: 'sandpit', id, email, password_hash: hash, nhs_number: '9686368450', family_name: 'WEIR', birthdate: '1954-06-14',
        im1: 0, gp_user_id: null, gp_linkage_key: null, gp_ods_code: 'B85036', created_at: Date.now(), ...changes,
      }));
      const s = await signIn(app, rp, { email, vtr: ['P9.Cp.Cd'], stopAt: 'prove-identity' });
      assert.deepEqual(s.steps, ['sign-in', 'otp', 'prove-identity']);
      return { ...s, id, email };
    }

    test('the page offers GP online services details and photo ID', async () => {
      const s = await atP9Step();
      assert.match(s.page.text, /With your GP online services details/);
      assert.match(s.page.text, /id="linkage_key"/);
      assert.match(s.page.text, /Or with your photo ID/);
    });

    test('the right details take the person to P9, linked to their GP account', async () => {
      const s = await atP9Step();
      const done = await s.browser.post(s.page.url, { method: 'gp_online', ...LINKAGE, ods_code: 'b85036' });
      assert.ok(done.url.endsWith('/consent'), done.url);
      const p = (await findPerson(app.database.db, 'sandpit', s.id))!;
      assert.deepEqual([p.proofing_level, p.im1, p.gp_user_id, p.gp_linkage_key], ['P9', 1, '9422353604', 'YCRPyPSEUARw5']);
      const r = await login(app, rp, { email: s.email, vtr: ['P9.Cp.Cd'], scope: 'openid profile gp_integration_credentials' });
      assert.equal(r.claims.identity_proofing_level, 'P9');
      const userinfo = await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub);
      const linked = { gp_user_id: '9422353604', gp_linkage_key: 'YCRPyPSEUARw5', gp_ods_code: 'B85036' };
      assert.deepEqual(userinfo.gp_integration_credentials, linked);
    });

    test('missing details are named, and what was typed is kept', async () => {
      const s = await atP9Step();
      const page = await s.browser.post(s.page.url, { method: 'gp_online', linkage_key: 'YCRPyPSEUARw5', account_id: '', ods_code: '' });
      assert.equal(page.status, 400);
      assert.match(page.text, /Enter your account ID/);
      assert.match(page.text, /Enter your GP surgery ODS code/);
      assert.match(page.text, /value="YCRPyPSEUARw5"/);
    });

    test('wrong details are refused, say how many tries are left, and are in the record', async () => {
      const s = await atP9Step();
      const page = await s.browser.post(s.page.url, { method: 'gp_online', ...LINKAGE, linkage_key: 'ycrpypseuarw5' });
      assert.equal(page.status, 400);
      assert.match(page.text, /do not match your GP online services account/);
      assert.match(page.text, /4 more tries/);
      assert.equal((await findPerson(app.database.db, 'sandpit', s.id))!.proofing_level, 'P5');
      await app.events.flush();
      const row = await app.database.db.selectFrom('protocol_event').selectAll().where('person', '=', s.id).where('kind', '=', 'uplift')
        .executeTakeFirstOrThrow();
      assert.equal(row.error, 'gp_linkage_no_match');
    });

    test('past five wrong tries the person must wait, even with the right details', async () => {
      const s = await atP9Step();
      for (let i = 0; i < 6; i++) await s.browser.post(s.page.url, { method: 'gp_online', ...LINKAGE, account_id: '1' });
      const page = await s.browser.post(s.page.url, { method: 'gp_online', ...LINKAGE });
      assert.equal(page.status, 429);
      assert.match(page.text, /Wait .* before you try again/);
      assert.equal((await findPerson(app.database.db, 'sandpit', s.id))!.proofing_level, 'P5');
    });

    test('a person without a GP linkage record cannot use it', async () => {
      const s = await signIn(app, rp, { email: 'testuserlive+p5_1@demo.signin.nhs.uk', vtr: ['P9.Cp.Cd'], stopAt: 'prove-identity' });
      const page = await s.browser.post(s.page.url, { method: 'gp_online', ...LINKAGE });
      assert.equal(page.status, 400);
      assert.match(page.text, /do not match your GP online services account/);
    });

    test('no choice is an error on the choice', async () => {
      const s = await atP9Step();
      const page = await s.browser.post(s.page.url, { method: '' });
      assert.equal(page.status, 400);
      assert.match(page.text, /Select how you will prove your identity/);
    });

    test('by mobile (IDVM): offered when the mobile matches the GP record, and the code takes the person to P9', async () => {
      const s = await atP9Step({ phone_pds_matched: 1 });
      assert.match(s.page.text, /With your mobile phone/);
      assert.match(s.page.text, /ending 000/);
      const done = await s.browser.post(s.page.url, { method: 'mobile', mobile_code: '190696' });
      assert.ok(done.url.endsWith('/consent'), done.url);
      const p = (await findPerson(app.database.db, 'sandpit', s.id))!;
      assert.deepEqual([p.proofing_level, p.phone_pds_matched], ['P9', 1]);
      const r = await login(app, rp, { email: s.email, vtr: ['P9.Cp.Cd'], scope: 'openid profile phone' });
      const userinfo = await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub);
      assert.equal(userinfo.phone_number_pds_matched, true);
    });

    test('by mobile: a wrong code is refused with the tries left', async () => {
      const s = await atP9Step({ phone_pds_matched: 1 });
      const page = await s.browser.post(s.page.url, { method: 'mobile', mobile_code: '000000' });
      assert.equal(page.status, 400);
      assert.match(page.text, /The security code is incorrect. You have 4 more tries/);
      assert.equal((await findPerson(app.database.db, 'sandpit', s.id))!.proofing_level, 'P5');
    });

    test('by mobile: not offered, and refused, when the mobile does not match the GP record', async () => {
      const s = await atP9Step({ phone_pds_matched: 0 });
      assert.doesNotMatch(s.page.text, /With your mobile phone/);
      const page = await s.browser.post(s.page.url, { method: 'mobile', mobile_code: '190696' });
      assert.equal(page.status, 400);
      assert.match(page.text, /does not match your GP record/);
      assert.equal((await findPerson(app.database.db, 'sandpit', s.id))!.proofing_level, 'P5');
    });
  });
}
