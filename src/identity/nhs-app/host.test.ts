/**
 * The stand-in NHS App (issue 15 §4): it logs a person in with the ordinary journey, then opens a partner's service at
 * its NHS App address with an assertion that signs the same person in there without a password.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { findPersonByEmail, getClient } from '../../storage/index.ts';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { Browser } from '../../test-support/browser.ts';
import { authorizationUrl, createRp, login, throughJourney, type TestRp } from '../../test-support/rp.ts';
import { journeyChecklist } from '../../onboarding/index.ts';
import { setNhsAppAddress } from './address.ts';
import { hostApp, NHS_APP_CLIENT_ID } from './host.ts';

const ORIGIN = 'http://localhost:3000';
const ADDRESS = 'https://rp.example.org/nhs-app?from=app';

for (const dialect of DIALECTS) {
  describe(`the stand-in NHS App (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    let launcher: string;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
      launcher = `${ORIGIN}/sandpit/nhs-app/services/${rp.client.clientId}`;
    });
    after(() => app.stop());

    /** Logs in to the stand-in as the sandpit's P9 test user; returns the browser and the launcher page after it. */
    const appLogin = async (email?: string) => {
      const browser = new Browser(app.fetch, ORIGIN);
      const start = await browser.get(launcher);
      assert.match(start.text, /Continue to NHS login/);
      const login = await browser.get(`${ORIGIN}/sandpit/nhs-app/login?service=${rp.client.clientId}`);
      const { page, steps } = await throughJourney(browser, login, email ? { email } : {});
      assert.deepEqual(steps.slice(0, 3), ['sign-in', 'otp', 'consent']);
      return { browser, page };
    };
    const opened = async (browser: Browser) => {
      const page = await browser.get(`${launcher}/open`);
      assert.equal(page.status, 0, 'the browser leaves for the service');
      return new URL(page.url);
    };

    test('an unknown service, and the stand-in itself, are not found', async () => {
      const browser = new Browser(app.fetch, ORIGIN);
      assert.equal((await browser.get(`${ORIGIN}/sandpit/nhs-app/services/nope`)).status, 404);
      assert.equal((await browser.get(`${ORIGIN}/sandpit/nhs-app/services/${NHS_APP_CLIENT_ID}`)).status, 404);
      assert.equal((await browser.get(`${ORIGIN}/live/nhs-app/services/${rp.client.clientId}`)).status, 404, 'live has no stand-in');
    });

    test('after logging in, a service without an NHS App address says where to set one, and is not opened', async () => {
      const { browser, page } = await appLogin();
      assert.equal(page.url, launcher);
      assert.match(page.text, /Logged in as/);
      assert.match(page.text, /has no NHS App address yet/);
      assert.equal((await browser.get(`${launcher}/open`)).url, launcher);
    });

    test('"Open" sends the NHS App address a 60-second assertion naming the login\'s ID token, signed with its key', async () => {
      await setNhsAppAddress(app.database.db, 'sandpit', rp.client.clientId, ADDRESS);
      const { browser } = await appLogin();
      const url = await opened(browser);
      assert.equal(`${url.origin}${url.pathname}`, 'https://rp.example.org/nhs-app');
      assert.equal(url.searchParams.get('from'), 'app', 'the address\'s own query is kept');
      const jwt = url.searchParams.get('assertedLoginIdentity')!;
      const nhsApp = (await getClient(app.database.db, 'sandpit', NHS_APP_CLIENT_ID))!;
      const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(nhsApp.jwks as never), { issuer: NHS_APP_CLIENT_ID });
      assert.equal(protectedHeader.alg, 'RS512');
      assert.equal(payload.exp! - payload.iat!, 60);
      assert.ok(typeof payload.code === 'string' && payload.jti);
    });

    test('the service that passes the assertion on gets the same person, with no sign-in page, once', async () => {
      await setNhsAppAddress(app.database.db, 'sandpit', rp.client.clientId, ADDRESS);
      const { browser } = await appLogin();
      const jwt = (await opened(browser)).searchParams.get('assertedLoginIdentity')!;
      // The service's own browser session is another one: the assertion alone says who the person is.
      const r = await login(app, rp, { vtr: ['P9.Cp.Cd'], extra: { asserted_login_identity: jwt } });
      assert.deepEqual(r.steps, ['consent']);
      assert.equal(r.claims.vot, 'P9.Cp.Cd');
      const nhsAppSub = (await login(app, rp, { vtr: ['P9.Cp.Cd'] })).claims.sub;
      assert.equal(r.claims.sub, nhsAppSub, 'the person logged in to the NHS App');
      await app.events.flush();
      const client = (await getClient(app.database.db, 'sandpit', rp.client.clientId))!;
      const row = (await journeyChecklist(app.database.db, client)).find((i) => i.id === 'nhs-app');
      assert.equal(row?.done, true, 'the journey checklist has the NHS App row ticked');
      const again = await new Browser(app.fetch, ORIGIN).get(
        authorizationUrl(rp, { state: 's', nonce: 'n', extra: { asserted_login_identity: jwt } }),
      );
      assert.match(new URL(again.url).searchParams.get('error_description') ?? '', /already been used/);
    });

    test('without an NHS App address, the service is told the NHS App may not sign its people in', async () => {
      await setNhsAppAddress(app.database.db, 'sandpit', rp.client.clientId, ADDRESS);
      const { browser } = await appLogin();
      const jwt = (await opened(browser)).searchParams.get('assertedLoginIdentity')!;
      await setNhsAppAddress(app.database.db, 'sandpit', rp.client.clientId, '');
      const url = authorizationUrl(rp, { state: 's', nonce: 'n', extra: { asserted_login_identity: jwt } });
      const page = await new Browser(app.fetch, ORIGIN).get(url);
      const q = new URL(page.url).searchParams;
      assert.equal(q.get('error'), 'invalid_request');
      assert.match(q.get('error_description')!, /no NHS App address/);
    });

    test('proxy access: acting for a patient, the service is opened for the patient, not for the person logged in', async () => {
      await setNhsAppAddress(app.database.db, 'sandpit', rp.client.clientId, ADDRESS);
      const { browser, page } = await appLogin('testuserlive+21@demo.signin.nhs.uk');
      assert.match(page.text, /Manage health services for others/);
      const patient = (await findPersonByEmail(app.database.db, 'sandpit', 'testuserlive+22@demo.signin.nhs.uk'))!;
      const refused = await browser.post(`${launcher}/act-for`, { patient: 'someone-else' });
      assert.equal(refused.status, 400);
      assert.match(refused.text, /Choose whose health services to manage/);
      const acting = await browser.post(`${launcher}/act-for`, { patient: patient.id });
      assert.match(acting.text, /You are managing health services for/);
      const jwt = (await opened(browser)).searchParams.get('assertedLoginIdentity')!;
      const r = await login(app, rp, { vtr: ['P9.Cp.Cd'], extra: { asserted_login_identity: jwt } });
      assert.equal(r.claims.sub, patient.id, 'the patient\'s identity');
      const self = await browser.post(`${launcher}/act-for`, { patient: 'self' });
      assert.doesNotMatch(self.text, /You are managing health services for/);
    });

    test('a person with nobody to act for sees no proxy choice', async () => {
      const { page } = await appLogin();
      assert.doesNotMatch(page.text, /Manage health services for others/);
    });

    test('logging out ends the stand-in\'s session', async () => {
      const { browser } = await appLogin();
      const page = await browser.post(`${ORIGIN}/sandpit/nhs-app/logout`, { service: rp.client.clientId });
      assert.match(page.text, /Continue to NHS login/);
    });

    test('a new public address moves the stand-in\'s callback with it', async () => {
      const env = app.config.environments.find((e) => e.name === 'sandpit')!;
      const callback = async () => (await getClient(app.database.db, 'sandpit', NHS_APP_CLIENT_ID))!.redirectUris;
      await hostApp(app.database.db, { ...env, issuer: 'https://new.example/sandpit' }, app.fetch)();
      assert.deepEqual(await callback(), ['https://new.example/sandpit/nhs-app/callback']);
      await hostApp(app.database.db, env, app.fetch)();
      assert.deepEqual(await callback(), [`${env.issuer}/nhs-app/callback`]);
    });

    test('two instances loading the stand-in at once on an empty environment make one key between them', async () => {
      const env = app.config.environments.find((e) => e.name === 'integration')!;
      const [a, b] = await Promise.all([hostApp(app.database.db, env, app.fetch)(), hostApp(app.database.db, env, app.fetch)()]);
      const kid = async (h: typeof a) => decodeProtectedHeader(await h.sign({ code: 'x' })).kid;
      assert.equal(await kid(a), await kid(b));
      const client = (await getClient(app.database.db, 'integration', NHS_APP_CLIENT_ID))!;
      assert.deepEqual(client.jwks!.keys.map((k) => k.kid), [await kid(a)]);
    });
  });
}

describe('the NHS App address', () => {
  let app: TestApp;
  let rp: TestRp;
  before(async () => {
    app = await startTestApp('sqlite');
    rp = await createRp(app, 'sandpit');
  });
  after(() => app.stop());
  const refused = (env: string, raw: unknown) =>
    assert.rejects(setNhsAppAddress(app.database.db, env, rp.client.clientId, raw), { code: 'invalid_nhs_app_url' });

  test('is https, or http://localhost in the sandpit only', async () => {
    await setNhsAppAddress(app.database.db, 'sandpit', rp.client.clientId, 'http://localhost:8080/app');
    assert.equal((await getClient(app.database.db, 'sandpit', rp.client.clientId))!.nhsAppUrl, 'http://localhost:8080/app');
    await refused('sandpit', 'http://rp.example.org/app');
    await refused('integration', 'http://localhost:8080/app');
  });

  test('is refused with a fragment, with assertedLoginIdentity already in it, not as text, or in live', async () => {
    await refused('sandpit', 'https://rp.example.org/app#top');
    await refused('sandpit', 'https://rp.example.org/app?assertedLoginIdentity=x');
    await refused('sandpit', ['https://rp.example.org/app']);
    await refused('sandpit', 'not a url');
    await refused('live', 'https://rp.example.org/app');
  });
});
