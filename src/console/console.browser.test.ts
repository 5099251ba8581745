/** The console in Chromium: set-up, sign-in with a TOTP code, and axe WCAG 2.2 AA checks on its pages. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import type { Browser } from 'playwright-core';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { accessibilityProblems, launchChromium } from '../test-support/chromium.ts';
import { createTeamAdmin } from '../onboarding/index.ts';

let app: TestApp & { origin: string };
let browser: Browser;
let origin: string;
before(async () => {
  app = await startListeningApp('sqlite');
  origin = app.origin;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await app?.stop();
});

test('a team admin sets up, signs in with TOTP, and every console page passes axe', async () => {
  const { setupSecret } = await createTeamAdmin(app.database.db, 'admin@nhs.example');
  const page = await (await browser.newContext()).newPage();
  const problems: Record<string, string[]> = {};
  await page.goto(`${origin}/console/setup/${setupSecret}`);
  problems.setup = await accessibilityProblems(page);
  const secret = await page.locator('#totp-secret').innerText();
  await page.fill('#password', 'a long console passphrase');
  await page.fill('#code', await generate({ secret }));
  await page.click('button:has-text("Finish set-up")');
  problems['sign-in'] = await accessibilityProblems(page);
  await page.fill('#email', 'admin@nhs.example');
  await page.fill('#password', 'a long console passphrase');
  await page.fill('#code', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
  await page.click('button:has-text("Sign in")');
  assert.equal(await page.locator('h1').innerText(), 'Partners');
  problems.pipeline = await accessibilityProblems(page);
  for (const path of ['/console/audit', '/console/outbox']) {
    await page.goto(`${origin}${path}`);
    problems[path] = await accessibilityProblems(page);
  }
  assert.deepEqual(Object.fromEntries(Object.entries(problems).filter(([, v]) => v.length)), {});
});
