/**
 * Provision Account's claiming journey in Chromium at 320 px and 1280 px (brief §6): each page accessible (axe), with
 * no sideways scrolling and a way on, from the emailed link to "Your NHS login is set up", and the used link's
 * problem page. Screenshots go to test-results/screenshots/claim/ for a person to look at.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { accessibilityProblems, clickToNextPage, cspViolations, launchChromium, localContext } from '../../test-support/chromium.ts';
import { startListeningApp, type TestApp } from '../../test-support/harness.ts';
import { createRp, type TestRp } from '../../test-support/rp.ts';
import { outboxMessages, updateClient } from '../../storage/index.ts';

const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', '..', 'test-results', 'screenshots', 'claim');
const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('Provision Account: the claim in Chromium', () => {
  let app: TestApp & { origin: string };
  let browser: Browser;
  let rp: TestRp;
  before(async () => {
    app = await startListeningApp('sqlite');
    browser = await launchChromium();
    rp = await createRp(app, 'sandpit');
    await updateClient(app.database.db, 'sandpit', rp.client.clientId, { provisioning: true, provisioningOds: ['A00002'] });
  });
  after(async () => {
    await browser?.close();
    await app?.stop();
  });

  async function provision(nhs: string, dob: string, email: string): Promise<string> {
    const form = { grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await rp.assertion() };
    const tokenRes = await app.fetch(rp.tokenEndpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(),
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const res = await app.fetch(`${rp.issuer}/provision-account`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
      body: JSON.stringify({
        nhs_number: nhs, email_address: email, date_of_birth: dob, ods_code: 'A00002', phone_number: '+447700900123',
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const [mail] = await outboxMessages(app.database.db, { to: email, limit: 1 });
    return /(http\S+\/provision\/claim\/\S+)/.exec(mail!.body)![1]!;
  }

  /** The page as a person sees it at this width: accessible, nothing sideways, and its screenshot. */
  async function look(page: Page, width: number, name: string) {
    assert.deepEqual(await accessibilityProblems(page), [], `${name} at ${width} px: accessible`);
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(sideways <= 0, `${name} at ${width} px: scrolls sideways by ${sideways} px`);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${width}-${name}.png`), fullPage: true });
  }

  for (const [width, nhs, dob] of [[320, '9686367403', '1935-02-26'], [1280, '9686367500', '1929-01-07']] as const) {
    test(`from the emailed link to a P9 NHS login at ${width} px, without a dead end`, async () => {
      const email = `claim-${width}@example.org`;
      const link = await provision(nhs, dob, email);
      const context = await localContext(browser, { viewport: { width, height: 800 } });
      const page = await context.newPage();
      await page.goto(link);
      await look(page, width, '1-start');
      await clickToNextPage(page, page.getByRole('button', { name: 'Continue' }));
      assert.match(page.url(), /\/provision\/code$/);
      await page.fill('#otp', '111111');
      await clickToNextPage(page, page.getByRole('button', { name: 'Continue' }));
      await look(page, width, '2-code-wrong');
      await page.fill('#otp', '190696');
      await clickToNextPage(page, page.getByRole('button', { name: 'Continue' }));
      assert.match(page.url(), /\/provision\/password$/);
      await look(page, width, '3-password');
      await page.fill('#password', 'Claimed1pass');
      await clickToNextPage(page, page.getByRole('button', { name: 'Continue' }));
      assert.match(page.url(), /\/provision\/done$/);
      assert.equal(await page.locator('h1').innerText(), 'Your NHS login is set up');
      await look(page, width, '4-done');
      await page.goto(link);
      assert.match(await page.locator('h1').innerText(), /expired or has already been used/);
      await look(page, width, '5-used-link');
      assert.deepEqual(cspViolations(context), []);
      await context.close();
    });
  }
});
