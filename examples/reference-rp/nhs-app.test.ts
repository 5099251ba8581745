/**
 * The reference relying party opened from the toolkit's stand-in NHS App, in Chromium over real HTTP: the partner
 * gives its NHS App address on the client page, logs in to the stand-in as a test user, opens the service and is
 * signed in there with no sign-in page; declining at the service shows the NHS App's no-consent screen. Screenshots
 * of the launcher and the client page's section at 320 and 1280 px.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import {
  accessibilityProblems, clickToNextPage, cspViolations, freePort, launchChromium, localContext, signInAs,
} from '../../src/test-support/chromium.ts';
import { startListeningApp, type TestApp } from '../../src/test-support/harness.ts';
import { partnerIn } from '../../src/test-support/partner.ts';
import { registerClient } from '../../src/identity/index.ts';
import { createOrganisation } from '../../src/onboarding/index.ts';
import type { ClientRecord } from '../../src/storage/index.ts';
import { createReferenceRp } from './rp.ts';

const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots', 'nhs-app');


/** No sideways scrolling, no control cut off, and a screenshot, at both widths. */
async function looksRight(page: Page, name: string, section?: string) {
  for (const width of [320, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
    assert.equal(sideways, false, `${name} at ${width}px scrolls sideways`);
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    if (section) await page.evaluate((id) => document.getElementById(id)!.scrollIntoView(), section);
    await page.screenshot({ path: join(SCREENSHOTS, `${width}-${name}.png`), fullPage: !section && width === 320 });
  }
}

describe('the reference RP opened from the stand-in NHS App (Chromium)', () => {
  let app: TestApp & { origin: string };
  let browser: Browser;
  let rpUrl: string;
  let stopRp: () => Promise<void>;
  let client: ClientRecord;
  let clientPage: string;

  before(async () => {
    app = await startListeningApp('sqlite');
    const rpPort = await freePort();
    rpUrl = `http://localhost:${rpPort}`;
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    const orgId = (await createOrganisation(app.database.db, 'app-owner', { name: 'App Ltd' })).id;
    await partnerIn(app, orgId, 'nhs-app-browser@example.org', 'developer');
    client = await registerClient(app.database.db, {
      env: 'sandpit', name: 'Reference service', redirectUris: [`${rpUrl}/callback`], scopes: ['openid', 'profile'],
      vtr: ['P9.Cp.Cd'], publicKeyPem: keys.publicKey, organisationId: orgId,
    });
    clientPage = `${app.origin}/portal/organisations/${orgId}/clients/${client.clientId}`;
    const rp = await createReferenceRp({
      issuer: `${app.origin}/sandpit`, clientId: client.clientId, privateKeyPem: keys.privateKey, redirectUri: `${rpUrl}/callback`,
      scope: 'openid profile', vtr: ['P9.Cp.Cd'], allowHttp: true,
    });
    await rp.listen({ port: rpPort, host: '127.0.0.1' });
    stopRp = () => rp.close();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await stopRp?.();
    await app?.stop();
  });

  test('the partner gives the NHS App address; from the stand-in the service signs the person in with no sign-in page', async () => {
    const context = await localContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${app.origin}/portal/sign-in`);
      await page.fill('#email', 'nhs-app-browser@example.org');
      await page.fill('#password', 'correct horse battery');
      await clickToNextPage(page, page.locator('button:has-text("Sign in")'));
      await page.goto(`${clientPage}#nhs-app`);
      await page.fill('#nhs_app_url', 'http://example.org/app');
      await clickToNextPage(page, page.locator('button:has-text("Save NHS App address")'));
      assert.match(await page.locator('.nhsuk-error-summary').innerText(), /Enter an https address/);
      assert.equal(await page.inputValue('#nhs_app_url'), 'http://example.org/app', 'what was typed is kept');
      await page.fill('#nhs_app_url', `${rpUrl}/nhs-app`);
      await clickToNextPage(page, page.locator('button:has-text("Save NHS App address")'));
      await looksRight(page, 'client-page', 'nhs-app');
      await page.goto(`${app.origin}/portal/reference/sandpit#nhs-app`);
      assert.match(await page.locator('#nhs-app-steps').innerText(), /asserted_login_identity/);
      assert.deepEqual(await accessibilityProblems(page), [], 'the reference');
      await looksRight(page, 'reference', 'nhs-app');
      await page.goto(clientPage);

      await clickToNextPage(page, page.locator('#nhs-app-launcher'));
      assert.deepEqual(await accessibilityProblems(page), [], 'the launcher');
      await looksRight(page, 'launcher-signed-out');
      await clickToNextPage(page, page.locator('#login'));
      await signInAs(page, 'testuserlive+9@demo.signin.nhs.uk');
      await clickToNextPage(page, page.locator('button:has-text("Continue")')); // the NHS App's own consent
      assert.match(await page.locator('#signed-in').innerText(), /Logged in as/);
      assert.deepEqual(await accessibilityProblems(page), [], 'the launcher, logged in');
      await looksRight(page, 'launcher-signed-in');

      await clickToNextPage(page, page.locator('#open-service'));
      // NHS login asks only to share with this service: no email, password or security code.
      assert.equal(new URL(page.url()).pathname.split('/').pop(), 'consent');
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await page.waitForURL(`${rpUrl}/`);
      assert.match(await page.locator('#vot').innerText(), /P9\.Cp\.Cd/);
      assert.deepEqual(cspViolations(context), [], 'the pages keep to their Content Security Policy');
    } finally {
      await context.close();
    }
  });

  test('managing health services for someone else, the service signs the patient in, not the person logged in', async () => {
    const context = await localContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${app.origin}/sandpit/nhs-app/services/${client.clientId}`);
      await clickToNextPage(page, page.locator('#login'));
      await signInAs(page, 'testuserlive+21@demo.signin.nhs.uk');
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await page.getByLabel(/CASSIE BRAY/).check();
      await clickToNextPage(page, page.locator('button:has-text("Switch profile")'));
      assert.match(await page.locator('#acting-for').innerText(), /CASSIE BRAY/);
      assert.deepEqual(await accessibilityProblems(page), [], 'the launcher, acting for a patient');
      await looksRight(page, 'launcher-proxy');
      await clickToNextPage(page, page.locator('#open-service'));
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await page.waitForURL(`${rpUrl}/`);
      assert.match(await page.locator('#claims').innerText(), /9658219004/, 'the patient\'s NHS number');
    } finally {
      await context.close();
    }
  });

  test('declining at the service, opened from the NHS App, ends on the NHS App\'s no-consent screen', async () => {
    const context = await localContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${app.origin}/sandpit/nhs-app/services/${client.clientId}`);
      await clickToNextPage(page, page.locator('#login'));
      await signInAs(page, 'testuserlive+11@demo.signin.nhs.uk');
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await clickToNextPage(page, page.locator('#open-service'));
      await clickToNextPage(page, page.locator('button:has-text("I do not agree")'));
      await clickToNextPage(page, page.locator('button:has-text("Continue without sharing")'));
      await page.waitForURL(`${rpUrl}/**`);
      assert.equal(await page.locator('h1').innerText(), 'You cannot continue without sharing your information');
      assert.match(await page.locator('main').innerText(), /Close this tab to go back to NHS App\./);
    } finally {
      await context.close();
    }
  });
});
