/**
 * /authorize errors exactly as NHS login gives them, and the patient journeys (no JavaScript): SSO, decline,
 * uplift, registration (throttling: throttling.test.ts). On both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { Browser } from '../../test-support/browser.ts';
import { authorizationUrl, createRp, login, signIn, REDIRECT_URI, type TestRp } from '../../test-support/rp.ts';

for (const dialect of DIALECTS) {
  describe(`authorize errors and journeys (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    const browser = () => new Browser(app.fetch, 'http://localhost:3000');
    const errorOf = async (url: string) => {
      const page = await browser().get(url);
      assert.equal(page.status, 0, `expected a redirect to the RP, got ${page.status} at ${page.url}`);
      const cb = new URL(page.url);
      assert.equal(cb.origin + cb.pathname, REDIRECT_URI);
      return Object.fromEntries(cb.searchParams);
    };
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
    });
    after(() => app.stop());

    test('unknown client or unregistered redirect_uri: an error page, never a redirect', async () => {
      const u = new URL(authorizationUrl(rp, { state: 's', nonce: 'n' }));
      u.searchParams.set('client_id', 'unknown');
      let page = await browser().get(u.href);
      assert.equal(page.status, 400);
      assert.match(page.text, /invalid_client/);
      const v = new URL(authorizationUrl(rp, { state: 's', nonce: 'n' }));
      v.searchParams.set('redirect_uri', 'https://attacker.example/cb');
      page = await browser().get(v.href);
      assert.equal(page.status, 400);
      assert.match(page.text, /nhsuk-header/, 'NHS look');
    });

    test('missing state or nonce, unsupported vtr, unregistered vtr: invalid_request with state', async () => {
      const noNonce = new URL(authorizationUrl(rp, { state: 's1', nonce: 'n' }));
      noNonce.searchParams.delete('nonce');
      let e = await errorOf(noNonce.href);
      assert.equal(e.error, 'invalid_request');
      assert.match(e.error_description!, /nonce/);
      assert.equal(e.state, 's1');
      const noState = new URL(authorizationUrl(rp, { state: 's1', nonce: 'n' }));
      noState.searchParams.delete('state');
      e = await errorOf(noState.href);
      assert.match(e.error_description!, /state/);
      e = await errorOf(authorizationUrl(rp, { state: 's2', nonce: 'n', vtr: ['P9.Cm'] }));
      assert.equal(e.error, 'invalid_request');
      assert.match(e.error_description!, /not registered for this client/);
      e = await errorOf(authorizationUrl(rp, { state: 's3', nonce: 'n', extra: { vtr: 'P9' } }));
      assert.equal(e.error, 'invalid_request');
      e = await errorOf(authorizationUrl(rp, { state: 's4', nonce: 'n', extra: { max_age: '60' } }));
      assert.equal(e.error, 'request_not_supported');
      assert.equal(e.iss, undefined, 'no RFC 9207 iss on error redirects either');
      e = await errorOf(authorizationUrl(rp, { state: 's4', nonce: 'n', extra: { claims: '{"userinfo":{"email":null}}' } }));
      assert.equal(e.error, 'request_not_supported', 'the claims parameter is refused, not ignored');
      e = await errorOf(authorizationUrl(rp, { state: 's5', nonce: 'n', extra: { response_mode: 'fragment' } }));
      assert.equal(e.error, 'invalid_request');
    });

    test('scopes: an unapproved scope is invalid_scope; profile with basic_demographics is refused; unknown scopes ignored', async () => {
      let e = await errorOf(authorizationUrl(rp, { state: 's', nonce: 'n', scope: 'openid landline' }));
      assert.equal(e.error, 'invalid_scope');
      e = await errorOf(authorizationUrl(rp, { state: 's', nonce: 'n', scope: 'openid profile basic_demographics' }));
      assert.equal(e.error, 'invalid_scope');
      const r = await login(app, rp, { scope: 'openid email not_a_scope' });
      assert.equal(r.tokens.scope, 'openid email');
    });

    test('prompt=none without a session is sso_login_required; with one it is single sign-on', async () => {
      const e = await errorOf(authorizationUrl(rp, { state: 's', nonce: 'n', prompt: 'none' }));
      assert.equal(e.error, 'sso_login_required');
      const first = await login(app, rp, {});
      const again = await login(app, rp, { browser: first.browser, prompt: 'none' });
      assert.deepEqual(again.steps, [], 'no page shown');
      assert.equal(again.claims.sub, first.claims.sub);
      const forced = await signIn(app, rp, { browser: first.browser, prompt: 'login' });
      assert.equal(forced.steps[0], 'sign-in');
      const settings = await first.browser.get('/sandpit/settings');
      assert.match(settings.text, /testuserlive@demo.signin.nhs.uk/);
      assert.doesNotMatch((await browser().get('/sandpit/settings')).text, /testuserlive@/);
    });

    test('prompt=none with a session below the requested level is sso_login_required, not an uplift', async () => {
      const first = await login(app, rp, { email: 'testuserlive+p5@demo.signin.nhs.uk', vtr: ['P5.Cp.Cd'], scope: 'openid email' });
      assert.equal(first.claims.vot, 'P5.Cp.Cd');
      const p9 = await signIn(app, rp, { browser: first.browser, prompt: 'none', vtr: ['P9.Cp.Cd'], scope: 'openid email' });
      assert.equal(p9.callback?.searchParams.get('error'), 'sso_login_required');
      const interactive = await signIn(app, rp, {
        browser: first.browser,
        email: 'testuserlive+p5@demo.signin.nhs.uk',
        vtr: ['P9.Cp.Cd'],
        scope: 'openid email',
        stopAt: 'prove-identity',
      });
      assert.equal(interactive.steps.at(-1), 'prove-identity', 'without prompt=none the person is asked to prove their identity');
      // Someone else signs in on the same browser: their session replaces the first person's.
      const other = await login(app, rp, {
        browser: first.browser,
        email: 'testuserlive+7@demo.signin.nhs.uk',
        vtr: ['P9.Cp.Cd'],
        scope: 'openid email',
        prompt: 'login',
      });
      assert.notEqual(other.claims.sub, first.claims.sub);
      const sso = await login(app, rp, { browser: first.browser, vtr: ['P9.Cp.Cd'], scope: 'openid email' });
      assert.deepEqual(sso.steps, [], 'single sign-on as the second person');
      assert.equal(sso.claims.sub, other.claims.sub);
    });

    test('allow_registration=false hides the create-account links', async () => {
      const shown = await browser().get(authorizationUrl(rp, { state: 's', nonce: 'n' }));
      assert.match(shown.text, /\/register"/);
      const hidden = await browser().get(authorizationUrl(rp, { state: 's', nonce: 'n', extra: { allow_registration: 'false' } }));
      assert.ok(hidden.url.endsWith('/sign-in'));
      assert.doesNotMatch(hidden.text, /\/register"/);
    });

    test('identity_proofing_level is the highest level ever reached, even when the current one is lower', async () => {
      const { updatePerson, findPersonByEmail } = await import('../../storage/index.ts');
      const person = (await findPersonByEmail(app.database.db, 'sandpit', 'testuserlive+23@demo.signin.nhs.uk'))!;
      await updatePerson(app.database.db, 'sandpit', person.id, { proofing_level: 'P5', highest_level: 'P9' });
      const r = await login(app, rp, { email: 'testuserlive+23@demo.signin.nhs.uk', vtr: ['P5.Cp.Cd'], scope: 'openid profile' });
      assert.equal(r.claims.vot, 'P5.Cp.Cd');
      assert.equal(r.claims.identity_proofing_level, 'P9');
    });

    test('declining consent: a second chance, then access_denied + ConsentNotGiven', async () => {
      const s = await signIn(app, rp, { stopAt: 'consent' });
      const consent = s.page.url;
      const b = s.browser;
      const confirm = await b.post(consent.replace(/consent$/, 'decline'), {});
      assert.match(confirm.text, /Go back and share your information/);
      const decline = await signIn(app, rp, { decline: true });
      assert.equal(decline.callback?.searchParams.get('error'), 'access_denied');
      assert.equal(decline.callback?.searchParams.get('error_description'), 'ConsentNotGiven');
      assert.equal(decline.callback?.searchParams.get('state'), decline.state);
      assert.equal(decline.callback?.searchParams.get('code'), null);
      assert.ok(consent.endsWith('/consent'));
    });

    test('a P5 user asked for P9 proves identity with photo ID; vot and identity_proofing_level follow', async () => {
      const s = await signIn(app, rp, { email: 'testuserlive+p5@demo.signin.nhs.uk', vtr: ['P9.Cp.Cd'], stopAt: 'prove-identity' });
      assert.deepEqual(s.steps, ['sign-in', 'otp', 'prove-identity']);
      assert.match(s.page.text, /photo ID/);
      const bad = await s.browser.post(s.page.url, {});
      assert.equal(bad.status, 400);
      assert.match(bad.text, /nhsuk-error-summary/);
      const done = await s.browser.post(s.page.url, { document: 'passport' });
      assert.ok(done.url.endsWith('/consent'), done.url);
      // The person is now P9: a fresh login needs no uplift and gets vot P9 with identity_proofing_level P9.
      const r = await login(app, rp, { email: 'testuserlive+p5@demo.signin.nhs.uk', vtr: ['P9.Cp.Cd'] });
      assert.deepEqual(r.steps, ['sign-in', 'otp', 'consent']);
      assert.equal(r.claims.vot, 'P9.Cp.Cd');
      assert.equal(r.claims.identity_proofing_level, 'P9');
    });

    test('create an account (P0), then prove identity to P5 against the test PDS', async () => {
      const b = browser();
      let page = await b.get(authorizationUrl(rp, { state: 's', nonce: 'n', vtr: ['P5.Cp.Cd'] }));
      page = await b.get(page.url.replace(/sign-in$/, 'register'));
      const bad = await b.post(page.url, { email: 'nope', password: 'x', phone: '1' });
      assert.equal(bad.status, 400);
      assert.equal((bad.text.match(/nhsuk-error-message/g) ?? []).length >= 3, true);
      page = await b.post(page.url, { email: 'new.person@example.org', password: 'Secret123', phone: '07700 900123' });
      assert.ok(page.url.endsWith('/otp'));
      page = await b.post(page.url, { otp: '190696' });
      assert.ok(page.url.endsWith('/prove-identity'));
      const miss = await b.post(page.url, {
        nhs_number: '9686367403',
        family_name: 'WRONG',
        'birthdate-day': '26',
        'birthdate-month': '2',
        'birthdate-year': '1935',
        postcode: 'HD4 5ET',
      });
      assert.match(miss.text, /could not match your details/);
      page = await b.post(page.url, {
        nhs_number: '968 636 7403',
        family_name: 'Case',
        'birthdate-day': '26',
        'birthdate-month': '2',
        'birthdate-year': '1935',
        postcode: 'hd4 5et',
      });
      assert.ok(page.url.endsWith('/consent'), page.url);
    });

    test('registering: one account per journey, and at most 20 new accounts per address in 15 minutes', async () => {
      const { findPersonByEmail } = await import('../../storage/index.ts');
      const b = browser();
      const start = await b.get(authorizationUrl(rp, { state: 's', nonce: 'n', vtr: ['P5.Cp.Cd'] }));
      const register = start.url.replace(/sign-in$/, 'register');
      const first = await b.post(register, { email: 'once.only@example.org', password: 'Secret123', phone: '07700 900124' });
      assert.ok(first.url.endsWith('/otp'));
      const again = await b.post(register, { email: 'twice@example.org', password: 'Secret123', phone: '07700 900125' });
      assert.ok(again.url.endsWith('/otp'), 'the journey carries on with the account it has');
      assert.ok(await findPersonByEmail(app.database.db, 'sandpit', 'once.only@example.org'));
      assert.equal(await findPersonByEmail(app.database.db, 'sandpit', 'twice@example.org'), undefined, 'no second account');
      // Sent twice at once (a double click without JavaScript): one account, and both answers carry on with it.
      const d = browser();
      const twice = (await d.get(authorizationUrl(rp, { state: 's', nonce: 'n', vtr: ['P5.Cp.Cd'] }))).url.replace(/sign-in$/, 'register');
      const both = await Promise.all(
        ['double.a@example.org', 'double.b@example.org'].map((email) =>
          d.post(twice, { email, password: 'Secret123', phone: '07700 900128' }),
        ),
      );
      assert.deepEqual(
        both.map((p) => p.url.endsWith('/otp')),
        [true, true],
        both.map((p) => `${p.status} ${p.url}`).join(', '),
      );
      const created = await Promise.all(
        ['double.a@example.org', 'double.b@example.org'].map((e) => findPersonByEmail(app.database.db, 'sandpit', e)),
      );
      assert.equal(created.filter(Boolean).length, 1);

      const key = 'sandpit:register:127.0.0.1';
      await app.database.db.insertInto('attempt_counter').values({ key, count: 20, inflight: 0, expires_at: Date.now() + 60_000 })
        .onConflict((oc) => oc.column('key').doUpdateSet({ count: 20, expires_at: Date.now() + 60_000 })).execute();
      try {
        const c = browser();
        const other = await c.get(authorizationUrl(rp, { state: 's', nonce: 'n', vtr: ['P5.Cp.Cd'] }));
        const refused = await c.post(other.url.replace(/sign-in$/, 'register'), {
          email: 'one.too.many@example.org',
          password: 'Secret123',
          phone: '07700 900126',
        });
        assert.equal(refused.status, 429);
        assert.match(refused.text, /Too many NHS logins have been created from your network/);
        assert.equal(await findPersonByEmail(app.database.db, 'sandpit', 'one.too.many@example.org'), undefined);
        // A conformance run's browser (the toolkit's own, shared by every partner's runs) is not counted.
        const { createRunMark, MARK_COOKIE } = await import('../run-marks.ts');
        const mark = await createRunMark(app.database.db, 'sandpit', rp.client.clientId, { runId: 'r1', testId: 'login-p0' });
        const run = new Browser(
          (url, init) =>
            app.fetch(url, {
              ...init,
              headers: {
                ...(init?.headers as Record<string, string>),
                cookie: [(init?.headers as Record<string, string> | undefined)?.cookie, `${MARK_COOKIE}=${mark}`]
                  .filter(Boolean)
                  .join('; '),
              },
            }),
          'http://localhost:3000',
        );
        const runStart = await run.get(authorizationUrl(rp, { state: 's', nonce: 'n', vtr: ['P5.Cp.Cd'] }));
        const registered = await run.post(runStart.url.replace(/sign-in$/, 'register'), {
          email: 'conformance.run@example.org',
          password: 'Secret123',
          phone: '07700 900127',
        });
        assert.ok(registered.url.endsWith('/otp'), `${registered.status} ${registered.url}`);
      } finally {
        await app.database.db.deleteFrom('attempt_counter').where('key', '=', key).execute();
      }
    });

    test('steps cannot be skipped: no uplift, decline or security code before the password', async () => {
      const b = browser();
      const start = await b.get(authorizationUrl(rp, { state: 's', nonce: 'n' }));
      assert.ok(start.url.endsWith('/sign-in'));
      const base = start.url.replace(/\/sign-in$/, '');
      for (const step of ['prove-identity', 'decline', 'decline/confirm', 'otp', 'consent']) {
        const page = await b.post(`${base}/${step}`, { document: 'passport', otp: '190696' });
        assert.ok(page.url.endsWith('/sign-in'), `${step} sends the person back to sign in, got ${page.url}`);
      }
      // Signed in with password only: still no uplift and no consent before the security code.
      const otp = await b.post(start.url, { email: 'testuserlive+p5@demo.signin.nhs.uk', password: 'Passw0rd$1' });
      assert.ok(otp.url.endsWith('/otp'));
      const early = await b.post(`${base}/prove-identity`, { document: 'passport' });
      assert.ok(early.url.endsWith('/otp'), early.url);
      await app.events.flush();
      const uplifts = await app.database.db
        .selectFrom('protocol_event')
        .select('id')
        .where('kind', '=', 'uplift')
        .where('correlation_id', '=', base.split('/').at(-1)!)
        .execute();
      assert.equal(uplifts.length, 0, 'no uplift happened');
    });
  });
}
