/**
 * What a person notices on a page and the DOM and axe checks do not: the page scrolls sideways, the header has
 * empty navigation items, a chart's text is cut off by its box. Checked in Chromium on the page as laid out.
 */
import type { Page } from 'playwright-core';

/** The layout problems of the page as shown at its current viewport width; [] when there are none. */
export function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const describe = (el: Element) => {
      const id = el.id ? `#${el.id}` : '';
      const cls = typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/)[0]}` : '';
      const text = (el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
      return `<${el.tagName.toLowerCase()}${id}${cls}>${text ? ` "${text}"` : ''}`;
    };
    const viewport = document.documentElement.clientWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth > viewport) {
      // The widest elements that stick out to the right, innermost first, to say what to fix.
      const wide = [...document.body.querySelectorAll('*')]
        .filter((el) => el.getBoundingClientRect().right > viewport + 1 && el.getClientRects().length > 0)
        .filter((el, _i, all) => !all.some((other) => other !== el && el.contains(other)))
        .sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right)
        .slice(0, 3).map((el) => `${describe(el)} to ${Math.round(el.getBoundingClientRect().right)} px`);
      problems.push(`scrolls sideways: ${scrollWidth} px wide in a ${viewport} px viewport (${wide.join('; ')})`);
    }
    const empty = [...document.querySelectorAll('header nav li, header nav a, header .nhsuk-header__navigation-item')]
      .filter((item) => !(item.textContent ?? '').trim() && !item.getAttribute('aria-label'));
    const like = empty[0]?.outerHTML.replace(/\s+/g, ' ').slice(0, 100);
    if (empty.length) problems.push(`${empty.length} empty navigation items in the header, like ${like}`);
    for (const text of document.querySelectorAll('svg text')) {
      const svg = text.closest('svg')!.getBoundingClientRect();
      const box = text.getBoundingClientRect();
      if (box.left < svg.left - 1 || box.right > svg.right + 1 || box.top < svg.top - 1 || box.bottom > svg.bottom + 1) {
        problems.push(`chart text cut off by its chart: "${(text.textContent ?? '').trim()}"`);
      }
    }
    // A box that hides what overflows it and has more text than fits (the visually-hidden helper is 1 px on purpose).
    for (const el of document.body.querySelectorAll('*')) {
      const style = getComputedStyle(el);
      if (!['hidden', 'clip'].includes(style.overflowX) || el.clientWidth <= 1 || !(el.textContent ?? '').trim()) continue;
      if (el.scrollWidth > el.clientWidth + 1) {
        problems.push(`text cut off by its box: ${describe(el)} (${el.scrollWidth} px of text in ${el.clientWidth} px)`);
      }
    }
    return problems;
  });
}

/** The same-origin links of the page (absolute, without their fragment), and which of them are in the header. */
export function linksOf(page: Page): Promise<{ all: string[]; header: string[] }> {
  return page.evaluate(() => {
    const hrefs = (selector: string) => [...document.querySelectorAll<HTMLAnchorElement>(selector)]
      .map((a) => new URL(a.href, location.href)).filter((u) => u.origin === location.origin)
      .map((u) => { u.hash = ''; return u.href; });
    return { all: [...new Set(hrefs('a[href]'))], header: [...new Set(hrefs('header a[href]'))] };
  });
}
