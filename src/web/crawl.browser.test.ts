/**
 * The pages as people see them, in Chromium: a crawl from the home page as each role (signed out, a partner, a
 * team member) follows the same-origin links (GET only, never signing out or following one-time links) and looks
 * at every page at 320 px and 1280 px wide. It fails on a page that scrolls sideways, an empty navigation item,
 * chart text cut off, a header link that is not a 200 page, a link to an error, and a page of the role's that no
 * link leads to. A screenshot of each page per role and width is written to test-results/screenshots/ for a
 * person to look through.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { cspViolations, launchChromium, localContext } from '../test-support/chromium.ts';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { layoutProblems, linksOf } from '../test-support/layout.ts';
import { seedPages, type SeededPages } from '../test-support/pages-seed.ts';
import { partnerIn } from '../test-support/partner.ts';
import { signInToConsole } from '../test-support/team.ts';
import type { Browser as HttpBrowser } from '../test-support/browser.ts';

const WIDTHS = [1280, 320];
const SCREENSHOTS = path.join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');
/** Bounds the crawl: pages per role, and pages of one kind (a partner page, a client page...) per role. */
const MAX_PAGES = 45;
const PER_KIND = 2;

/**
 * Links a crawl must not follow: signing out ends the role; one-time links (confirmation, invitation, set-up,
 * reset) are spent by a GET; files (reports, screenshots, documents, JSON) are not pages; the environments'
 * protocol endpoints start journeys with a relying party, which these roles are not.
 */
const SKIP = [
  /sign-out/, /\/(confirm|invitations|setup|reset-password|continue)\//,
  /\.(json|jws|xml|png|pdf)$/, /\/screenshots\//, /\/documents\/[^/]+$/, /[?&]format=/,
  /\/\.well-known\//, /^\/(sandpit|integration|live)(\/|$)/, /^\/api\//,
];
const skipped = (u: URL) => SKIP.some((s) => s.test(u.pathname + u.search));

/** The pages each role must reach by links alone (an address nobody links to is a dead end). */
const ID = '[^/?]+';
const EXPECTED: Record<string, [string, RegExp][]> = {
  'signed-out': [['home', /^\/$/], ['portal', /^\/portal$/], ['portal sign-in', /^\/portal\/sign-in$/],
    ['portal sign-up', /^\/portal\/sign-up$/], ['guidance', /^\/portal\/guidance$/], ['eligibility', /^\/portal\/eligibility$/],
    ['console sign-in', /^\/console\/sign-in$/]],
  partner: [['portal dashboard', /^\/portal$/], ['client page', new RegExp(`^/portal/organisations/${ID}/clients/${ID}$`)],
    ['conformance run', new RegExp(`^/portal/organisations/${ID}/clients/${ID}/conformance/${ID}$`)],
    ['application', /\/application$/], ['members', /\/members$/], ['documents', /\/documents$/], ['messages', /\/messages$/],
    ['test users', /\/test-users$/], ['API tokens', /\/api-tokens$/], ['new client', /\/clients\/new$/]],
  team: [['console pipeline', /^\/console$/], ['partner', new RegExp(`^/console/partners/${ID}$`)],
    ['client', new RegExp(`^/console/clients/${ID}/${ID}$`)],
    ['conformance run', new RegExp(`^/console/conformance/${ID}$`)], ['metrics', /^\/console\/metrics$/], ['outbox', /^\/console\/outbox$/],
    ['audit', /^\/console\/audit$/], ['team', /^\/console\/team$/]],
};

/** A path's kind: its ids replaced (uuids, client ids, long tokens), and its query's names. */
function kindOf(url: URL): string {
  const segments = url.pathname.split('/').map((s) => (/^[0-9a-f-]{36}$|^(?=.*\d)[\w-]{12,}$/i.test(s) ? '{id}' : s));
  const query = [...new Set(url.searchParams.keys())].sort().join('&');
  return segments.join('/') + (query ? `?${query}` : '');
}

const fileName = (kind: string, n: number) =>
  `${kind.replace(/^\/$/, 'home').replace(/^\//, '').replace(/[{}]/g, '').replace(/[^\w-]+/g, '_')}${n > 1 ? `-${n}` : ''}.png`;

let app: TestApp & { origin: string };
let browser: Browser;
let seeded: SeededPages;
before(async () => {
  app = await startListeningApp('sqlite');
  browser = await launchChromium();
  seeded = await seedPages(app);
});
after(async () => {
  await browser?.close();
  await app?.stop();
});

/** Hands the HTTP client's signed-in session to a Chromium context. */
async function signedInContext(http?: HttpBrowser): Promise<BrowserContext> {
  const context = await localContext(browser, { viewport: { width: WIDTHS[0]!, height: 900 } });
  const cookies = http?.cookies() ?? [];
  await context.addCookies(cookies.map((c) => ({ name: c.name, value: c.value, domain: 'localhost', path: c.path, httpOnly: true })));
  return context;
}

/** Where each role's crawl goes besides the home page: the partner and the team stay in their own face. */
const AREA: Record<string, RegExp> = { 'signed-out': /^\/(portal|console)(\/|$)/, partner: /^\/portal(\/|$)/, team: /^\/console(\/|$)/ };

interface Crawled {
  problems: string[];
  reached: string[];
  /** Where the time went: loading pages, checking them, screenshots, header links. */
  ms: Record<string, number>;
}

async function crawl(role: string, context: BrowserContext): Promise<Crawled> {
  const ms: Record<string, number> = { goto: 0, check: 0, screenshot: 0, links: 0 };
  const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try { return await f(); } finally { ms[what]! += performance.now() - t0; }
  };
  const dir = path.join(SCREENSHOTS, role);
  fs.rmSync(dir, { recursive: true, force: true });
  for (const w of WIDTHS) fs.mkdirSync(path.join(dir, String(w)), { recursive: true });
  const page = await context.newPage();
  const problems: string[] = [];
  const queue = [`${app.origin}/`];
  const queued = new Set(queue);
  const kinds = new Map<string, number>();
  const headerChecked = new Set<string>();
  const reached: string[] = [];
  const from = new Map<string, string>();
  while (queue.length && reached.length < MAX_PAGES) {
    const url = queue.shift()!;
    const where = new URL(url).pathname + new URL(url).search;
    const response = await timed('goto', () => page.goto(url));
    if (response?.status() !== 200) {
      problems.push(`${where} (linked from ${from.get(url)}): HTTP ${response?.status()}`);
      continue;
    }
    if (!/text\/html/.test(response.headers()['content-type'] ?? '')) continue;
    // A redirect to a page already seen (/console to its sign-in page) is not looked at twice.
    if (reached.includes(new URL(page.url()).pathname) && new URL(page.url()).pathname !== new URL(url).pathname) continue;
    reached.push(new URL(page.url()).pathname);
    const kind = kindOf(new URL(url));
    const n = (kinds.get(kind) ?? 0) + 1;
    kinds.set(kind, n);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      // The header's script fits its menu to the width when the resize reaches it, before the next frames.
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      for (const p of await timed('check', () => layoutProblems(page))) problems.push(`${where} at ${width} px: ${p}`);
      await timed('screenshot', () => page.screenshot({ path: path.join(dir, String(width), fileName(kind, n)), fullPage: true }));
    }
    await page.setViewportSize({ width: WIDTHS[0]!, height: 900 });
    const links = await linksOf(page);
    for (const link of links.header.filter((l) => !headerChecked.has(l) && !skipped(new URL(l)))) {
      headerChecked.add(link);
      const status = await timed('links', async () => (await context.request.get(link)).status());
      if (status !== 200) problems.push(`${where}: the header link ${new URL(link).pathname} answers HTTP ${status}`);
    }
    // Of the links of one kind (the partners on the board), the first and the last: different stages, say.
    const candidates = links.all.filter((l, i, all) => {
      const k = kindOf(new URL(l));
      return all.findIndex((o) => kindOf(new URL(o)) === k) === i || all.findLastIndex((o) => kindOf(new URL(o)) === k) === i;
    });
    for (const link of candidates) {
      const u = new URL(link);
      if (queued.has(link) || !AREA[role]!.test(u.pathname) || skipped(u)) continue;
      const k = kindOf(u);
      const waiting = queue.filter((q) => kindOf(new URL(q)) === k).length;
      if ((kinds.get(k) ?? 0) + waiting >= PER_KIND) continue;
      queued.add(link);
      from.set(link, where);
      queue.push(link);
    }
  }
  for (const [name, pattern] of EXPECTED[role]!) {
    if (!reached.some((p) => pattern.test(p))) problems.push(`never reached by a link: ${name}`);
  }
  problems.push(...cspViolations(context));
  await context.close();
  return { problems, reached, ms: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round(v)])) };
}

test('signed out: every page from the home page shows well at 320 px and 1280 px', async (t) => {
  const { problems, reached, ms } = await crawl('signed-out', await signedInContext());
  t.diagnostic(`${reached.length} pages (${JSON.stringify(ms)} ms): ${reached.join(' ')}`);
  assert.deepEqual(problems, []);
});

test('a partner: every page from the home page shows well at 320 px and 1280 px', async (t) => {
  const partner = await partnerIn(app, seeded.organisationId, 'dana@gateway.example', 'partner_admin');
  const { problems, reached, ms } = await crawl('partner', await signedInContext(partner));
  t.diagnostic(`${reached.length} pages (${JSON.stringify(ms)} ms): ${reached.join(' ')}`);
  assert.deepEqual(problems, []);
});

test('a team member: every page from the home page shows well at 320 px and 1280 px', async (t) => {
  const { b } = await signInToConsole(app, 'admin@nhs.example', 'team_admin');
  const { problems, reached, ms } = await crawl('team', await signedInContext(b));
  t.diagnostic(`${reached.length} pages (${JSON.stringify(ms)} ms): ${reached.join(' ')}`);
  assert.deepEqual(problems, []);
});
