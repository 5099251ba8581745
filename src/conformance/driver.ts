/**
 * The browser side of a conformance test: Debian's Chromium (playwright-core, never a downloaded browser)
 * starts at the service's start URL, presses its NHS login button, goes through the toolkit's journey pages
 * as a persona, and observes where the service then leaves the person: final URL, status, text, screenshot.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { RUN_BROWSER_MARK, type BrowsingPolicy } from './browsing.ts';
import type { Persona } from './plan.ts';
import { TEST_PACK } from '../identity/people/test-pack.ts';
import { NHS_APP_USER_AGENTS } from '../identity/index.ts';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * playwright-core is loaded only when a run starts: the server does not carry it otherwise. With a proxy
 * (proxy.ts), every request goes through it, loopback included (`<-loopback>` removes Chromium's implicit
 * bypass), and WebRTC may not send UDP around it.
 */
export async function launchChromium(executablePath: string, proxy?: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  const proxied = proxy
    ? [`--proxy-server=${proxy}`, '--proxy-bypass-list=<-loopback>', '--force-webrtc-ip-handling-policy=disable_non_proxied_udp']
    : [];
  return chromium.launch({ executablePath, args: [...CHROMIUM_FLAGS, ...proxied] });
}

export interface PersonaDetails {
  email: string;
  password: string;
  otp: string;
  /** For "prove your identity" at P5: a test PDS record's details. */
  pds: { nhsNumber: string; familyName: string; birthdate: string; postcode: string };
  /** A new account is registered first (the sandpit has no P0 account). */
  register?: boolean;
}

const { password: PASSWORD, otp: OTP, patient: PDS } = TEST_PACK;

/** A service on this machine may use a self-signed certificate (local development); anywhere else TLS must verify. */
function selfSignedOk(startUrl: string): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(startUrl).hostname);
}

/**
 * The published test account (testuserlive<suffix>@demo.signin.nhs.uk, in the environment's data/<env>-accounts.csv) that
 * plays each persona; null: a new account is registered (the sandpit has no P0 account). Other environments: the sandpit's.
 */
const PERSONA_ACCOUNTS: Record<'sandpit' | 'integration', Record<Persona, string | null>> = {
  sandpit: { P9: '', P5: '+p5', P0: null, 'im1-linked': '', 'im1-unlinked': '+1' },
  integration: { P9: '+1', P5: '+2', P0: '+3', 'im1-linked': '+1', 'im1-unlinked': '+2' },
};

export function personaFor(env: string, persona: Persona): PersonaDetails {
  const accounts = Object.hasOwn(PERSONA_ACCOUNTS, env) ? PERSONA_ACCOUNTS[env as keyof typeof PERSONA_ACCOUNTS] : PERSONA_ACCOUNTS.sandpit;
  const suffix = accounts[persona];
  if (suffix !== null) return { email: `testuserlive${suffix}@demo.signin.nhs.uk`, password: PASSWORD, otp: OTP, pds: PDS };
  const email = `conformance.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}@example.org`;
  return { email, password: 'Conformance1', otp: OTP, pds: PDS, register: true };
}

export interface DriveOptions {
  startUrl: string;
  /** The environment's issuer: its pages are the journey; leaving its origin means back at the service. */
  issuer: string;
  persona: PersonaDetails;
  decline?: boolean | undefined;
  /** CSS selector of the NHS login button; by default a link or button named like "Continue to NHS login". */
  buttonSelector?: string | undefined;
  /** The run's mark for this test (a cookie on the issuer's host). */
  mark: { name: string; value: string };
  /** Where the browser may go (browsing.ts): checked for every request it makes. */
  policy: Pick<BrowsingPolicy, 'refusal'>;
  /** Start in the stand-in NHS App at this launcher, with the NHS App's user agent, instead of at the start URL. */
  nhsApp?: { launcher: string } | undefined;
  /** How long a step may take to reach its next page (10 s; longer where the test holds a response the service waits on). */
  stepMs?: number | undefined;
}

export interface Observation {
  /** The journey steps seen on the toolkit's pages, in order. */
  steps: string[];
  finalUrl: string;
  /** HTTP status of the last document the service served (0 if unknown). */
  status: number;
  text: string;
  /** Whether an NHS login button is on the final page (a signed-out page has one). */
  loginButton: boolean;
  links: string[];
  screenshot: string;
  /** Why the journey could not be driven, if it could not. */
  problem?: string;
  /** A page the service sent the browser to that a run may not open (the page was never loaded). */
  refused?: string;
  /** The service's callback as NHS login sent the browser to it (its redirect_uri with the code), if the journey got there. */
  callbackUrl?: string;
}

/** The NHS login button by its brand-guidance labels ("Continue to NHS login", or "Continue" on NHS services). */
const BUTTON = /^\s*(continue (to|with) nhs login|(sign|log) ?in with nhs login|nhs login)\s*$/i;

async function findButton(page: Page, selector: string | undefined) {
  if (selector) return page.locator(selector).first();
  // By accessible name, as a screen reader would announce it (the NHS logo beside the words is aria-hidden).
  return page.getByRole('link', { name: BUTTON }).or(page.getByRole('button', { name: BUTTON })).first();
}

interface Marked {
  context: BrowserContext;
  /** The first page (document) refused to this context, as a verdict's detail, once `checks` have settled. */
  refused: { detail?: string; checks: Set<Promise<void>> };
}

const userAgents = new WeakMap<Browser, Promise<string>>();
/** The browser's own user agent, marked as a run's (browsing.ts refusedToRunBrowser). */
function runUserAgent(browser: Browser): Promise<string> {
  let ua = userAgents.get(browser);
  if (!ua) {
    ua = browser.newBrowserCDPSession().then(async (cdp) => `${(await cdp.send('Browser.getVersion')).userAgent} ${RUN_BROWSER_MARK}`);
    userAgents.set(browser, ua);
  }
  return ua;
}

/**
 * A fresh browser context carrying the run's mark for the issuer, so no test inherits another's cookies.
 * Every request is checked against the policy: a refused one is aborted before it leaves, so its page is never
 * loaded, never in a screenshot. Playwright routes no redirect: the proxy (proxy.ts), or for the toolkit's own
 * https name the toolkit itself (by the user agent), refuses those, and what shows is their refusal, not the
 * page. Every document request, redirects included, is checked here too, to name the page in the verdict.
 * Service workers are blocked: no route sees what they request.
 */
async function markedContext(browser: Browser, o: DriveOptions): Promise<Marked> {
  // The NHS App's web integration marks its user agent (identity/nhs-app/routes.ts): a service may show itself differently.
  // The run's mark stays last, where the toolkit looks for it (browsing.ts refusedToRunBrowser).
  const base = await runUserAgent(browser);
  const userAgent = o.nhsApp ? `${base.slice(0, -RUN_BROWSER_MARK.length)}${NHS_APP_USER_AGENTS[1]} ${RUN_BROWSER_MARK}` : base;
  const context = await browser.newContext({ ignoreHTTPSErrors: selfSignedOk(o.startUrl), serviceWorkers: 'block', userAgent });
  const issuer = new URL(o.issuer);
  await context.addCookies([
    { name: o.mark.name, value: o.mark.value, domain: issuer.hostname, path: issuer.pathname || '/', httpOnly: true, sameSite: 'Lax' },
  ]);
  const refused: Marked['refused'] = { checks: new Set() };
  // data:, blob: and about: URLs reach no network (and file: or chrome: pages no web page may open).
  const networked = (url: string) => /^https?:/i.test(url);
  context.on('request', (request) => {
    const url = request.url();
    if (!request.isNavigationRequest() || !networked(url)) return;
    const check = o.policy.refusal(url).then((why) => {
      if (why) refused.detail ??= `The service sent the browser to ${url}, which a conformance run may not open: ${why}.`;
    });
    refused.checks.add(check);
  });
  await context.route(() => true, async (route) => {
    const url = route.request().url();
    if (!networked(url)) return route.continue().catch(() => undefined);
    // Web fonts never change a verdict, and where the NHS font host (assets.nhs.uk) is unreachable each page
    // would wait for the font requests to time out (about 5 s a page without internet access).
    const abort = (await o.policy.refusal(url)) ? 'blockedbyclient' : /\.woff2?$/.test(new URL(url).pathname) ? 'aborted' : undefined;
    await (abort ? route.abort(abort) : route.continue()).catch(() => undefined); // the page may have closed meanwhile
  });
  return { context, refused };
}

/** One journey in a fresh browser context. */
export async function drive(browser: Browser, o: DriveOptions): Promise<Observation> {
  const marked = await markedContext(browser, o);
  try {
    return await journey(marked, o, new URL(o.issuer));
  } finally {
    await marked.context.close();
  }
}

async function journey({ context, refused }: Marked, o: DriveOptions, issuer: URL): Promise<Observation> {
  const page = await context.newPage();
  page.setDefaultTimeout(o.stepMs ?? 10_000);
  let status = 0;
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) status = r.status();
  });
  let callbackUrl: string | undefined;
  page.on('request', (r) => {
    if (callbackUrl || !r.isNavigationRequest() || r.frame() !== page.mainFrame()) return;
    const url = new URL(r.url());
    if (url.origin !== issuer.origin && url.searchParams.has('code')) callbackUrl = r.url();
  });
  const steps: string[] = [];
  const observe = async (problem?: string): Promise<Observation> => {
    await page.waitForLoadState('load', { timeout: 2000 }).catch(() => undefined); // styles, for the screenshot
    const text = await page
      .locator('body')
      .innerText()
      .catch(() => '');
    const links = await page
      .locator('a[href]')
      .evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))
      .catch(() => [] as string[]);
    const loginButton = (await (await findButton(page, o.buttonSelector)).count().catch(() => 0)) > 0;
    const screenshot = (await page.screenshot({ type: 'png' }).catch(() => Buffer.alloc(0))).toString('base64');
    await Promise.all(refused.checks);
    // A refused page explains whatever followed from it (a start URL that "could not be opened", a button that led nowhere).
    const seen = { steps, finalUrl: page.url(), status, text, loginButton, links, screenshot, ...(callbackUrl ? { callbackUrl } : {}) };
    if (refused.detail) return { ...seen, problem: refused.detail, refused: refused.detail };
    return { ...seen, ...(problem ? { problem } : {}) };
  };

  const startUrl = o.nhsApp?.launcher ?? o.startUrl;
  try {
    await page.goto(startUrl, { waitUntil: 'domcontentloaded' });
  } catch (e) {
    return observe(`the start URL ${startUrl} could not be opened (${(e as Error).message.split('\n')[0]})`);
  }
  // In the NHS App, its own "Continue to NHS login" starts the journey; the service is opened from it afterwards.
  const button = o.nhsApp ? page.locator('#login') : await findButton(page, o.buttonSelector);
  if (!(await button.count()))
    return observe(`no NHS login button was found on ${o.startUrl}${o.buttonSelector ? ` (selector ${o.buttonSelector})` : ''}`);
  let toIssuer = false;
  page.on('request', (r) => {
    if (r.url().startsWith(o.issuer)) toIssuer = true;
  });
  await Promise.all([
    page
      .waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 10_000 })
      .then(() => page.waitForLoadState('domcontentloaded'))
      .catch(() => undefined),
    // A slow machine or service may take longer than the click waits for its navigation: the page is judged as it is then.
    button.click().catch(() => undefined),
  ]);
  if (!toIssuer) return observe('pressing the NHS login button did not lead to NHS login');

  const p = o.persona;
  const [year, month, day] = p.pds.birthdate.split('-');
  // Until the NHS App opens the service, the journey is the NHS App's own: its consent is never declined.
  let inService = !o.nhsApp;
  for (let i = 0; i < 16 && new URL(page.url()).origin === issuer.origin; i++) {
    const inLauncher = o.nhsApp && page.url().startsWith(o.nhsApp.launcher);
    const step = inLauncher ? 'nhs-app' : new URL(page.url()).pathname.split('/').pop() ?? '';
    steps.push(step);
    // Each form posts and the next document (on the toolkit, or back at the service) commits. (Waiting for
    // the 'load' event instead costs seconds: it also waits for the favicon and module scripts.)
    const next = () => page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: o.stepMs ?? 10_000 })
      .then(() => page.waitForLoadState('domcontentloaded')).catch(() => undefined);
    if (inLauncher) {
      if (inService || !(await page.locator('#open-service').count()))
        return observe('the NHS App could not open the service: give the client its NHS App address on its page in the portal');
      inService = true;
      await Promise.all([next(), page.click('#open-service')]);
    } else if (step === 'sign-in' && p.register && !steps.includes('register')) {
      await Promise.all([next(), page.locator('a[href$="/register"]').first().click()]);
    } else if (step === 'sign-in') {
      await page.fill('#email', p.email);
      await page.fill('#password', p.password);
      await Promise.all([next(), page.click('button:has-text("Continue")')]);
    } else if (step === 'register') {
      await page.fill('#email', p.email);
      await page.fill('#password', p.password);
      await page.fill('#phone', '07700900123');
      await Promise.all([next(), page.click('button:has-text("Continue")')]);
    } else if (step === 'otp') {
      await page.fill('#otp', p.otp);
      await Promise.all([next(), page.click('button:has-text("Continue")')]);
    } else if (step === 'prove-identity' && (await page.locator('#nhs_number').count())) {
      await page.fill('#nhs_number', p.pds.nhsNumber);
      await page.fill('#family_name', p.pds.familyName);
      await page.fill('#birthdate-day', String(Number(day)));
      await page.fill('#birthdate-month', String(Number(month)));
      await page.fill('#birthdate-year', year!);
      await page.fill('#postcode', p.pds.postcode);
      await Promise.all([next(), page.click('button:has-text("Continue")')]);
    } else if (step === 'prove-identity') {
      await page.check('input[value="passport"]');
      await Promise.all([next(), page.click('button:has-text("Continue with photo ID")')]);
    } else if (step === 'consent' && o.decline && inService) {
      await Promise.all([next(), page.click('button:has-text("I do not agree")')]);
    } else if (step === 'decline') {
      await Promise.all([next(), page.click('button:has-text("Continue without sharing")')]);
    } else if (step === 'consent') {
      await Promise.all([next(), page.click('button:has-text("Continue")')]);
    } else {
      return observe(`the journey stopped on the toolkit page "${step}"`);
    }
  }
  if (new URL(page.url()).origin === issuer.origin)
    return observe(`the journey did not return to the service (steps: ${steps.join(' > ')})`);
  // The service's callback may redirect again (to its signed-in page): HTTP redirects end in one load;
  // a brief pause lets a script-driven redirect start before the page is judged.
  await page.waitForTimeout(100);
  await page.waitForLoadState('domcontentloaded').catch(() => undefined);
  return observe();
}

/** Follows a link on the service's page to the settings page, in the same browser session. */
export async function followSettings(
  browser: Browser,
  o: DriveOptions,
  settingsUrl: string,
): Promise<{ observation: Observation; settings?: { status: number; text: string } }> {
  const marked = await markedContext(browser, o);
  try {
    const observation = await journey(marked, o, new URL(o.issuer));
    const link = observation.links.find((h) => h.split(/[?#]/)[0] === settingsUrl);
    if (!link) return { observation };
    const page = marked.context.pages()[0]!;
    const res = await page.goto(link, { waitUntil: 'load' });
    return { observation, settings: { status: res?.status() ?? 0, text: await page.locator('body').innerText() } };
  } finally {
    await marked.context.close();
  }
}

/** Where the service's page led when the person came back to it: NHS login's sign-in page, or a page of the service. */
export interface Revisit {
  finalUrl: string;
  status: number;
  text: string;
  loginButton: boolean;
  /** The page is NHS login's: its sign-in page (a full authentication journey starts, session-management.md, A) or another. */
  atNhsLogin: boolean;
  signInPage: boolean;
  screenshot: string;
  /** When the person's last activity (the journey's end) was, and when the page was opened again. */
  idleFrom: number;
  at: number;
}

/**
 * A journey, then no activity for `idleMs`, then a page opened again in the same browser, as a person coming back would:
 * the service's page reloaded after the client's idle limit (judge.ts `reauthenticates`), or, with no wait, the callback
 * URL NHS login sent the browser to, as the Back button or a reload of it does (judge.ts `redeems_once`).
 */
export async function driveThenRevisit(
  browser: Browser,
  o: DriveOptions,
  then: { idleMs: number; open: 'page' | 'callback' },
): Promise<{ observation: Observation; later?: Revisit | undefined }> {
  const marked = await markedContext(browser, o);
  try {
    const observation = await journey(marked, o, new URL(o.issuer));
    if (observation.problem || (then.open === 'callback' && !observation.callbackUrl)) return { observation };
    const page = marked.context.pages()[0]!;
    const idleFrom = Date.now();
    await page.waitForTimeout(then.idleMs);
    const at = Date.now();
    const opened = then.open === 'page' ? page.reload({ waitUntil: 'domcontentloaded' })
      : page.goto(observation.callbackUrl!, { waitUntil: 'domcontentloaded' });
    const res = await opened.catch(() => null);
    // A script-driven redirect (a service that sends the person on from its own page) gets a moment to start.
    await page.waitForTimeout(500);
    await page.waitForLoadState('domcontentloaded').catch(() => undefined);
    const url = new URL(page.url());
    const issuer = new URL(o.issuer);
    const text = await page.locator('body').innerText().catch(() => '');
    const loginButton = (await (await findButton(page, o.buttonSelector)).count().catch(() => 0)) > 0;
    const atNhsLogin = url.origin === issuer.origin;
    const signInPage = atNhsLogin && url.pathname.endsWith('/sign-in') && (await page.locator('#password').count()) > 0;
    const screenshot = (await page.screenshot({ type: 'png' }).catch(() => Buffer.alloc(0))).toString('base64');
    const status = res?.status() ?? 0;
    return { observation, later: { finalUrl: page.url(), status, text, loginButton, atNhsLogin, signInPage, screenshot, idleFrom, at } };
  } finally {
    await marked.context.close();
  }
}
