/**
 * Passkeys in Chromium with its virtual authenticator (CDP WebAuthn domain; issue 15 §5: no hardware): a person signs
 * in with password and code through a real authorization request, adds a passkey on the settings page, and removes
 * it. Each page accessible (axe), no sideways scrolling, no CSP refusals; screenshots in test-results/screenshots/passkeys/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as oidc from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { accessibilityProblems, clickToNextPage, cspViolations, launchChromium, localContext } from '../../test-support/chromium.ts';
import { startListeningApp, type TestApp } from '../../test-support/harness.ts';
import { authorizationUrl, createRp, type TestRp } from '../../test-support/rp.ts';
import { listPasskeys, findPersonByEmail } from '../../storage/index.ts';

const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', '..', 'test-results', 'screenshots', 'passkeys');
const EMAIL = 'testuserlive@demo.signin.nhs.uk';

describe('Passkeys in Chromium with a virtual authenticator', () => {
  let app: TestApp & { origin: string };
  let browser: Browser;
  let rp: TestRp;
  before(async () => {
    app = await startListeningApp('sqlite');
    browser = await launchChromium();
    rp = await createRp(app, 'sandpit', { vtr: ['P9.Cp.Cd', 'P9.Cm'] });
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function look(page: Page, width: number, name: string) {
    assert.deepEqual(await accessibilityProblems(page), [], `${name} at ${width} px: accessible`);
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(sideways <= 0, `${name} at ${width} px: scrolls sideways by ${sideways} px`);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${width}-${name}.png`), fullPage: true });
  }

  async function withAuthenticator(context: BrowserContext, page: Page) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return { cdp, authenticatorId };
  }

  /** Follows an authorization request to the redirect back to the RP (which the context cannot reach) and redeems it. */
  async function authorize(page: Page, vtr: string[], steps: (page: Page) => Promise<void>) {
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    // The RP's callback answered here: the context reaches nothing off this machine (localContext).
    await page.context().route('https://rp.example.org/**', (r) => r.fulfill({ contentType: 'text/plain', body: 'at the RP' }));
    await page.goto(authorizationUrl(rp, { state, nonce, vtr }));
    await steps(page);
    await page.waitForURL((u) => u.origin === 'https://rp.example.org');
    const callback = new URL(page.url());
    const tokens = await oidc.authorizationCodeGrant(rp.config, callback, { expectedState: state, expectedNonce: nonce });
    return tokens.claims()!;
  }

  async function passwordAndCode(page: Page) {
    await page.fill('#email', EMAIL);
    await page.fill('#password', 'Passw0rd$1');
    await clickToNextPage(page, page.getByRole('button', { name: 'Continue' }));
    await page.fill('#otp', '190696');
    await clickToNextPage(page, page.getByRole('button', { name: 'Continue' }));
    if (/\/consent$/.test(page.url())) await page.getByRole('button', { name: 'Continue' }).click();
  }

  for (const width of [320, 1280]) {
    test(`adds and removes a passkey on the settings page at ${width} px`, async () => {
      const context = await localContext(browser, { viewport: { width, height: 800 } });
      const page = await context.newPage();
      const { cdp, authenticatorId } = await withAuthenticator(context, page);
      const claims = await authorize(page, ['P9.Cp.Cd'], passwordAndCode);
      assert.equal(claims.vot, 'P9.Cp.Cd');
      await page.goto(`${rp.issuer}/settings`);
      assert.equal(await page.locator('#passkey-add-button').isVisible(), true, 'the script shows the button');
      assert.equal(await page.locator('[data-passkey-needs-js]').isVisible(), false);
      await look(page, width, '1-settings-no-passkey');
      await clickToNextPage(page, page.locator('#passkey-add-button'));
      assert.match(await page.locator('.nhsuk-inset-text').innerText(), /Your passkey has been added/);
      const person = await findPersonByEmail(app.database.db, 'sandpit', EMAIL);
      const stored = await listPasskeys(app.database.db, 'sandpit', person!.id);
      assert.equal(stored.length, 1);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(Buffer.from(credentials[0]!.credentialId, 'base64').toString('base64url'), stored[0]!.credentialId);
      await look(page, width, '2-settings-passkey-added');

      // The device refusing (the person cancels): an error summary on the settings page, nothing stored.
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
      await clickToNextPage(page, page.locator('#passkey-add-button'));
      assert.match(await page.locator('.nhsuk-error-summary').innerText(), /passkey was not added/);
      assert.equal((await listPasskeys(app.database.db, 'sandpit', person!.id)).length, 1);
      await look(page, width, '3-settings-add-refused');
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });

      await clickToNextPage(page, page.getByRole('button', { name: /^Remove/ }));
      assert.match(await page.locator('.nhsuk-inset-text').innerText(), /Your passkey has been removed/);
      assert.equal((await listPasskeys(app.database.db, 'sandpit', person!.id)).length, 0);
      assert.deepEqual(cspViolations(context), []);
      await context.close();
    });
  }

  for (const width of [320, 1280]) {
    test(`a request allowing P9.Cm signs in with the passkey alone, and the ID token says P9.Cm, at ${width} px`, async () => {
      const first = await localContext(browser, { viewport: { width, height: 800 } });
      const page = await first.newPage();
      const { cdp, authenticatorId } = await withAuthenticator(first, page);
      await authorize(page, ['P9.Cp.Cd'], passwordAndCode);
      await page.goto(`${rp.issuer}/settings`);
      await clickToNextPage(page, page.locator('#passkey-add-button'));
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      await first.close();

      // Another browser with the same device: no NHS login session, so the sign-in page, with the passkey offered.
      const context = await localContext(browser, { viewport: { width, height: 800 } });
      const other = await context.newPage();
      const device = await withAuthenticator(context, other);
      await device.cdp.send('WebAuthn.addCredential', { authenticatorId: device.authenticatorId, credential: credentials[0]! });
      const claims = await authorize(other, ['P9.Cm', 'P9.Cp.Cd'], async (p) => {
        assert.match(p.url(), /\/sign-in$/);
        await p.locator('#passkey-button').waitFor({ state: 'visible' });
        await look(p, width, '4-sign-in-with-passkey-offered');
        await p.locator('#passkey-button').click();
        await p.waitForURL((u) => u.origin === 'https://rp.example.org' || /\/consent$/.test(u.pathname));
        if (/\/consent$/.test(p.url())) await p.getByRole('button', { name: 'Continue' }).click();
      });
      assert.equal(claims.vot, 'P9.Cm');
      assert.deepEqual(cspViolations(context), []);
      await context.close();
    });
  }

  test('a request whose vtr has only Cp vectors does not offer the passkey', async () => {
    const context = await localContext(browser, { viewport: { width: 320, height: 800 } });
    const page = await context.newPage();
    await page.goto(authorizationUrl(rp, { state: oidc.randomState(), nonce: oidc.randomNonce(), vtr: ['P9.Cp.Cd'] }));
    assert.match(page.url(), /\/sign-in$/);
    assert.equal(await page.locator('#passkey-button').count(), 0);
    await context.close();
  });

  test('without JavaScript the settings page says a passkey needs it and shows no button', async () => {
    const context = await localContext(browser, { viewport: { width: 320, height: 800 } });
    const page = await context.newPage();
    await authorize(page, ['P9.Cp.Cd'], passwordAndCode);
    const noJs = await localContext(browser, { viewport: { width: 320, height: 800 }, javaScriptEnabled: false });
    await noJs.addCookies(await context.cookies());
    const plain = await noJs.newPage();
    await plain.goto(`${rp.issuer}/settings`);
    assert.equal(await plain.locator('#passkey-add-button').isVisible(), false);
    assert.equal(await plain.locator('[data-passkey-needs-js]').isVisible(), true);
    await plain.screenshot({ path: path.join(SCREENSHOTS, '320-settings-no-javascript.png'), fullPage: true });
    await noJs.close();
    await context.close();
  });
});
