/**
 * The passkey forms refuse hostile input with a page, never a 500 (issue 15 §5): no session, no or a wrong CSRF token,
 * a list or junk where the credential belongs, a passkey not the person's, a passkey sign-in the request did not offer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { Browser } from '../../test-support/browser.ts';
import { authorizationUrl, createRp, login, type TestRp } from '../../test-support/rp.ts';

for (const dialect of DIALECTS) describe(`passkey forms (${dialect})`, () => {
  let app: TestApp;
  let rp: TestRp;
  before(async () => {
    app = await startTestApp(dialect);
    rp = await createRp(app, 'sandpit', { vtr: ['P9.Cp.Cd', 'P9.Cm'] });
  });
  after(async () => app?.stop());

  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

  async function signedIn() {
    const { browser } = await login(app, rp, { vtr: ['P9.Cp.Cd'] });
    const settings = await browser.get('/sandpit/settings');
    return { browser, csrf: csrfOf(settings.text) };
  }

  test('without an NHS login session the add form is the settings page saying so (401)', async () => {
    const res = await new Browser(app.fetch, new URL(app.config.publicUrl).origin).post('/sandpit/settings/passkeys', { credential: '{}' });
    assert.equal(res.status, 401);
    assert.match(res.text, /not signed in to NHS login/);
  });

  test('a missing or wrong CSRF token is refused (403)', async () => {
    const { browser, csrf } = await signedIn();
    assert.equal((await browser.post('/sandpit/settings/passkeys', { credential: '{}' })).status, 403);
    assert.equal((await browser.post('/sandpit/settings/passkeys', { _csrf: `${csrf}x`, credential: '{}' })).status, 403);
  });

  test('a list, or something that is not a credential, is an error summary on the settings page (400)', async () => {
    const { browser, csrf } = await signedIn();
    const listed = new URLSearchParams([['_csrf', csrf], ['credential', 'a'], ['credential', 'b']]);
    const a = await browser.post('/sandpit/settings/passkeys', listed);
    assert.equal(a.status, 400);
    assert.match(a.text, /nhsuk-error-summary/);
    const b = await browser.post('/sandpit/settings/passkeys', { _csrf: csrf, credential: '{"type":"public-key","id":[1]}' });
    assert.equal(b.status, 400);
    assert.match(b.text, /not a passkey/);
  });

  test('removing a passkey that is not the person\'s is an error summary (400)', async () => {
    const { browser, csrf } = await signedIn();
    const res = await browser.post('/sandpit/settings/passkeys/remove', { _csrf: csrf, credential_id: 'not-theirs' });
    assert.equal(res.status, 400);
    assert.match(res.text, /not registered to your NHS login/);
  });

  test('the passkey sign-in is refused when the request did not offer it (vtr without Cm), and junk is a 400 page', async () => {
    const cp = new Browser(app.fetch, new URL(app.config.publicUrl).origin);
    const page = await cp.get(authorizationUrl(rp, { state: 's1', nonce: 'n1', vtr: ['P9.Cp.Cd'] }));
    assert.doesNotMatch(page.text, /Sign in with a passkey/);
    assert.equal((await cp.post(page.url.replace(/sign-in$/, 'passkey'), { credential: '{}' })).status, 403);
    const cm = new Browser(app.fetch, new URL(app.config.publicUrl).origin);
    const offered = await cm.get(authorizationUrl(rp, { state: 's2', nonce: 'n2', vtr: ['P9.Cm', 'P9.Cp.Cd'] }));
    assert.match(offered.text, /Sign in with a passkey/);
    const junk = await cm.post(offered.url.replace(/sign-in$/, 'passkey'), new URLSearchParams([['credential', 'x'], ['credential', 'y']]));
    assert.equal(junk.status, 400);
    assert.match(junk.text, /nhsuk-error-summary/);
  });
});
