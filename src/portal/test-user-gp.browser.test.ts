/**
 * The test users page's GP credential state form and the reference's #gp-credentials section in Chromium, without
 * JavaScript's help: choose a state, save, see it chosen; axe WCAG 2.2 AA on both pages; screenshots at 320 and 1280 px.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { accessibilityProblems, clickToNextPage, launchChromium, localContext } from '../test-support/chromium.ts';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { csrfOf } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { createOrganisation } from '../onboarding/index.ts';
import fs from 'node:fs';
import { join } from 'node:path';

const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots', 'gp-credentials');

describe('portal in Chromium: GP credential states', () => {
  let app: TestApp & { origin: string };
  let browser: Browser;
  let url: string;
  before(async () => {
    app = await startListeningApp('sqlite');
    browser = await launchChromium();
    const orgId = (await createOrganisation(app.database.db, 'user-owner', { name: 'GP Ltd' })).id;
    const b = await partnerIn(app, orgId, 'gp-browser@example.org', 'developer');
    url = `/portal/organisations/${orgId}/test-users`;
    await b.post(url, new URLSearchParams({ _csrf: csrfOf(await b.get(url)), nhs_number: '9686368450', level: 'P9' }));
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  test('a partner sets a linked test user\'s GP state, and the page and the reference pass axe at 320 and 1280 px', async () => {
    const context = await localContext(browser);
    try {
      const page = await context.newPage();
      await page.goto(`${app.origin}/portal/sign-in`);
      await page.fill('#email', 'gp-browser@example.org');
      await page.fill('#password', 'correct horse battery');
      await clickToNextPage(page, page.locator('button:has-text("Sign in")'));
      await page.goto(`${app.origin}${url}`);
      await page.getByLabel('Online access revoked').check();
      await clickToNextPage(page, page.locator('button:has-text("Set GP state")'));
      assert.equal(await page.getByLabel('Online access revoked').isChecked(), true);
      for (const [name, path] of [['test-users', url], ['reference', '/portal/reference/integration#gp-credentials']] as const) {
        await page.goto(`${app.origin}${path}`);
        assert.deepEqual(await accessibilityProblems(page), [], name);
        for (const width of [320, 1280]) {
          await page.setViewportSize({ width, height: 900 });
          const sideways = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
          assert.equal(sideways, false, `${name} at ${width}px scrolls sideways`);
          // A table can clip its last column instead of scrolling: every control must be on the page.
          const cut = await page.evaluate(() => [...document.querySelectorAll('button, input, select')]
            .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map((e) => e.outerHTML.slice(0, 60)));
          assert.deepEqual(cut, [], `${name} at ${width}px cuts controls off`);
          fs.mkdirSync(SCREENSHOTS, { recursive: true });
          const file = join(SCREENSHOTS, `${width}-${name}.png`);
          await page.screenshot({ path: file, fullPage: width === 320 && name === 'test-users' });
        }
      }
    } finally {
      await context.close();
    }
  });
});
