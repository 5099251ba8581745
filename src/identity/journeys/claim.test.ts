/**
 * Provision Account's claiming journey (PW "How it works" 2, brief §6), in-process on both databases: the emailed
 * link, the security code, the PDS re-check, the password, and the P9 account the partner's service signs in at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { Browser } from '../../test-support/browser.ts';
import { createRp, login, signIn, type TestRp } from '../../test-support/rp.ts';
import { findPersonByEmail, outboxMessages, updateClient, updatePerson } from '../../storage/index.ts';
import { JWT_BEARER } from '../users-v2/grant.ts';
import { usersRetrieveScope } from '../users-v2/scope.ts';

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let seq = 0;
const fresh = () => `claim-${Date.now()}-${++seq}@example.org`;

for (const dialect of DIALECTS) {
  describe(`Provision Account: the patient's claim (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
      const approval = { provisioning: true, provisioningOds: ['A00002'], usersV2: true };
      await updateClient(app.database.db, 'sandpit', rp.client.clientId, approval);
    });
    after(() => app.stop());

    async function token(form: Record<string, string>) {
      const res = await app.fetch(rp.tokenEndpoint, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(),
      });
      return ((await res.json()) as { access_token: string }).access_token;
    }

    /** Asks for a provision and returns the claiming link from the email. */
    async function provision(nhs: string, dob: string, email = fresh()): Promise<{ link: string; email: string; subject: string }> {
      const assertion = await rp.assertion();
      const form = { grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: assertion };
      const t = await token(form);
      const res = await app.fetch(`${rp.issuer}/provision-account`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
        body: JSON.stringify({
          nhs_number: nhs, email_address: email, date_of_birth: dob, ods_code: 'A00002', phone_number: '+447700900123',
        }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const [mail] = await outboxMessages(app.database.db, { to: email, limit: 1 });
      const link = /(http\S+\/provision\/claim\/\S+)/.exec(mail!.body)![1]!;
      return { link, email, subject: mail!.subject };
    }

    const browser = () => new Browser(app.fetch, new URL(app.config.publicUrl).origin);
    const events = async () =>
      app.database.db.selectFrom('protocol_event').selectAll().where('kind', '=', 'provision_claim').orderBy('at').execute();

    test('a create: the link, the code, a password; then P9, signed in at the RP and found by Users Endpoint V2', async () => {
      const { link, email, subject } = await provision('9686367403', '1935-02-26');
      assert.equal(subject, 'Set up your NHS login');
      const b = browser();
      let page = await b.get(link);
      assert.equal(page.status, 200);
      assert.match(page.text, /mobile ending 23/);
      page = await b.post(link, {});
      assert.match(page.url, /\/provision\/code$/);
      page = await b.post(page.url, { otp: '190696' });
      assert.match(page.url, /\/provision\/password$/);
      assert.match(page.text, /Create a password/);
      page = await b.post(page.url, { password: 'Claimed1pass' });
      assert.match(page.url, /\/provision\/done$/);
      assert.match(page.text, /Your NHS login is set up/);
      const person = (await findPersonByEmail(app.database.db, 'sandpit', email))!;
      assert.deepEqual([person.proofing_level, person.highest_level, person.nhs_number, person.family_name, person.phone_number],
        ['P9', 'P9', '9686367403', 'CASE', '+447700900123']);
      const signedIn = await login(app, rp, { email, password: 'Claimed1pass', vtr: ['P9.Cp.Cd'] });
      assert.equal(signedIn.claims.vot, 'P9.Cp.Cd');
      const scope = `${usersRetrieveScope('sandpit')} profile`;
      const users = await token({ grant_type: JWT_BEARER, assertion: await rp.assertion(), scope });
      const found = await app.fetch(`${rp.issuer}/v2/Users?filter=${encodeURIComponent('nhsnumber eq "9686367403"')}`,
        { headers: { authorization: `Bearer ${users}` } });
      assert.equal(((await found.json()) as { totalResults: number }).totalResults, 1);
      assert.deepEqual((await events()).map((e) => JSON.parse(e.details!).step), ['opened', 'completed']);
    });

    test('opening the link changes nothing (a mail scanner): it still works after several GETs', async () => {
      const { link } = await provision('9686367438', '1940-03-25');
      for (let i = 0; i < 3; i++) assert.equal((await app.fetch(link)).status, 200);
      const page = await browser().post(link, {});
      assert.match(page.url, /\/provision\/code$/);
    });

    test('continuing again in another browser starts there, and the first browser is told it continued elsewhere', async () => {
      const { link } = await provision('9686367446', '1937-07-04');
      const first = browser();
      const firstCode = await first.post(link, {});
      const second = browser();
      const secondCode = await second.post(link, {});
      assert.match(secondCode.url, /\/provision\/code$/);
      const stale = await first.post(firstCode.url, { otp: '190696' });
      assert.equal(stale.status, 400);
      assert.match(stale.text, /You continued in another browser or tab/);
      assert.match((await second.post(secondCode.url, { otp: '190696' })).url, /\/provision\/password$/);
    });

    test('wrong codes still count after starting again: five across two browsers fail the request', async () => {
      const { link } = await provision('9686367489', '1940-09-26');
      const first = browser();
      const page = await first.post(link, {});
      for (let i = 0; i < 3; i++) assert.equal((await first.post(page.url, { otp: '000000' })).status, 400);
      const second = browser();
      const again = await second.post(link, {});
      assert.equal((await second.post(again.url, { otp: '000000' })).status, 400);
      assert.match((await second.post(again.url, { otp: '000000' })).text, /wrong security code too many times/);
      assert.equal((await second.post(link, {})).status, 400);
    });

    test('an unknown or expired link is the same problem page', async () => {
      const { link } = await provision('9686367454', '1922-08-22');
      await app.database.db.updateTable('provision_request').set({ expires_at: Date.now() - 1 }).where('nhs_number', '=', '9686367454')
        .execute();
      for (const url of [link, `${rp.issuer}/provision/claim/not-a-link`]) {
        const page = await browser().get(url);
        assert.equal(page.status, 400);
        assert.match(page.text, /This link has expired or has already been used/);
      }
    });

    test('five wrong codes fail the request', async () => {
      const { link } = await provision('9686367462', '1931-12-22');
      const b = browser();
      let page = await b.post(link, {});
      for (let i = 0; i < 4; i++) assert.equal((await b.post(page.url, { otp: '000000' })).status, 400);
      page = await b.post(page.url, { otp: '000000' });
      assert.match(page.text, /wrong security code too many times/);
      const row = await app.database.db.selectFrom('provision_request').select('status').where('nhs_number', '=', '9686367462')
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'failed');
    });

    test('an uplift: a P0 account with the email enters its own password and becomes P9', async () => {
      const email = fresh();
      const b = browser();
      // The P0 account, registered as a person would.
      const started = await signIn(app, rp, { browser: b, stopAt: 'sign-in', vtr: ['P0.Cp.Cd'] });
      let page = await b.post(started.page.url.replace(/sign-in$/, 'register'), { email, password: 'Own1password', phone: '07700900123' });
      assert.ok(page.status < 400, page.text.slice(0, 200));
      const { link, subject } = await provision('9686367411', '1947-07-16', email);
      assert.equal(subject, 'Finish setting up your NHS login');
      page = await b.post(link, {});
      page = await b.post(page.url, { otp: '190696' });
      assert.match(page.text, /Enter your NHS login password/);
      assert.equal((await b.post(page.url, { password: 'Wrong1password' })).status, 400);
      page = await b.post(page.url, { password: 'Own1password' });
      assert.match(page.url, /\/provision\/done$/);
      const person = (await findPersonByEmail(app.database.db, 'sandpit', email))!;
      assert.deepEqual([person.proofing_level, person.nhs_number, person.family_name], ['P9', '9686367411', 'ELLERY']);
    });

    test('five wrong passwords on an uplift fail the request, and the account stays as it was', async () => {
      const email = fresh();
      const b = browser();
      const started = await signIn(app, rp, { browser: b, stopAt: 'sign-in', vtr: ['P0.Cp.Cd'] });
      await b.post(started.page.url.replace(/sign-in$/, 'register'), { email, password: 'Own1password', phone: '07700900123' });
      const { link } = await provision('9686367497', '1929-01-21', email);
      let page = await b.post(link, {});
      page = await b.post(page.url, { otp: '190696' });
      for (let i = 0; i < 4; i++) {
        assert.match((await b.post(page.url, { password: 'Wrong1password' })).text, /Enter your NHS login password/);
      }
      assert.match((await b.post(page.url, { password: 'Wrong1password' })).text, /wrong password too many times/);
      assert.equal((await b.post(page.url, { password: 'Own1password' })).status, 400);
      assert.equal((await findPersonByEmail(app.database.db, 'sandpit', email))!.proofing_level, 'P0');
      assert.equal((await events()).at(-1)!.error, 'password_locked');
    });

    test('a PDS re-check that fails (the switch set after the request) fails the request', async () => {
      const email = fresh();
      const b = browser();
      const started = await signIn(app, rp, { browser: b, stopAt: 'sign-in', vtr: ['P0.Cp.Cd'] });
      await b.post(started.page.url.replace(/sign-in$/, 'register'), { email, password: 'Own1password', phone: '07700900123' });
      const { link } = await provision('9686367470', '1937-01-12', email);
      const person = (await findPersonByEmail(app.database.db, 'sandpit', email))!;
      await updatePerson(app.database.db, 'sandpit', person.id, { pds_trace_fails: 1 });
      let page = await b.post(link, {});
      page = await b.post(page.url, { otp: '190696' });
      assert.match(page.text, /We could not confirm your details/);
      assert.equal((await events()).at(-1)!.error, 'pds_recheck_failed');
    });
  });
}
