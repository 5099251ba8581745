/**
 * Browser journeys: Debian's Chromium (playwright-core) drives the reference relying party through the
 * toolkit's sandpit over real HTTP: login, single sign-on, decline, uplift. On both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Browser } from 'playwright-core';
import {
  accessibilityProblems,
  freePort,
  clickToNextPage,
  cspViolations,
  launchChromium,
  localContext,
  signInAs,
} from '../../src/test-support/chromium.ts';
import { DIALECTS, startListeningApp, type TestApp } from '../../src/test-support/harness.ts';
import { registerClient } from '../../src/identity/index.ts';
import { journeyChecklist } from '../../src/onboarding/index.ts';
import type { ClientRecord } from '../../src/storage/index.ts';
import { createReferenceRp } from './rp.ts';



for (const dialect of DIALECTS) {
  describe(`reference RP in Chromium (${dialect})`, () => {
    let app: TestApp & { origin: string };
    let browser: Browser;
    let rpUrl: string;
    let stopRp: () => Promise<void>;
    let clockOffset = 0;
    let client: ClientRecord;

    before(async () => {
      app = await startListeningApp(dialect);
      const rpPort = await freePort();
      rpUrl = `http://localhost:${rpPort}`;
      const keys = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
      const scope = 'openid profile email';
      client = await registerClient(app.database.db, {
        env: 'sandpit',
        name: 'Reference service',
        redirectUris: [`${rpUrl}/callback`],
        scopes: scope.split(' '),
        vtr: ['P9.Cp.Cd'],
        publicKeyPem: keys.publicKey,
      });
      const rp = await createReferenceRp(
        {
          issuer: `${app.origin}/sandpit`,
          clientId: client.clientId,
          privateKeyPem: keys.privateKey,
          redirectUri: `${rpUrl}/callback`,
          scope,
          vtr: ['P9.Cp.Cd'],
          allowHttp: true,
        },
        () => Date.now() + clockOffset,
      );
      await rp.listen({ port: rpPort, host: '127.0.0.1' });
      stopRp = () => rp.close();
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await stopRp?.();
      await app?.stop();
    });

    test('login with a P9 user shows the claims, then single sign-on skips the sign-in', async () => {
      const context = await localContext(browser);
      const page = await context.newPage();
      await page.goto(rpUrl);
      const button = page.locator('#nhs-login');
      assert.match(await button.innerText(), /Continue to NHS login$/);
      assert.equal(await button.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(0, 94, 184)');
      await button.click();
      assert.match(await page.title(), /NHS login/);
      await signInAs(page, 'testuserlive@demo.signin.nhs.uk');
      assert.match(await page.locator('#shared-items').innerText(), /NHS number/);
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await page.waitForURL(`${rpUrl}/`);
      assert.match(await page.locator('#vot').innerText(), /P9\.Cp\.Cd/);
      assert.match(await page.locator('#claims').innerText(), /9686368973/);

      await clickToNextPage(page, page.locator('button:has-text("Sign out")'));
      await clickToNextPage(page, page.locator('#nhs-login'));
      await page.waitForURL(`${rpUrl}/`);
      assert.match(await page.locator('#vot').innerText(), /P9\.Cp\.Cd/, 'signed in again without any NHS login page');
      assert.deepEqual(cspViolations(context), [], 'the pages keep to their Content Security Policy');
      await context.close();
    });

    test('"Refresh your details" uses the refresh token (rotated each time): ' +
      'fresh details, and the checklist\'s refresh item ticked', async () => {
      const context = await localContext(browser);
      const page = await context.newPage();
      await page.goto(rpUrl);
      await clickToNextPage(page, page.locator('#nhs-login'));
      await signInAs(page, 'testuserlive+7@demo.signin.nhs.uk');
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await page.waitForURL(`${rpUrl}/`);
      assert.equal(await page.locator('#refreshed').count(), 0);
      for (let i = 0; i < 2; i++) {
        // The second refresh works only if the service kept the new refresh token from the first.
        await clickToNextPage(page, page.locator('button:has-text("Refresh your details")'));
        assert.match(await page.locator('#refreshed').innerText(), /refreshed from NHS login with the refresh token/, `refresh ${i + 1}`);
        assert.match(await page.locator('#claims').innerText(), /family_name/);
      }
      await app.events.flush();
      const refresh = (await journeyChecklist(app.database.db, client)).find((item) => item.id === 'refresh')!;
      assert.ok(refresh.done, 'the sandpit saw a refresh_token grant from this client');
      assert.deepEqual(cspViolations(context), [], 'the pages keep to their Content Security Policy');
      await context.close();
    });

    test('the signed-in page fits a 320 px screen: long claim values wrap', async () => {
      const context = await localContext(browser);
      const page = await context.newPage();
      await page.setViewportSize({ width: 320, height: 800 });
      await page.goto(rpUrl);
      await clickToNextPage(page, page.locator('#nhs-login'));
      await signInAs(page, 'testuserlive+8@demo.signin.nhs.uk');
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await page.waitForURL(`${rpUrl}/`);
      assert.ok(await page.locator('#claims').isVisible());
      assert.deepEqual(
        await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]),
        [320, 320],
        'no sideways scroll',
      );
      await context.close();
    });

    test('after 30 minutes idle the service sends the person to sign in again by itself (prompt=login)', async () => {
      const context = await localContext(browser);
      const page = await context.newPage();
      await page.goto(rpUrl);
      await clickToNextPage(page, page.locator('#nhs-login'));
      await signInAs(page, 'testuserlive+6@demo.signin.nhs.uk');
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await page.waitForURL(`${rpUrl}/`);
      clockOffset = 29 * 60 * 1000;
      await page.reload();
      assert.ok(await page.locator('#vot').count(), 'still signed in after 29 minutes');
      clockOffset += 31 * 60 * 1000;
      await page.reload();
      assert.equal(await page.locator('#vot').count(), 0, 'signed out after 31 idle minutes');
      // session-management.md, A: a full authentication journey, without the person pressing anything.
      assert.match(page.url(), /\/sandpit\/interaction\/[^/]+\/sign-in$/);
      assert.ok(await page.locator('#password').isVisible(), 'NHS login asks for the password although its session is live');
      clockOffset = 0;
      await signInAs(page, 'testuserlive+6@demo.signin.nhs.uk');
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await page.waitForURL(`${rpUrl}/`);
      assert.ok(await page.locator('#vot').count(), 'signed in again');
      assert.deepEqual(cspViolations(context), [], 'the pages keep to their Content Security Policy');
      await context.close();
    });

    test('the journey pages pass axe WCAG 2.2 AA checks, including with errors shown', async () => {
      const context = await localContext(browser);
      const page = await context.newPage();
      await page.goto(rpUrl);
      await clickToNextPage(page, page.locator('#nhs-login'));
      const problems: Record<string, string[]> = {};
      problems['sign-in'] = await accessibilityProblems(page);
      await clickToNextPage(page, page.locator('a:has-text("Create your NHS login")'));
      problems.register = await accessibilityProblems(page);
      await page.goBack();
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      problems['sign-in with errors'] = await accessibilityProblems(page);
      await page.fill('#email', 'testuserlive+5@demo.signin.nhs.uk');
      await page.fill('#password', 'Passw0rd$1');
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      problems.otp = await accessibilityProblems(page);
      await page.fill('#otp', '190696');
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      problems.consent = await accessibilityProblems(page);
      await clickToNextPage(page, page.locator('button:has-text("I do not agree")'));
      problems.decline = await accessibilityProblems(page);
      assert.deepEqual(cspViolations(context), [], 'the pages keep to their Content Security Policy');
      await context.close();
      assert.deepEqual(Object.fromEntries(Object.entries(problems).filter(([, v]) => v.length)), {});
    });

    test('declining consent ends on the service\'s no-consent screen', async () => {
      const context = await localContext(browser);
      const page = await context.newPage();
      await page.goto(rpUrl);
      await clickToNextPage(page, page.locator('#nhs-login'));
      await signInAs(page, 'testuserlive+1@demo.signin.nhs.uk');
      await clickToNextPage(page, page.locator('button:has-text("I do not agree")'));
      assert.ok(await page.getByText('Go back and share your information').first().isVisible());
      await clickToNextPage(page, page.locator('button:has-text("Continue without sharing")'));
      await page.waitForURL(`${rpUrl}/**`);
      assert.equal(await page.locator('h1').innerText(), 'You cannot continue without sharing your information');
      assert.ok(await page.locator('a[href="tel:111"]').count());
      assert.deepEqual(cspViolations(context), [], 'the pages keep to their Content Security Policy');
      await context.close();
    });

    test('a P5 user is taken through proving their identity, then returns with P9', async () => {
      const context = await localContext(browser);
      const page = await context.newPage();
      await page.goto(rpUrl);
      await clickToNextPage(page, page.locator('#nhs-login'));
      await signInAs(page, 'testuserlive+p5_1@demo.signin.nhs.uk');
      assert.equal(await page.locator('h1').innerText(), 'Prove your identity');
      await clickToNextPage(page, page.locator('button:has-text("Continue with photo ID")'));
      assert.match(await page.locator('.nhsuk-error-summary').innerText(), /Select the photo ID/);
      await page.check('input[value="passport"]');
      await clickToNextPage(page, page.locator('button:has-text("Continue with photo ID")'));
      await clickToNextPage(page, page.locator('button:has-text("Continue")'));
      await page.waitForURL(`${rpUrl}/`);
      assert.match(await page.locator('#vot').innerText(), /P9\.Cp\.Cd/);
      assert.deepEqual(cspViolations(context), [], 'the pages keep to their Content Security Policy');
      await context.close();
    });
  });
}
