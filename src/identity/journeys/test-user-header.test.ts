/** Sign-in by the X-Toolkit-Test-User header: a CI chooses its test user without typing; only its own, never in live. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { Browser } from '../../test-support/browser.ts';
import { authorizationUrl, createRp, login, type TestRp } from '../../test-support/rp.ts';
import { createOrganisation, createTestUser, TEST_OTP, TEST_PASSWORD } from '../../onboarding/index.ts';
import { findPeopleByEmail, insertPerson } from '../../storage/index.ts';
import { loadPeopleData } from '../people/index.ts';

for (const dialect of DIALECTS) {
  describe(`sign-in by test user header (${dialect})`, () => {
    let app: TestApp;
    let own: TestRp;
    let other: TestRp;
    let email: string;
    const people = loadPeopleData();
    const browser = (user: string) => {
      const b = new Browser(app.fetch, new URL(app.config.publicUrl).origin);
      b.extraHeaders = { 'X-Toolkit-Test-User': user };
      return b;
    };
    before(async () => {
      app = await startTestApp(dialect);
      const org = await createOrganisation(app.database.db, 'owner', { name: 'Own Ltd' });
      const stranger = await createOrganisation(app.database.db, 'stranger', { name: 'Other Ltd' });
      own = await createRp(app, 'integration', { organisationId: org.id });
      other = await createRp(app, 'integration', { organisationId: stranger.id });
      email = (await createTestUser(app.database.db, people, org.id, {
        nhsNumber: '9990000018', level: 'P9', otpDisabled: false, phonePdsMatched: true,
        demographics: { givenName: 'Ada', familyName: 'Lovelace-Byron', birthdate: '1985-12-10', postcode: 'ls1 4ap', gpOdsCode: 'B82005' },
      })).email;
    });
    after(() => app.stop());

    test('the organisation\'s own test user is signed in without a password, with the demographics it was given', async () => {
      const r = await login(app, own, { browser: browser(email.toUpperCase()), scope: 'openid profile profile_extended' });
      const info = await oidc.fetchUserInfo(own.config, r.tokens.access_token, r.claims.sub);
      assert.deepEqual([info.given_name, info.family_name, info.birthdate, info.nhs_number],
        ['Ada', 'Lovelace-Byron', '1985-12-10', '9990000018']);
      assert.equal(r.claims.vot, 'P9.Cp.Cd');
    });

    test('a sandpit test user of the organisation signs in to its sandpit client, by header and by typing the test password', async () => {
      const sandpitRp = await createRp(app, 'sandpit', { organisationId: own.client.organisationId! });
      const person = await createTestUser(app.database.db, people, own.client.organisationId!, {
        env: 'sandpit', nhsNumber: '9686368973', level: 'P9', otpDisabled: false, phonePdsMatched: true,
      });
      const byHeader = await login(app, sandpitRp, { browser: browser(person.email), scope: 'openid profile' });
      const typed = await login(app, sandpitRp, { email: person.email, password: TEST_PASSWORD, otp: TEST_OTP, scope: 'openid profile' });
      assert.deepEqual([byHeader.claims.sub, typed.claims.sub, typed.claims.vot], [person.id, person.id, 'P9.Cp.Cd']);
      const info = await oidc.fetchUserInfo(sandpitRp.config, typed.tokens.access_token, person.id);
      assert.deepEqual([info.family_name, info.nhs_number], ['MILLAR', '9686368973']);
      const page = await browser(person.email).get(authorizationUrl(own, { state: 's', nonce: 'n' }));
      assert.equal(page.status, 400, 'a sandpit user is nobody in integration');
    });

    test('a published test account is signed in by header too', async () => {
      const published = [...people.shared.integration!][0]!;
      const r = await login(app, own, { browser: browser(published) });
      assert.equal(r.claims.sub, (await findPeopleByEmail(app.database.db, 'integration', published))[0]!.id);
    });

    test('another organisation\'s test user, or a person who registered, is refused on a page naming the header', async () => {
      const [person] = await findPeopleByEmail(app.database.db, 'integration', email);
      await insertPerson(app.database.db, { ...person!, id: 'registered', email: 'someone@example.org', organisation_id: null });
      for (const [rp, user] of [[other, email], [own, 'someone@example.org'], [own, 'nobody@example.org']] as const) {
        const page = await browser(user).get(authorizationUrl(rp, { state: 's', nonce: 'n' }));
        assert.equal(page.status, 400, user);
        assert.match(page.text, /The X-Toolkit-Test-User header names no published test account/);
      }
    });

    test('live never reads the header: the sign-in page asks for the password', async () => {
      const live = await createRp(app, 'live');
      const page = await browser(email).get(authorizationUrl(live, { state: 's', nonce: 'n' }));
      assert.equal(page.status, 200);
      assert.match(page.text, /Enter your email address and password/);
    });
  });
}
