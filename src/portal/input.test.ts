/** What the portal does with input of the wrong shape, and with text in its addresses: refused inline, never echoed. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser, csrfOf } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { registerClient } from '../identity/index.ts';
import { createOrganisation } from '../onboarding/index.ts';

const ORIGIN = 'http://localhost:3000';
const publicKey = generateKeyPairSync('rsa', {
  modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;

describe('portal input', () => {
  let app: TestApp;
  let b: Browser;
  let base: string;
  let csrf: string;
  before(async () => {
    app = await startTestApp('sqlite');
    const org = await createOrganisation(app.database.db, 'user-owner', { name: 'Input Ltd' });
    b = await partnerIn(app, org.id, 'input@example.org', 'partner_admin');
    const client = await registerClient(app.database.db, {
      env: 'sandpit',
      organisationId: org.id,
      name: 'Input service',
      redirectUris: ['https://rp.example.org/cb'],
      scopes: ['openid'],
      vtr: ['P9.Cp.Cd'],
      publicKeyPem: publicKey,
    });
    base = `/portal/organisations/${org.id}/clients/${client.clientId}`;
    csrf = csrfOf(await b.get(base));
  });
  after(() => app.stop());
  const cookie = (path: string) => ({ cookie: b.cookieHeader(new URL(`${ORIGIN}${path}`)) });

  test('a field sent twice, or past its limit, shows the form again (400) with each error and the other answers kept', async () => {
    const anon = new Browser(app.fetch, ORIGIN);
    const form = new URLSearchParams({ _csrf: csrfOf(await anon.get('/portal/sign-up')), name: 'Ada Lovelace', password: 'x'.repeat(129) });
    form.append('email', 'a@example.org');
    form.append('email', 'b@example.org');
    const page = await anon.post('/portal/sign-up', form);
    assert.equal(page.status, 400);
    assert.match(page.text, /nhsuk-error-summary/);
    const summary =
      /href="#email">\s*Enter email address once, as text\s*<\/a>[\s\S]*href="#password">\s*Password must be 128 characters or fewer/;
    assert.match(page.text, summary, "in the form's order");
    assert.match(page.text, /value="Ada Lovelace"/, 'the name typed is kept');
  });

  test('a failed key replacement is shown on the client page itself; error text in the address is never shown', async () => {
    const bad = new FormData();
    bad.set('_csrf', csrf);
    bad.set('public_key', 'not a key');
    const res = await app.fetch(`${ORIGIN}${base}/key`, { method: 'POST', body: bad, headers: cookie(base), redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /nhsuk-error-summary[\s\S]*href="#public_key"/);
    for (const q of ['key_error=Your+account+is+suspended%3A+call+0800', 'conformance_error=Phishing+text&field=start_url']) {
      const page = await b.get(`${base}?${q}`);
      assert.equal(page.status, 200);
      assert.doesNotMatch(page.text, /suspended|Phishing/);
      assert.doesNotMatch(page.text, /nhsuk-error-summary/);
    }
  });

  test('a refused conformance run is shown on the client page, not passed through the address', async () => {
    const page = await b.post(`${base}/conformance`, new URLSearchParams({ _csrf: csrf, start_url: 'not a url' }));
    assert.equal(page.status, 400);
    assert.ok(page.url.endsWith(`${base}/conformance`), 'no redirect carrying the message');
    assert.match(page.text, /nhsuk-error-summary[\s\S]*href="#start_url"/);
  });

  test('a refused start page of a test issuer\'s service points at its own field, and what was typed is kept', async () => {
    const form = new URLSearchParams({
      _csrf: csrf, start_url: 'https://svc.example.org/', only: 'login-p9 wrong-nonce', start_url_discovery: 'http://svc.example.org/two',
    });
    const page = await b.post(`${base}/conformance`, form);
    assert.equal(page.status, 400);
    assert.match(page.text, /nhsuk-error-summary[\s\S]*href="#start_url_discovery">\s*The start URL must/);
    assert.match(page.text, /id="start_url" name="start_url" type="url" spellcheck="false" value="https:\/\/svc.example.org\/"/);
    assert.match(page.text, /value="login-p9 wrong-nonce"/);
    assert.match(page.text, /value="http:\/\/svc.example.org\/two"/);
    const issuer = /Issuer: <code class="toolkit-wrap">http:\/\/localhost:3000\/sandpit\/test-issuers\/[\w-]+\/issuer-mismatch<\/code>/;
    assert.match(page.text, issuer, 'the test issuer to configure is shown');
  });

  test('/clients/new names only real environments: anything else in ?env= is not repeated', async () => {
    const orgBase = base.split('/clients/')[0]!;
    const other = await b.get(`${orgBase}/clients/new?env=${encodeURIComponent('<b>Call 0800 000</b>')}`);
    assert.equal(other.status, 404);
    assert.doesNotMatch(other.text, /0800/);
    const live = await b.get(`${orgBase}/clients/new?env=live`);
    assert.equal(live.status, 403);
    assert.match(live.text, /Clients in live are registered after the NHS login team approves/);
    assert.equal((await b.get(`${orgBase}/clients/new?env=a&env=b`)).status, 400);
  });

  test('a document of kind constructor or toString is refused, not stored', async () => {
    const orgBase = base.split('/clients/')[0]!;
    for (const kind of ['toString', 'constructor', '__proto__']) {
      const form = new FormData();
      form.set('_csrf', csrf);
      form.set('kind', kind);
      form.set('file', new Blob(['%PDF-1.4\n']), 'x.pdf');
      const res = await app.fetch(`${ORIGIN}${orgBase}/documents`, {
        method: 'POST',
        body: form,
        headers: cookie(orgBase),
        redirect: 'manual',
      });
      assert.equal(res.status, 400, kind);
    }
    assert.equal((await app.database.db.selectFrom('document').select('id').execute()).length, 0);
  });

  test('a broken multipart body is a 400 page, not a 500', async () => {
    const orgBase = base.split('/clients/')[0]!;
    const res = await app.fetch(`${ORIGIN}${orgBase}/documents`, {
      method: 'POST', body: '--zzz\r\nContent-Disposition: form-data; name="kind"\r\n\r\nscal',
      headers: { 'content-type': 'multipart/form-data; boundary=zzz', ...cookie(orgBase) },
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /The request could not be read/);
  });
});
