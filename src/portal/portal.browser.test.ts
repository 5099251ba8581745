/**
 * A new partner in Chromium, as they would do it: sign up, confirm from the email, add the organisation,
 * register a sandpit client with a key pair made in the browser, and complete a P9 login with the reference
 * relying party using the downloaded private key. Reports the wall time (the target is under 60 s).
 * Then every portal form submitted empty in Chromium: each shows the NHS error summary, whose links lead to
 * the fields in error, with the message beside each field and the page still accessible.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { accessibilityProblems, freePort, clickToNextPage, cspViolations, launchChromium, localContext } from '../test-support/chromium.ts';
import { DIALECTS, startListeningApp, type TestApp } from '../test-support/harness.ts';
import { outbox } from '../onboarding/index.ts';
import { createReferenceRp } from '../../examples/reference-rp/rp.ts';

/** Submits the form by its button and checks the NHS error summary pattern; returns what the summary lists. */
async function emptySubmission(page: Page, url: string, button: string, prefilled: string[] = []): Promise<string[]> {
  await page.goto(url);
  for (const field of prefilled) await page.fill(field, '');
  await clickToNextPage(page, page.locator('form[method="post"] button', { hasText: button }).first());
  const summary = page.locator('.nhsuk-error-summary');
  assert.equal(await summary.count(), 1, `${url}: one error summary after "${button}"`);
  assert.match(await page.title(), /^Error: /, `${url}: the title says there is an error`);
  // nhsuk-frontend moves focus to the summary so screen readers announce it (needs the page's script).
  assert.equal(
    await page.evaluate(() => document.activeElement?.classList.contains('nhsuk-error-summary')),
    true,
    `${url}: focus on the summary`,
  );
  const links = await summary
    .locator('a')
    .evaluateAll((as) => as.map((a) => ({ text: a.textContent?.trim() ?? '', href: a.getAttribute('href') ?? '' })));
  assert.ok(links.length > 0, `${url}: the summary lists the problems`);
  for (const link of links) {
    assert.ok(link.text.length > 3, `${url}: a summary entry says what is wrong`);
    assert.match(link.href, /^#./, `${url}: "${link.text}" links to its field`);
    assert.equal(await page.locator(link.href.replace(/^#(.*)$/, '[id="$1"]')).count(), 1, `${url}: "${link.text}" leads to ${link.href}`);
  }
  const inline = await page.locator('.nhsuk-error-message').allInnerTexts();
  assert.ok(inline.length > 0 && inline.every((m) => m.replace(/^Error:/, '').trim().length > 0), `${url}: messages beside the fields`);
  assert.deepEqual(await accessibilityProblems(page), [], `${url}: accessible with errors shown`);
  return links.map((l) => l.text);
}

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
      const context = await localContext(browser, { acceptDownloads: true });
      const page = await context.newPage();
      const started = performance.now();

      await page.goto(`${origin}/portal/sign-up`);
      await page.fill('#name', 'Dana Developer');
      await page.fill('#email', 'dana@example.org');
      await page.fill('#password', 'a long sandpit passphrase');
      await clickToNextPage(page, page.locator('button:has-text("Create account")'));
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

      const rp = await createReferenceRp({
        issuer: `${origin}/sandpit`,
        clientId,
        privateKeyPem,
        redirectUri: `${rpUrl}/callback`,
        scope: 'openid profile',
        vtr: ['P9.Cp.Cd'],
        allowHttp: true,
      });
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
        for (const path of [
          '/application',
          '/members',
          '/documents',
          '/test-users',
          '/api-tokens',
          '/request-integration',
          '/clients/new',
        ]) {
          await page.goto(`${orgBase}${path}`);
          problems[path] = await accessibilityProblems(page);
        }
        for (const path of ['/portal', '/portal/guidance', '/portal/eligibility', '/portal/reference/sandpit']) {
          await page.goto(`${origin}${path}`);
          problems[path] = await accessibilityProblems(page);
        }
        assert.deepEqual(Object.fromEntries(Object.entries(problems).filter(([, v]) => v.length)), {});
        // The key generation page, the journey (whose consent form post is redirected to the relying party) and
        // the portal's pages.
        assert.deepEqual(cspViolations(context), [], 'the pages keep to their Content Security Policy');
      } finally {
        await rp.close();
        await context.close();
      }
    });
    test('every portal form, submitted empty, shows the error summary with links to its fields', async () => {
      const context = await localContext(browser);
      const page = await context.newPage();
      try {
        await emptySubmission(page, `${origin}/portal/sign-in`, 'Sign in');
        await emptySubmission(page, `${origin}/portal/forgot-password`, 'Send me a link');
        assert.equal(
          (await emptySubmission(page, `${origin}/portal/sign-up`, 'Create account')).length,
          3,
          'name, email and password at once',
        );
        await emptySubmission(page, `${origin}/portal/eligibility`, 'Check eligibility');

        await page.goto(`${origin}/portal/sign-up`);
        await page.fill('#name', 'Erin Errors');
        await page.fill('#email', 'erin@example.org');
        await page.fill('#password', 'a long sandpit passphrase');
        await clickToNextPage(page, page.locator('button:has-text("Create account")'));
        const mail = (await outbox(app.database.db, 'erin@example.org'))[0]!;
        await page.goto(/(http:\S+\/portal\/confirm\/\S+)/.exec(mail.body)![1]!);
        await page.goto(`${origin}/portal/sign-in`);
        await page.fill('#email', 'erin@example.org');
        await page.fill('#password', 'a long sandpit passphrase');
        await clickToNextPage(page, page.locator('button:has-text("Sign in")'));
        await emptySubmission(page, `${origin}/portal/organisations/new`, 'Continue');
        await page.fill('#name', 'Erin Health Ltd');
        await clickToNextPage(page, page.locator('button:has-text("Continue")'));
        const orgBase = page.url().replace(/(\/portal\/organisations\/[^/]+).*$/, '$1');
        assert.match(orgBase, /\/portal\/organisations\/[^/]+$/);

        const forms: [string, string][] = [
          ['/clients/new', 'Register client'], ['/application', 'Submit for review'],
          ['/members', 'Send invitation'], ['/documents', 'Upload'],
          ['/api-tokens', 'Create token'], ['/messages', 'Send'],
        ];
        for (const [path, button] of forms) await emptySubmission(page, `${orgBase}${path}`, button);
        await emptySubmission(page, `${orgBase}/edit`, 'Continue', ['#name']);
        // The PDS record is a list with a first choice, never empty: its error is choosing a record twice.
        await page.goto(`${orgBase}/test-users`);
        await clickToNextPage(page, page.locator('button:has-text("Create test user")'));
        assert.equal(await page.locator('#test-users tbody tr').count(), 1);
        assert.deepEqual(await emptySubmission(page, `${orgBase}/test-users`, 'Create test user'), [
          'You already have a test user for that NHS number in sandpit: change it in the list',
        ]);
        assert.deepEqual(await emptySubmission(page, `${orgBase}/test-users`, 'Create with these details'), [
          'Enter a 10-digit NHS number that passes the checksum', 'Enter a first name: letters, spaces, hyphens and apostrophes, up to 100',
          'Enter a last name: letters, spaces, hyphens and apostrophes, up to 100',
          'Enter the date of birth as YYYY-MM-DD, a real date in the past',
        ]);
        assert.deepEqual(cspViolations(context), [], 'the pages keep to their Content Security Policy');
      } finally {
        await context.close();
      }
    });
  });
}
