/** Debian's Chromium for browser tests (never a downloaded browser) and the axe accessibility check. */
export { freePort } from './ports.ts';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { launchChromium as launchChromiumAt } from '../conformance/driver.ts';

/** Debian's Chromium with the flags the conformance driver uses. */
export function launchChromium(): Promise<Browser> {
  return launchChromiumAt('/usr/bin/chromium');
}

/**
 * A browser context that reaches only this machine: tests must not depend on the internet, and the NHS
 * stylesheet's fonts (assets.nhs.uk) would otherwise stall each page for a DNS timeout where it is offline.
 */
export async function localContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await context.route((url) => !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname), (route) => route.abort('blockedbyclient'));
  await watchContentSecurityPolicy(context);
  return context;
}

const violations = new WeakMap<BrowserContext, string[]>();

/**
 * What Chromium refused under the pages' Content Security Policy in a context made by localContext: the
 * `securitypolicyviolation` events of every page and the console messages Chromium writes for refusals (a form
 * post or the redirect after it, which fire on a document that is then gone). A browser test ends with none.
 */
export function cspViolations(context: BrowserContext): string[] {
  return [...new Set(violations.get(context))];
}

async function watchContentSecurityPolicy(context: BrowserContext) {
  const seen: string[] = [];
  violations.set(context, seen);
  await context.exposeBinding('reportCspViolation', ({ page }, text: string) => { seen.push(`${page.url()}: ${text}`); });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const report = (globalThis as unknown as { reportCspViolation(t: string): void }).reportCspViolation;
      report(`${e.effectiveDirective} refused ${e.blockedURI || 'inline'}`);
    });
  });
  context.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(`${m.page()?.url() ?? ''}: ${m.text()}`);
  });
}

/**
 * Clicks and waits until the next document has loaded. A click returns once the click is done, and a form
 * post answered on the same URL leaves nothing else to wait for: mark this document, wait for one without it.
 */
export async function clickToNextPage(page: Page, target: Locator): Promise<void> {
  await page.evaluate(() => { (globalThis as { previousPage?: boolean }).previousPage = true; });
  await target.click();
  await page.waitForFunction(() => !(globalThis as { previousPage?: boolean }).previousPage);
  await page.waitForLoadState();
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.2 AA checks with axe-core on the page as shown; returns the serious and critical violations. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  // Evaluated by the DevTools protocol: a script tag would be refused by the pages' CSP, as it should be.
  await page.evaluate(`${AXE};undefined`);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }
    ).axe;
    const r = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, count: v.nodes.length }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.count})`);
}

/** Signs in on the environment's sign-in page as a published test account (password and security code of the test pack). */
export async function signInAs(page: Page, email: string): Promise<void> {
  await page.fill('#email', email);
  await page.fill('#password', 'Passw0rd$1');
  await clickToNextPage(page, page.locator('button:has-text("Continue")'));
  await page.fill('#otp', '190696');
  await clickToNextPage(page, page.locator('button:has-text("Continue")'));
}
