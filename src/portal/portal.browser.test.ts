/**
 * A new partner in Chromium, as they would do it: sign up, confirm from the email, add the organisation,
 * register a sandpit client with a key pair made in the browser, and complete a P9 login with the reference
 * relying party using the downloaded private key. Reports the wall time (the target is under 60 s).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { accessibilityProblems, freePort, launchChromium } from '../test-support/chromium.ts';
import { DIALECTS, startListeningApp, type TestApp } from '../test-support/harness.ts';
import { outbox } from '../onboarding/index.ts';
import { createReferenceRp } from '../../examples/reference-rp/rp.ts';


for (const dialect of DIALECTS) {
  describe(`portal in Chromium (${dialect})`, () => {
    let app: TestApp & { origin: string };
    let browser: Browser;
    let origin: string;
    before(async () => {
      app = await startListeningApp(dialect);
      origin = app.origin;
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
      await app?.stop();
    });

    test('from the sign-up page to a client that completes a P9 login', async (t) => {
      const rpPort = await freePort();
      const rpUrl = `http://localhost:${rpPort}`;
      const context = await browser.newContext({ acceptDownloads: true });
      const page = await context.newPage();
      const started = performance.now();

      await page.goto(`${origin}/portal/sign-up`);
      await page.fill('#name', 'Dana Developer');
      await page.fill('#email', 'dana@example.org');
      await page.fill('#password', 'a long sandpit passphrase');
      await page.click('button:has-text("Create account")');
      assert.equal(await page.locator('h1').innerText(), 'Check your email');
      const mail = (await outbox(app.database.db, 'dana@example.org'))[0]!;
      await page.goto(/(http:\S+\/portal\/confirm\/\S+)/.exec(mail.body)![1]!);
      await page.click('a:has-text("Sign in")');
      await page.fill('#email', 'dana@example.org');
      await page.fill('#password', 'a long sandpit passphrase');
      await page.click('button:has-text("Sign in")');
      await page.click('a:has-text("Add your organisation")');
      await page.fill('#name', 'Dana Health Ltd');
      await page.click('button:has-text("Continue")');

      await page.fill('#name', 'Dana Health');
      await page.fill('#redirect_uris', `${rpUrl}/callback`);
      await page.check('input[name="scopes"][value="profile"]');
      await page.click('#keygen-button');
      await page.locator('#keygen-download').waitFor({ state: 'visible' });
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#keygen-download')]);
      const privateKeyPem = fs.readFileSync((await download.path())!, 'utf8');
      assert.match(privateKeyPem, /BEGIN PRIVATE KEY/);
      assert.match(await page.inputValue('#public_key'), /BEGIN PUBLIC KEY/);
      await page.click('button:has-text("Register client")');
      const clientId = await page.locator('#client-id').innerText();
      const clientPage = page.url();

      const rp = await createReferenceRp({ issuer: `${origin}/sandpit`, clientId, privateKeyPem, redirectUri: `${rpUrl}/callback`, scope: 'openid profile', vtr: ['P9.Cp.Cd'], allowHttp: true });
      await rp.listen({ port: rpPort, host: '127.0.0.1' });
      try {
        await page.goto(rpUrl);
        await page.click('#nhs-login');
        await page.fill('#email', 'testuserlive@demo.signin.nhs.uk');
        await page.fill('#password', 'Passw0rd$1');
        await page.click('button:has-text("Continue")');
        await page.fill('#otp', '190696');
        await page.click('button:has-text("Continue")');
        await page.click('button:has-text("Continue")');
        await page.waitForURL(`${rpUrl}/`);
        assert.match(await page.locator('#vot').innerText(), /P9\.Cp\.Cd/);
        const seconds = (performance.now() - started) / 1000;
        t.diagnostic(`sign-up page to a completed P9 login: ${seconds.toFixed(1)} s of wall time (target: under 60 s)`);

        await page.goto(clientPage);
        assert.equal(await page.locator('[data-item="login-P9.Cp.Cd"]').getAttribute('data-done'), 'yes');
        assert.equal(await page.locator('[data-item="userinfo"]').getAttribute('data-done'), 'yes');
        const problems: Record<string, string[]> = { client: await accessibilityProblems(page) };
        const orgBase = clientPage.replace(/\/clients\/.*$/, '');
        for (const path of ['/application', '/members', '/documents', '/test-users', '/api-tokens', '/request-integration', '/clients/new']) {
          await page.goto(`${orgBase}${path}`);
          problems[path] = await accessibilityProblems(page);
        }
        for (const path of ['/portal', '/portal/guidance', '/portal/eligibility', '/portal/reference/sandpit']) {
          await page.goto(`${origin}${path}`);
          problems[path] = await accessibilityProblems(page);
        }
        assert.deepEqual(Object.fromEntries(Object.entries(problems).filter(([, v]) => v.length)), {});
      } finally {
        await rp.close();
        await context.close();
      }
    });
  });
}
