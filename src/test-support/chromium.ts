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
  return context;
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
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
    const r = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, count: v.nodes.length }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.count})`);
}
