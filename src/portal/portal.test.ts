/**
 * The partner portal without JavaScript, on both databases: sign-up to a working sandpit client, every form's
 * errors, CSRF, tenancy, password reset, and mail through a real SMTP server on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import * as oidc from 'openid-client';
import { importPKCS8 } from 'jose';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser, csrfOf, fromAddress, type Page } from '../test-support/browser.ts';
import { getClient } from '../storage/index.ts';
import { outbox } from '../onboarding/index.ts';

const ORIGIN = 'http://localhost:3000';
const decode = (s: string) =>
  s
    .replaceAll('&#92;', '\\')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');

async function submit(b: Browser, url: string, form: Record<string, string | string[]>) {
  const page = await b.get(url);
  const body = new URLSearchParams({ _csrf: csrfOf(page) });
  for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
  return b.post(url, body);
}

function keyPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** Signs up, confirms through the emailed link, signs in and adds an organisation. */
async function partner(app: TestApp, email: string) {
  const b = new Browser(app.fetch, ORIGIN);
  const done = await submit(b, '/portal/sign-up', { name: 'Dev Eloper', email, password: 'correct horse battery' });
  assert.match(done.text, /Check your email/);
  const mail = (await outbox(app.database.db, email))[0]!;
  const link = /http:\/\/localhost:3000(\/portal\/confirm\/\S+)/.exec(mail.body)![1]!;
  assert.match((await b.get(link)).text, /Email address confirmed/);
  const home = await submit(b, '/portal/sign-in', { email, password: 'correct horse battery' });
  assert.ok(home.url.endsWith('/portal'), home.url);
  const form = await submit(b, '/portal/organisations/new', { name: `Org of ${email}`, ods_code: '8hk45' });
  const orgId = /organisations\/([\w-]+)\/clients\/new/.exec(form.url)![1]!;
  return { b, orgId };
}

for (const dialect of DIALECTS) {
  describe(`partner portal (${dialect})`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp(dialect, { TRUST_PROXY: 'true' }); // so that a test can sign in from another address
    });
    after(() => app.stop());

    test('sign-up errors are shown against their fields', async () => {
      const b = new Browser(app.fetch, ORIGIN);
      const page = await submit(b, '/portal/sign-up', { name: '', email: 'not-an-email', password: 'short' });
      assert.equal(page.status, 400);
      assert.match(page.text, /nhsuk-error-summary/);
      assert.match(page.text, /Enter your full name/);
      assert.match(page.text, /Enter an email address in the correct format/, 'every problem at once');
      assert.match(page.text, /at least 12 characters/);
      const weak = await submit(b, '/portal/sign-up', { name: 'A', email: 'a@example.org', password: 'password1234' });
      assert.match(weak.text, /harder to guess/);
    });

    test('per-address limits on sign-up and reset emails; at most three reset emails per account', async () => {
      const b = new Browser(app.fetch, ORIGIN);
      const db = app.database.db;
      await db
        .insertInto('attempt_counter')
        .values({ key: 'portal:sign_up:127.0.0.1', count: 50, inflight: 0, expires_at: Date.now() + 60_000, not_before: null })
        .onConflict((oc) => oc.column('key').doUpdateSet({ count: 50, expires_at: Date.now() + 60_000 }))
        .execute();
      const page = await submit(b, '/portal/sign-up', { name: 'Flood', email: 'flood@example.org', password: 'correct horse battery' });
      assert.equal(page.status, 429);
      assert.match(page.text, /too many attempts from your network/);
      await db.deleteFrom('attempt_counter').where('key', 'like', 'portal:%').execute();
      await partner(app, 'forgetful@example.org');
      const before = (await outbox(db, 'forgetful@example.org')).length;
      for (let i = 0; i < 5; i++) await submit(b, '/portal/forgot-password', { email: 'forgetful@example.org' });
      assert.equal((await outbox(db, 'forgetful@example.org')).length - before, 3, 'three reset emails, then no more');
      let last;
      for (let i = 0; i < 6; i++) last = await submit(b, '/portal/forgot-password', { email: `nobody${i}@example.org` });
      assert.equal(last!.status, 429, 'ten reset requests from one address in 15 minutes, then refused');
      await db.deleteFrom('attempt_counter').where('key', 'like', 'portal:%').execute();
    });

    test('wrong passwords make their address wait, doubling; the account\'s owner signs in from another address', async () => {
      await partner(app, 'target@example.org');
      const attacker = new Browser(fromAddress(app.fetch, '203.0.113.7'), ORIGIN);
      let page;
      for (let i = 0; i < 5; i++)
        page = await submit(attacker, '/portal/sign-in', { email: 'target@example.org', password: 'not the password' });
      assert.equal(page!.status, 401);
      assert.match(page!.text, /0 more tries before you must wait/);
      page = await submit(attacker, '/portal/sign-in', { email: 'target@example.org', password: 'not the password' });
      assert.equal(page.status, 429);
      assert.match(page.text, /wait 30 seconds before you try again/);
      page = await submit(attacker, '/portal/sign-in', { email: 'target@example.org', password: 'correct horse battery' });
      assert.equal(page.status, 429, 'the guessing address waits, even with the right password');
      const owner = new Browser(fromAddress(app.fetch, '198.51.100.20'), ORIGIN);
      const home = await submit(owner, '/portal/sign-in', { email: 'target@example.org', password: 'correct horse battery' });
      assert.ok(home.url.endsWith('/portal'), 'the owner, elsewhere, is not locked out');
    });

    test('past the network\'s ceiling a sign-in finishes by an emailed link; a wrong password gets the same page', async () => {
      await partner(app, 'nat@example.org');
      const db = app.database.db;
      const nat = '192.0.2.50';
      for (let i = 0; i < 30; i++)
        await submit(new Browser(fromAddress(app.fetch, nat), ORIGIN), '/portal/sign-in', {
          email: `sprayed${i}@example.org`,
          password: 'guess guess guess',
        });
      const b = new Browser(fromAddress(app.fetch, nat), ORIGIN);
      const mailBefore = (await outbox(db, 'nat@example.org')).length;
      const wrong = await submit(b, '/portal/sign-in', { email: 'nat@example.org', password: 'not the password' });
      const right = await submit(b, '/portal/sign-in', { email: 'nat@example.org', password: 'correct horse battery' });
      for (const p of [wrong, right]) {
        assert.equal(p.status, 200);
        assert.match(p.text, /If the email address and password are right, we have sent a link/);
      }
      assert.equal(
        wrong.text.replace(/name="_csrf" value="[^"]+"/g, ''),
        right.text.replace(/name="_csrf" value="[^"]+"/g, ''),
        'the two answers are the same page',
      );
      const mail = await outbox(db, 'nat@example.org');
      assert.equal(mail.length, mailBefore + 1, 'only the right password sent a link');
      const link = /http:\/\/localhost:3000(\/portal\/sign-in\/continue\/\S+)/.exec(mail[0]!.body)![1]!;
      // Opening the link (a mail scanner does) shows a button and uses nothing up; another browser's press is refused.
      const elsewhere = new Browser(app.fetch, ORIGIN);
      const theirs = await elsewhere.get(link);
      assert.equal(theirs.status, 200);
      const refused = await elsewhere.post(link, new URLSearchParams({ _csrf: csrfOf(theirs) }));
      assert.equal(refused.status, 400);
      assert.match(refused.text, /Open this link in the browser you signed in with/);
      assert.equal(elsewhere.hasCookie('toolkit_portal'), false);
      const confirm = await b.get(link);
      assert.match(confirm.text, /Finish signing in/);
      const home = await b.post(link, new URLSearchParams({ _csrf: csrfOf(confirm) }));
      assert.ok(home.url.endsWith('/portal'), `the link signs in (${home.url})`);
      const again = await b.get(link);
      assert.equal((await b.post(link, new URLSearchParams({ _csrf: csrfOf(again) }))).status, 400, 'once');
    });

    test('a form posted without its CSRF token is refused', async () => {
      const b = new Browser(app.fetch, ORIGIN);
      const page = await b.post('/portal/sign-up', { name: 'A', email: 'csrf@example.org', password: 'correct horse battery' });
      assert.equal(page.status, 403);
      assert.equal((await outbox(app.database.db, 'csrf@example.org')).length, 0);
    });

    describe('a sandpit client registered in the portal', () => {
      const keys = keyPair();
      const CB = { redirect_uri: 'https://svc.example.org/cb' };
      let b: Browser;
      let orgId: string;
      let url: string;
      let created: Page;
      let clientId: string;
      let client: NonNullable<Awaited<ReturnType<typeof getClient>>>;
      let clientPage: string;
      let dir: string;
      let shell: string;
      let snippetAnswer: { answer: { error: string; error_description: string }; assertion: string };
      let config: oidc.Configuration;
      let signIn: (typeof import('../test-support/rp.ts'))['signIn'];
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      let afterLogin: Page;
      const rp = () => ({ config, client, issuer: `${ORIGIN}/sandpit` }) as never;
      const doneIn = (p: Page) => (id: string) => new RegExp(`data-item="${id}" data-done="yes"`).test(p.text);
      // The public key as an uploaded .pem file (multipart), as a browser without JavaScript sends it.
      const upload = async (pem: string) => {
        const fd = new FormData();
        fd.set('_csrf', csrfOf(await b.get(url)));
        fd.set('name', 'Uploaded key service');
        fd.set('redirect_uris', 'https://upload.example.org/cb');
        fd.append('vtr', 'P9.Cp.Cd');
        fd.append('vtr', 'P5.Cp.Cd');
        fd.set('public_key_file', new Blob([pem]), 'public.pem');
        return app.fetch(`${ORIGIN}${url}`, {
          method: 'POST',
          headers: { cookie: b.cookieHeader(new URL(`${ORIGIN}${url}`)) },
          body: fd,
          redirect: 'manual',
        });
      };
      const tokenRequest = (assertion: string, code: string) =>
        app.fetch(`${ORIGIN}/sandpit/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code,
            redirect_uri: 'https://svc.example.org/cb',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
          }).toString(),
        });

      // Sign-up -> confirm -> organisation -> sandpit client; its shell snippet's token request, then a P9 login with it.
      before(async () => {
        ({ b, orgId } = await partner(app, 'first@example.org'));
        url = `/portal/organisations/${orgId}/clients/new`;
        created = await submit(b, url, {
          name: 'My service',
          redirect_uris: 'https://svc.example.org/cb\nhttp://localhost:8080/cb',
          vtr: ['P9.Cp.Cd', 'P5.Cp.Cd'],
          scopes: ['profile', 'email'],
          public_key: keys.publicKey,
        });
        assert.equal(created.status, 200, created.text.slice(0, 400));
        clientId = /id="client-id">([0-9a-f]+)</.exec(created.text)![1]!;
        client = (await getClient(app.database.db, 'sandpit', clientId))!;
        clientPage = new URL(created.url).pathname;

        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'snippet-'));
        fs.writeFileSync(path.join(dir, 'private.pem'), keys.privateKey);
        shell =
          decode(/id="snippet-shell"[\s\S]*?<code[^>]*>([\s\S]*?)<\/code>/.exec(created.text)![1]!).split('\ncurl')[0] +
          '\necho "$ASSERTION"';
        const assertion = execFileSync('bash', ['-c', shell], { cwd: dir, encoding: 'utf8' }).trim();
        const res = await tokenRequest(assertion, 'bogus');
        snippetAnswer = { answer: (await res.json()) as { error: string; error_description: string }, assertion };

        const key = await importPKCS8(keys.privateKey, 'RS512');
        config = await oidc.discovery(
          new URL(`${ORIGIN}/sandpit`),
          clientId,
          { id_token_signed_response_alg: 'RS512' },
          oidc.PrivateKeyJwt(key, {
            [oidc.modifyAssertion]: (_h: unknown, p: Record<string, unknown>) => {
              p.aud = `${ORIGIN}/sandpit/token`;
            },
          }),
          { execute: [oidc.allowInsecureRequests], [oidc.customFetch]: app.fetch as never },
        );
        config[oidc.customFetch] = app.fetch as never;
        ({ signIn } = await import('../test-support/rp.ts'));
        const s = await signIn(app, rp(), { vtr: ['P9.Cp.Cd'], scope: 'openid profile', extra: CB });
        tokens = await oidc.authorizationCodeGrant(config, s.callback!, { expectedState: s.state, expectedNonce: s.nonce });
        afterLogin = await b.get(clientPage);
      });

      test('new-client form errors are shown against their fields, every problem at once', async () => {
        let page = await submit(b, url, {
          name: 'My service',
          redirect_uris: 'http://example.org/cb',
          vtr: 'P9.Cp.Cd',
          public_key: keys.publicKey,
        });
        assert.equal(page.status, 400);
        assert.match(page.text, /must use https/);
        assert.match(page.text, /href="#redirect_uris"/);
        page = await submit(b, url, {
          name: 'My service',
          redirect_uris: 'https://svc.example.org/cb',
          vtr: 'P9.Cp.Cd',
          public_key: keyPair().privateKey,
        });
        assert.match(page.text, /That is a private key/);
        page = await submit(b, url, { name: 'My service', redirect_uris: 'https://svc.example.org/cb', public_key: keys.publicKey });
        assert.match(page.text, /Choose at least one vector of trust/);
        page = await submit(b, url, { name: '', redirect_uris: 'ftp://svc.example.org/cb', public_key: 'not a key' });
        for (const href of ['#name', '#redirect_uris', '#vtr', '#public_key'])
          assert.match(page.text, new RegExp(`href="${href}"`), `every problem at once: ${href}`);
      });

      test('a public key uploaded as a .pem file registers a client with the vectors chosen', async () => {
        const uploaded = await upload(keyPair().publicKey);
        assert.equal(uploaded.status, 303);
        const uploadedId = /clients\/([0-9a-f]+)$/.exec(uploaded.headers.get('location') ?? '')![1]!;
        assert.deepEqual((await getClient(app.database.db, 'sandpit', uploadedId))!.vtr, ['P9.Cp.Cd', 'P5.Cp.Cd']);
      });

      test('an uploaded file that is not a public key is refused, asking for the .pem file', async () => {
        const big = await upload('x'.repeat(40_000));
        assert.equal(big.status, 400);
        assert.match(await big.text(), /choose the .pem file with your public key/);
      });

      test('the new client\'s page gives the sandpit\'s discovery URL', () => {
        assert.match(created.text, /http:\/\/localhost:3000\/sandpit\/.well-known\/openid-configuration/);
      });

      test('the new client is stored in its organisation, with openid added to its scopes', () => {
        assert.deepEqual(client.scopes, ['openid', 'profile', 'email']);
        assert.equal(client.organisationId, orgId);
      });

      test('the shell snippet, run as shown, builds an assertion the token endpoint accepts (the bogus code then fails)', () => {
        const { answer, assertion } = snippetAnswer;
        assert.equal(
          answer.error,
          'invalid_grant',
          `client authenticated; only the code is wrong (${JSON.stringify(answer)} for ${assertion})`,
        );
      });

      test('a relying party with the new client completes a P9 login in the sandpit', () => {
        assert.equal(tokens.claims()!.vot, 'P9.Cp.Cd');
      });

      test('journey evidence comes from traffic alone: the P9 login ticks its own items and no others', () => {
        const done = doneIn(afterLogin);
        assert.ok(done('login-P9.Cp.Cd') && done('vot-matches') && done('user-P9'));
        assert.ok(
          !done('login-P5.Cp.Cd') &&
            !done('userinfo') &&
            !done('consent-declined') &&
            !done('invalid-scope') &&
            !done('user-P5') &&
            !done('user-P0'),
        );
      });

      test('a userinfo call, a declined consent and an invalid scope each tick their evidence item', async () => {
        await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
        await signIn(app, rp(), { vtr: ['P5.Cp.Cd'], decline: true, extra: CB });
        await signIn(app, rp(), { scope: 'openid landline', extra: CB });
        const done = doneIn(await b.get(clientPage));
        assert.ok(done('userinfo') && done('consent-declined') && done('invalid-scope'));
        assert.ok(!done('refresh') && !done('settings') && !done('registration'));
      });

      test('a token request whose assertion names the issuer as aud: the trace says what to change', async () => {
        const issuerAud = shell.replace(
          "TOKEN_ENDPOINT='http://localhost:3000/sandpit/token'",
          "TOKEN_ENDPOINT='http://localhost:3000/sandpit'",
        );
        await tokenRequest(execFileSync('bash', ['-c', issuerAud], { cwd: dir, encoding: 'utf8' }).trim(), 'x');
        const evidence = await b.get(clientPage);
        assert.match(evidence.text, /client assertion aud was &quot;http:\/\/localhost:3000\/sandpit&quot;/);
        assert.match(evidence.text, /What to change: Set the client assertion&#39;s aud to the token endpoint URL exactly/);
        assert.match(evidence.text, /href="\/portal\/reference\/sandpit#errors"/, 'with a link to the part of the interface');
        const eventLink = /href="(\/portal\/organisations\/[^"]+\/events\/[^"]+)"/.exec(evidence.text)![1]!;
        assert.equal((await b.get(eventLink)).status, 200);
      });

      test('a fault armed from the client page spoils the next response, then shows as done', async () => {
        let faulted = await b.get(clientPage);
        faulted = await b.post(
          `${clientPage}/fault`,
          new URLSearchParams({ _csrf: csrfOf(faulted), action: 'add', fault: 'id_token_wrong_nonce', lasts: 'responses', count: '1' }),
        );
        assert.match(faulted.text, /id="armed-faults"[\s\S]*ID token with the wrong nonce[\s\S]*Applies now/);
        const bad = await signIn(app, rp(), { scope: 'openid profile', extra: CB });
        await assert.rejects(oidc.authorizationCodeGrant(config, bad.callback!, { expectedState: bad.state, expectedNonce: bad.nonce }));
        const fired = /id="armed-faults"[\s\S]*Fired <\/span>1<\/td>[\s\S]*Done/;
        assert.match((await b.get(clientPage)).text, fired, 'fired once');
      });

      test('faults added one after another form a sequence, cleared with one button', async () => {
        let page = await b.get(clientPage);
        const add = (fields: Record<string, string>) =>
          b.post(`${clientPage}/fault`, new URLSearchParams({ _csrf: csrfOf(page), action: 'add', ...fields }));
        page = await add({ fault: 'token_server_error', lasts: 'responses', count: '2' });
        page = await add({ fault: 'token_latency', lasts: 'seconds', seconds: '30', ms: '1500' });
        page = await add({ fault: 'id_token_expired', lasts: 'cleared' });
        assert.match(page.text, /id="faults-closed"/, 'nothing can follow a fault that lasts until cleared');
        assert.doesNotMatch(page.text, /Add the fault/);
        assert.match(page.text, /1\. Token endpoint answers server_error \(500\)[\s\S]*2 responses[\s\S]*Applies now/);
        assert.match(page.text, /2\. Token endpoint answers only after a delay: 1,500 milliseconds[\s\S]*30 seconds[\s\S]*Waiting/);
        page = await b.post(`${clientPage}/fault`, new URLSearchParams({ _csrf: csrfOf(page), action: 'clear' }));
        assert.doesNotMatch(page.text, /id="armed-faults"/);
      });

      test('a fault the toolkit does not know, or a delay with no milliseconds, is refused as typed, 400', async () => {
        const page = await b.get(clientPage);
        const post = (fields: Record<string, string>) =>
          b.post(`${clientPage}/fault`, new URLSearchParams({ _csrf: csrfOf(page), action: 'add', ...fields }));
        assert.equal((await post({ fault: 'nope', lasts: 'responses', count: '1' })).status, 400);
        const noMs = await post({ fault: 'userinfo_latency', lasts: 'responses', count: '7' });
        assert.equal(noMs.status, 400);
        assert.match(noMs.text, /nhsuk-error-summary[\s\S]*href="#ms"[\s\S]*Enter the delay in milliseconds/);
        assert.match(noMs.text, /id="count" name="count"[^>]*value="7"/, 'what was typed is kept');
        assert.match(noMs.text, /<option value="userinfo_latency" selected/);
        const twice = new URLSearchParams([['_csrf', csrfOf(page)], ['action', 'add'], ['fault', 'pass'], ['lasts', 'a'], ['lasts', 'b']]);
        assert.equal((await b.post(`${clientPage}/fault`, twice)).status, 400, 'a field sent twice');
      });
    });

    test('tenancy: another partner cannot see or use the first one\'s organisation or clients', async () => {
      const first = await partner(app, 'owner@example.org');
      const keys = keyPair();
      const created = await submit(first.b, `/portal/organisations/${first.orgId}/clients/new`, {
        name: 'Owned',
        redirect_uris: 'https://o.example.org/cb',
        vtr: 'P9.Cp.Cd',
        public_key: keys.publicKey,
      });
      const clientPath = new URL(created.url).pathname;
      const other = await partner(app, 'other@example.org');
      assert.equal((await other.b.get(clientPath)).status, 404);
      assert.equal((await other.b.get(`/portal/organisations/${first.orgId}/clients/new`)).status, 404);
      const post = await submit(other.b, `/portal/organisations/${other.orgId}/clients/new`, {});
      assert.equal(post.status, 400, 'own organisation works');
      const sneaky = await other.b.request(`/portal/organisations/${first.orgId}/clients/new`, {
        method: 'POST',
        form: { _csrf: csrfOf(await other.b.get(`/portal/organisations/${other.orgId}/clients/new`)), name: 'x' },
      });
      assert.equal(sneaky.status, 404);
      assert.doesNotMatch((await other.b.get('/portal')).text, /Owned/);
    });

    test('the application: eligibility outcome, draft, all problems at once, submit once, tenancy', async () => {
      const { b, orgId } = await partner(app, 'applicant@example.org');
      const url = `/portal/organisations/${orgId}/application`;
      const yes = {
        'eligibility-england': 'yes',
        'eligibility-patient_facing': 'yes',
        'eligibility-benefit': 'yes',
        'eligibility-free': 'yes',
      };
      let page = await submit(b, url, { ...yes, 'eligibility-commissioned': 'no', product_name: 'Care Diary', action: 'save' });
      assert.match(page.text, /id="saved"/);
      assert.match(page.text, /being on a framework is not enough/);
      page = await submit(b, url, {
        ...yes,
        'eligibility-commissioned': 'yes',
        product_name: 'Care Diary',
        scopes: ['profile'],
        action: 'submit',
      });
      assert.equal(page.status, 400);
      for (const field of ['description', 'sponsor', 'vectors', 'reason-profile', 'contact_name', 'contact_email', 'safety_officer_email'])
        assert.match(page.text, new RegExp(`href="#${field}"`), field);
      assert.match(page.text, /value="Care Diary"/, 'what was typed is kept');
      const complete = {
        ...yes,
        'eligibility-commissioned': 'yes',
        product_name: 'Care Diary',
        description: 'A diary for carers of people living with dementia, used at home.',
        sponsor: 'NHS Example ICB',
        vectors: ['P9.Cp.Cd'],
        scopes: ['profile', 'email'],
        'reason-profile': 'To match records',
        'reason-email': 'To contact users',
        contact_name: 'A Person',
        contact_email: 'a@example.org',
        safety_officer_email: 'cso@example.org',
        action: 'submit',
      };
      page = await submit(b, url, complete);
      assert.match(page.text, /id="submitted"/);
      const again = await b.post(
        url,
        new URLSearchParams({ _csrf: csrfOf(await b.get(`/portal/organisations/${orgId}/clients/new`)), action: 'save' }),
      );
      assert.equal(again.status, 409);
      const other = await partner(app, 'nosy@example.org');
      assert.equal((await other.b.get(url)).status, 404);
    });

    test('API tokens: created in the portal and shown once, usable, revocable', async () => {
      const { b, orgId } = await partner(app, 'automator@example.org');
      const url = `/portal/organisations/${orgId}/api-tokens`;
      assert.equal((await submit(b, url, { name: '' })).status, 400);
      const created = await submit(b, url, { name: 'CI pipeline' });
      const token = /id="new-token">(nhslt_[\w-]+)</.exec(created.text)![1]!;
      const api = (t: string) => app.fetch('http://localhost:3000/api/v1/organisation', { headers: { authorization: `Bearer ${t}` } });
      assert.equal(((await (await api(token)).json()) as { id: string }).id, orgId);
      const listed = await b.get(url);
      assert.doesNotMatch(listed.text, new RegExp(token), 'never shown again');
      const revoke = /action="(\/portal\/organisations\/[^"]+\/revoke)"/.exec(listed.text)![1]!;
      await b.post(revoke, new URLSearchParams({ _csrf: csrfOf(listed) }));
      assert.equal((await api(token)).status, 401);
    });

    describe('members', () => {
      let admin: Awaited<ReturnType<typeof partner>>;
      let stranger: Awaited<ReturnType<typeof partner>>;
      let dev: Awaited<ReturnType<typeof partner>>;
      let url: string;
      let invited: Page;
      let devLink: string;
      let strangerView: Page;
      const linkFor = async (email: string) =>
        /http:\/\/localhost:3000(\/portal\/invitations\/\S+)/.exec((await outbox(app.database.db, email))[0]!.body)![1]!;
      const memberId = async (email: string) =>
        (await app.database.db.selectFrom('partner_user').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;
      /** An admin invites a developer by email; they sign up and open the emailed link. */
      const join = async (email: string) => {
        const page = await submit(admin.b, url, { email, role: 'developer' });
        const link = await linkFor(email);
        const member = await partner(app, email);
        await member.b.get(link);
        return { page, link, member };
      };
      before(async () => {
        admin = await partner(app, 'lead@example.org');
        url = `/portal/organisations/${admin.orgId}/members`;
        stranger = await partner(app, 'stranger@example.org');
        invited = await submit(admin.b, url, { email: 'dev@example.org', role: 'developer' });
        devLink = await linkFor('dev@example.org');
        strangerView = await stranger.b.get(devLink); // before the invitation is used
        dev = await partner(app, 'dev@example.org');
        await dev.b.get(devLink);
      });

      test('an invitation to something that is not an email address is refused', async () => {
        assert.equal((await submit(admin.b, url, { email: 'nope', role: 'developer' })).status, 400);
      });

      test('a developer invited by email joins through the link and sees the organisation', async () => {
        assert.match(invited.text, /id="invited"/);
        assert.match((await dev.b.get('/portal')).text, /Org of lead@example.org/);
        assert.match((await dev.b.get(`/portal/organisations/${admin.orgId}/clients/new`)).text, /Register a sandpit client/);
      });

      test('an invitation link opened by someone else says whom it is for', async () => {
        assert.match(strangerView.text, /This invitation is for dev@example.org/);
      });

      test('an invitation link works once', async () => {
        assert.equal((await dev.b.get(devLink)).status, 400, 'single use');
      });

      test('only partner admins invite: a developer\'s rights follow their role, changed both ways', async () => {
        assert.equal((await submit(dev.b, url, { email: 'x@example.org', role: 'developer' })).status, 403, 'developers cannot invite');
        const devId = await memberId('dev@example.org');
        let members = await admin.b.get(url);
        await admin.b.post(`${url}/${devId}/role`, new URLSearchParams({ _csrf: csrfOf(members), role: 'partner_admin' }));
        assert.equal((await submit(dev.b, url, { email: 'x@example.org', role: 'developer' })).status, 200, 'now an admin, so may invite');
        members = await admin.b.get(url);
        await admin.b.post(`${url}/${devId}/role`, new URLSearchParams({ _csrf: csrfOf(members), role: 'developer' }));
        assert.equal((await submit(dev.b, url, { email: 'y@example.org', role: 'developer' })).status, 403, 'a developer again');
      });

      test('a withdrawn invitation\'s link does not work', async () => {
        await submit(admin.b, url, { email: 'withdrawn@example.org', role: 'developer' });
        const link = await linkFor('withdrawn@example.org');
        const { id: invitationId } = await app.database.db
          .selectFrom('invitation')
          .select('id')
          .where('email', '=', 'withdrawn@example.org')
          .executeTakeFirstOrThrow();
        const members = await admin.b.get(url);
        assert.match(members.text, new RegExp(`/invitations/${invitationId}/revoke"`), 'the members page offers to withdraw it');
        await admin.b.post(
          `${url.replace('/members', '')}/invitations/${invitationId}/revoke`,
          new URLSearchParams({ _csrf: csrfOf(members) }),
        );
        const x = await partner(app, 'withdrawn@example.org');
        assert.match((await x.b.get(link)).text, /expired or has already been used/, 'a withdrawn invitation does not work');
      });

      test('a removed member no longer sees the organisation', async () => {
        const { member: leaver } = await join('leaver@example.org');
        assert.match((await leaver.b.get('/portal')).text, /Org of lead@example.org/);
        const members = await admin.b.get(url);
        const leaverId = await memberId('leaver@example.org');
        assert.match(members.text, new RegExp(`"/portal/organisations/[^/]+/members/${leaverId}/remove"`));
        const removed = await admin.b.post(`${url}/${leaverId}/remove`, new URLSearchParams({ _csrf: csrfOf(members) }));
        assert.ok(removed.url.endsWith('/members'));
        assert.doesNotMatch((await leaver.b.get('/portal')).text, /Org of lead@example.org/, 'removed');
      });

      test('the last partner admin cannot be removed (the use-case refuses)', async () => {
        const { removeMember, requireMembership } = await import('../onboarding/index.ts');
        const adminId = await memberId('lead@example.org');
        await assert.rejects(
          removeMember(app.database.db, await requireMembership(app.database.db, adminId, admin.orgId), adminId),
          /at least one partner admin/,
        );
      });

      test('removing the last partner admin through the page shows the members form again with the reason, 400', async () => {
        // A conflict (409) is 400 on a form, not "not allowed".
        const adminId = await memberId('lead@example.org');
        const last = await admin.b.post(`${url}/${adminId}/remove`, new URLSearchParams({ _csrf: csrfOf(await admin.b.get(url)) }));
        assert.equal(last.status, 400);
        assert.match(last.text, /at least one partner admin/);
      });

      test('another partner cannot see the members page', async () => {
        assert.equal((await stranger.b.get(url)).status, 404);
      });
    });

    test('integration test users from PDS records: level and OTP switches, used in a real login; own organisation only', async () => {
      const { b, orgId } = await partner(app, 'tester@example.org');
      const url = `/portal/organisations/${orgId}/test-users`;
      assert.equal((await submit(b, url, { nhs_number: '0000000000', level: 'P9' })).status, 400);
      let page = await submit(b, url, { nhs_number: '9686368450', level: 'P5', otp_disabled: 'yes' });
      const email = /<code>(9686368450\.[^<]+)<\/code>/.exec(page.text)![1]!;
      const personId = /action="\/portal\/organisations\/[^/]+\/test-users\/([0-9a-f]+)"/.exec(page.text)![1]!;
      assert.equal((await submit(b, url, { nhs_number: '9686368450', level: 'P9' })).status, 400, 'one per record');
      page = await b.post(`${url}/${personId}`, new URLSearchParams({ _csrf: csrfOf(page), level: 'P9', otp_disabled: 'yes' }));
      const { createRp, login } = await import('../test-support/rp.ts');
      const rp = await createRp(app, 'integration', {
        im1: true,
        scopes: ['openid', 'profile', 'gp_integration_credentials', 'phone'],
        vtr: ['P9.Cp.Cd'],
      });
      const r = await login(app, rp, { email, scope: 'openid profile gp_integration_credentials phone', vtr: ['P9.Cp.Cd'] });
      assert.deepEqual(r.steps, ['sign-in', 'consent'], 'no security code asked');
      assert.equal(r.claims.family_name, 'WEIR');
      const ui = await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub);
      assert.equal((ui.gp_integration_credentials as { gp_linkage_key: string }).gp_linkage_key, 'YCRPyPSEUARw5');
      assert.equal(ui.phone_number_pds_matched, false);
      const other = await partner(app, 'meddler@example.org');
      const otherPage = await other.b.get(`/portal/organisations/${other.orgId}/test-users`);
      assert.doesNotMatch(otherPage.text, /9686368450\./);
      const meddle = await other.b.post(
        `/portal/organisations/${other.orgId}/test-users/${personId}`,
        new URLSearchParams({ _csrf: csrfOf(otherPage), level: 'P0' }),
      );
      assert.equal(meddle.status, 404);

      // The PDS trace switch: at P0 asked for P9, their own details find no match, so the uplift fails.
      page = await b.post(
        `${url}/${personId}`,
        new URLSearchParams({ _csrf: csrfOf(await b.get(url)), level: 'P0', otp_disabled: 'yes', pds_trace_fails: 'yes' }),
      );
      const { signIn } = await import('../test-support/rp.ts');
      const s = await signIn(app, rp, { email, scope: 'openid profile', vtr: ['P9.Cp.Cd'], stopAt: 'prove-identity' });
      const miss = await s.browser.post(s.page.url, {
        nhs_number: '9686368450',
        family_name: 'Weir',
        'birthdate-day': '14',
        'birthdate-month': '6',
        'birthdate-year': '1954',
        postcode: 'HD1 4JP',
      });
      assert.equal(miss.status, 400);
      assert.match(miss.text, /could not match your details/);
    });

    describe('documents', () => {
      const pdf = Buffer.from('%PDF-1.4\n% a tiny test document\n%%EOF\n');
      let b: Browser;
      let orgId: string;
      let url: string;
      let csrf: string;
      let first: number;
      let second: number;
      const upload = async (kind: string, filename: string, bytes: Buffer, token = csrf, who = b) => {
        const form = new FormData();
        form.append('_csrf', token);
        form.append('kind', kind);
        form.append('file', new Blob([new Uint8Array(bytes)]), filename);
        const res = await app.fetch(url, {
          method: 'POST',
          body: form,
          headers: { cookie: who.cookieHeader(new URL(url)) },
          redirect: 'manual',
        });
        return { status: res.status, text: await res.text() };
      };
      const downloadLink = async () => /href="(\/portal\/organisations\/[^"]+\/documents\/[^"]+)"/.exec((await b.get(url)).text)![1]!;
      // One kind of document uploaded twice.
      before(async () => {
        ({ b, orgId } = await partner(app, 'docs@example.org'));
        url = `${ORIGIN}/portal/organisations/${orgId}/documents`;
        csrf = csrfOf(await b.get(url));
        first = (await upload('dspt', 'evidence.pdf', pdf)).status;
        second = (await upload('dspt', 'evidence-v2.pdf', pdf)).status;
      });

      test('a document uploaded again is a new version: the list shows the latest and the count', async () => {
        assert.equal(first, 303);
        assert.equal(second, 303);
        const list = await b.get(url);
        assert.match(list.text, /evidence-v2.pdf/);
        assert.match(list.text, /<td class="nhsuk-table__cell">2<\/td>/);
      });

      test('a document\'s type is checked from its content, not its name', async () => {
        const r = await upload('dspt', 'evil.pdf', Buffer.from('<script>alert(1)</script>'));
        assert.equal(r.status, 400);
        assert.match(r.text, /must be a PDF, Word/);
      });

      test('a document over 10 MB is refused, 413', async () => {
        const r = await upload('dspt', 'big.pdf', Buffer.concat([pdf, Buffer.alloc(10 * 1024 * 1024)]));
        assert.equal(r.status, 413);
      });

      test('a document of a kind not offered is refused, 400', async () => {
        assert.equal((await upload('nonsense', 'x.pdf', pdf)).status, 400);
      });

      test('an upload without the form\'s CSRF token is refused, 403', async () => {
        assert.equal((await upload('dspt', 'x.pdf', pdf, 'wrong-token')).status, 403);
      });

      test('a document downloads as an attachment, byte for byte', async () => {
        const dl = await app.fetch(`${ORIGIN}${await downloadLink()}`, { headers: { cookie: b.cookieHeader(new URL(url)) } });
        assert.equal(dl.headers.get('content-type'), 'application/pdf');
        assert.match(dl.headers.get('content-disposition') ?? '', /attachment/);
        assert.deepEqual(Buffer.from(await dl.arrayBuffer()), pdf);
      });

      test('another organisation can neither download the documents nor upload to them', async () => {
        const href = await downloadLink();
        const other = await partner(app, 'peeker@example.org');
        assert.equal((await other.b.get(href)).status, 404);
        assert.equal(
          (await upload('dspt', 'x.pdf', pdf, csrfOf(await other.b.get(`/portal/organisations/${other.orgId}/documents`)), other.b)).status,
          404,
        );
      });
    });

    test('requesting integration: the page says exactly what is missing; the request is refused until all is met', async () => {
      const { b, orgId } = await partner(app, 'eager@example.org');
      const url = `/portal/organisations/${orgId}/request-integration`;
      const page = await b.get(url);
      const met = (id: string) => new RegExp(`data-criterion="${id}" data-met="yes"`).test(page.text);
      assert.ok(met('ods_code'), 'the organisation was created with an ODS code');
      assert.ok(!met('application') && !met('dspt') && !met('sandpit'));
      assert.match(page.text, /Complete and submit your application/);
      assert.match(page.text, /Register a sandpit client/);
      const refused = await b.post(url, new URLSearchParams({ _csrf: csrfOf(await b.get(`/portal/organisations/${orgId}/documents`)) }));
      assert.equal(refused.status, 400);
      assert.match(
        refused.text,
        new RegExp(
          'Not yet: the application is approved by the NHS login team; ' +
            String.raw`Data Security and Protection Toolkit \(DSPT\) evidence uploaded; a sandpit`,
        ),
      );
      const rows = await app.database.db.selectFrom('environment_request').selectAll().where('organisation_id', '=', orgId).execute();
      assert.equal(rows.length, 0);
    });

    test('organisation details: a partner admin adds the ODS code later; errors per field; another organisation cannot', async () => {
      const { b, orgId } = await partner(app, 'later-ods@example.org');
      const url = `/portal/organisations/${orgId}/edit`;
      let page = await b.get(url);
      assert.match(page.text, /value="8HK45"/);
      page = await submit(b, url, { name: '', ods_code: 'not an ods code!' });
      assert.equal(page.status, 400);
      assert.match(page.text, /nhsuk-error-summary/);
      page = await submit(b, url, { name: 'Renamed Ltd', ods_code: 'a1b2c' });
      assert.ok(page.url.endsWith('/portal'));
      const org = await app.database.db.selectFrom('organisation').selectAll().where('id', '=', orgId).executeTakeFirstOrThrow();
      assert.deepEqual([org.name, org.ods_code], ['Renamed Ltd', 'A1B2C']);
      const other = await partner(app, 'nosy-ods@example.org');
      assert.equal((await other.b.get(url)).status, 404, 'another organisation cannot see it');
      const refused = await other.b.post(
        url,
        new URLSearchParams({
          _csrf: csrfOf(await other.b.get(`/portal/organisations/${other.orgId}/edit`)),
          name: 'Taken over',
          ods_code: '',
        }),
      );
      assert.equal(refused.status, 404);
      assert.equal(
        (await app.database.db.selectFrom('organisation').select('name').where('id', '=', orgId).executeTakeFirstOrThrow()).name,
        'Renamed Ltd',
      );
    });

    test('public eligibility check: an honest "not eligible because"', async () => {
      const b = new Browser(app.fetch, ORIGIN);
      let page = await submit(b, '/portal/eligibility', { 'eligibility-england': 'yes' });
      assert.equal(page.status, 400);
      page = await submit(b, '/portal/eligibility', {
        'eligibility-england': 'yes',
        'eligibility-patient_facing': 'no',
        'eligibility-benefit': 'yes',
        'eligibility-commissioned': 'yes',
        'eligibility-free': 'no',
      });
      assert.match(page.text, /not eligible for NHS login because/);
      assert.match(page.text, /not for clinicians or staff/);
      assert.match(page.text, /free at the point of use/);
    });

    test('signing in: unconfirmed email, wrong password, lockout; password reset ends sessions', async () => {
      const b = new Browser(app.fetch, ORIGIN);
      await submit(b, '/portal/sign-up', { name: 'R', email: 'reset@example.org', password: 'correct horse battery' });
      let page = await submit(b, '/portal/sign-in', { email: 'reset@example.org', password: 'correct horse battery' });
      assert.match(page.text, /Confirm your email address first/);
      for (let i = 0; i < 4; i++) await submit(b, '/portal/sign-in', { email: 'reset@example.org', password: 'correct horse battery' });
      const links = (await outbox(app.database.db, 'reset@example.org')).filter((m) => /Confirm/.test(m.subject));
      assert.equal(links.length, 4, 'one at sign-up, then a new one with each sign-in up to 3 in 15 minutes');
      page = await submit(b, '/portal/sign-in', { email: 'reset@example.org', password: 'wrong password here' });
      assert.equal(page.status, 401);
      await submit(b, '/portal/forgot-password', { email: 'reset@example.org' });
      const mail = (await outbox(app.database.db, 'reset@example.org')).find((m) => /Reset/.test(m.subject))!;
      const link = /http:\/\/localhost:3000(\/portal\/reset-password\/\S+)/.exec(mail.body)![1]!;
      page = await submit(b, link, { password: 'short' });
      assert.match(page.text, /at least 12 characters/);
      page = await submit(b, link, { password: 'a new long passphrase' });
      assert.match(page.text, /Password changed/);
      page = await submit(b, '/portal/sign-in', { email: 'reset@example.org', password: 'a new long passphrase' });
      assert.ok(page.url.endsWith('/portal'));
      for (let i = 0; i < 6; i++)
        page = await submit(new Browser(app.fetch, ORIGIN), '/portal/sign-in', {
          email: 'first@example.org',
          password: 'not the password',
        });
      assert.equal(page.status, 429, 'the sixth failure from one address starts a wait');
    });
  });
}

test('mail goes through a real SMTP server when SMTP_URL is set, and stays in the outbox', async () => {
  const received: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        received.push(data);
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as { port: number }).port;
  const app = await startTestApp('sqlite', { SMTP_URL: `smtp://127.0.0.1:${port}` });
  try {
    await submit(new Browser(app.fetch, ORIGIN), '/portal/sign-up', {
      name: 'Mail',
      email: 'mail@example.org',
      password: 'correct horse battery',
    });
    await app.deliveries.idle(); // sent by the delivery worker, after the sign-up was answered
    assert.equal(received.length, 1);
    assert.match(received[0]!, /Subject: Confirm your email address/);
    assert.match(received[0]!.replace(/=\r?\n/g, ''), /\/portal\/confirm\//);
    const [row] = await outbox(app.database.db, 'mail@example.org');
    assert.ok(row?.sent_at, 'marked sent');
  } finally {
    await app.stop();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('public guidance and an interface reference generated from the running environment', async () => {
  const app = await startTestApp('sqlite', { SANDPIT_ISSUER: 'https://auth.sandpit.example.org' });
  try {
    const b = new Browser(app.fetch, ORIGIN);
    assert.match((await b.get('/portal/guidance')).text, /free at the point of use/);
    const ref = await b.get('/portal/reference/sandpit');
    assert.equal(ref.status, 200);
    assert.match(
      ref.text,
      /<code>https:\/\/auth.sandpit.example.org\/token<\/code>/,
      'the live token endpoint, from its own discovery document',
    );
    assert.match(ref.text, /private_key_jwt with RS512/);
    assert.match(ref.text, /<td class="nhsuk-table__cell">300 seconds<\/td>/);
    assert.match(ref.text, /sso_login_required/);
    assert.equal((ref.text.match(/@demo\.signin\.nhs\.uk<\/code>/g) ?? []).length, 25, 'the sandpit pack, read from the environment');
    const integration = await b.get('/portal/reference/integration');
    assert.equal((integration.text.match(/@demo\.signin\.nhs\.uk<\/code>/g) ?? []).length, 3, 'its three fixed accounts');
    assert.doesNotMatch((await b.get('/portal/reference/live')).text, /@demo\.signin/, 'never live\'s people');
    assert.equal((await b.get('/portal/reference/nowhere')).status, 404);
  } finally {
    await app.stop();
  }
});
