/**
 * The browser side of a conformance test: Debian's Chromium (playwright-core, never a downloaded browser)
 * starts at the service's start URL, presses its NHS login button, goes through the toolkit's journey pages
 * as a persona, and observes where the service then leaves the person: final URL, status, text, screenshot.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Persona } from './plan.ts';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** playwright-core is loaded only when a run starts: the server does not carry it otherwise. */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
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

const PASSWORD = 'Passw0rd$1';
const OTP = '190696';
/** A test PDS record any new user may prove their identity with (integration-pds-patients.csv). */
const PDS = { nhsNumber: '9686368450', familyName: 'Weir', birthdate: '1954-06-14', postcode: 'HD1 4JP' };

/** A service on this machine may use a self-signed certificate (local development); anywhere else TLS must verify. */
function selfSignedOk(startUrl: string): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(startUrl).hostname);
}

export function personaFor(env: string, persona: Persona): PersonaDetails {
  const pack = (n: string) => ({ email: `testuserlive${n}@demo.signin.nhs.uk`, password: PASSWORD, otp: OTP, pds: PDS });
  if (env === 'integration') return { P9: pack('+1'), P5: pack('+2'), P0: pack('+3'), 'im1-linked': pack('+1'), 'im1-unlinked': pack('+2') }[persona];
  const fresh = { email: `conformance.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 8)}@example.org`, password: 'Conformance1', otp: OTP, pds: PDS, register: true };
  return { P9: pack(''), P5: pack('+p5'), P0: fresh, 'im1-linked': pack(''), 'im1-unlinked': pack('+1') }[persona];
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
}

/** The NHS login button by its brand-guidance labels ("Continue to NHS login", or "Continue" on NHS services). */
const BUTTON = /^\s*(continue (to|with) nhs login|(sign|log) ?in with nhs login|nhs login)\s*$/i;

async function findButton(page: Page, selector: string | undefined) {
  if (selector) return page.locator(selector).first();
  // By accessible name, as a screen reader would announce it (the NHS logo beside the words is aria-hidden).
  return page.getByRole('link', { name: BUTTON }).or(page.getByRole('button', { name: BUTTON })).first();
}

/** A fresh browser context carrying the run's mark for the issuer, so no test inherits another's cookies. */
async function markedContext(browser: Browser, o: DriveOptions): Promise<BrowserContext> {
  const context = await browser.newContext({ ignoreHTTPSErrors: selfSignedOk(o.startUrl) });
  const issuer = new URL(o.issuer);
  await context.addCookies([{ name: o.mark.name, value: o.mark.value, domain: issuer.hostname, path: issuer.pathname || '/', httpOnly: true, sameSite: 'Lax' }]);
  // Web fonts never change a verdict, and where the NHS font host (assets.nhs.uk) is unreachable each page
  // would wait for the font requests to time out (about 5 s a page without internet access).
  await context.route(/\.woff2?(\?|$)/, (route) => route.abort());
  return context;
}

/** One journey in a fresh browser context. */
export async function drive(browser: Browser, o: DriveOptions): Promise<Observation> {
  const context = await markedContext(browser, o);
  try {
    return await journey(context, o, new URL(o.issuer));
  } finally {
    await context.close();
  }
}

async function journey(context: BrowserContext, o: DriveOptions, issuer: URL): Promise<Observation> {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  let status = 0;
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) status = r.status();
  });
  const steps: string[] = [];
  const observe = async (problem?: string): Promise<Observation> => {
    await page.waitForLoadState('load', { timeout: 2000 }).catch(() => undefined); // styles, for the screenshot
    const text = await page.locator('body').innerText().catch(() => '');
    const links = await page.locator('a[href]').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href)).catch(() => [] as string[]);
    const loginButton = (await (await findButton(page, o.buttonSelector)).count().catch(() => 0)) > 0;
    const screenshot = (await page.screenshot({ type: 'png' }).catch(() => Buffer.alloc(0))).toString('base64');
    return { steps, finalUrl: page.url(), status, text, loginButton, links, screenshot, ...(problem ? { problem } : {}) };
  };

  try {
    await page.goto(o.startUrl, { waitUntil: 'domcontentloaded' });
  } catch (e) {
    return observe(`the start URL ${o.startUrl} could not be opened (${(e as Error).message.split('\n')[0]})`);
  }
  const button = await findButton(page, o.buttonSelector);
  if (!(await button.count())) return observe(`no NHS login button was found on ${o.startUrl}${o.buttonSelector ? ` (selector ${o.buttonSelector})` : ''}`);
  let toIssuer = false;
  page.on('request', (r) => {
    if (r.url().startsWith(o.issuer)) toIssuer = true;
  });
  await Promise.all([page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 10_000 }).then(() => page.waitForLoadState('domcontentloaded')).catch(() => undefined), button.click()]);
  if (!toIssuer) return observe('pressing the NHS login button did not lead to NHS login');

  const p = o.persona;
  const [year, month, day] = p.pds.birthdate.split('-');
  for (let i = 0; i < 12 && new URL(page.url()).origin === issuer.origin; i++) {
    const step = new URL(page.url()).pathname.split('/').pop() ?? '';
    steps.push(step);
    // Each form posts and the next document (on the toolkit, or back at the service) commits. (Waiting for
    // the 'load' event instead costs seconds: it also waits for the favicon and module scripts.)
    const next = () => page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 10_000 })
      .then(() => page.waitForLoadState('domcontentloaded')).catch(() => undefined);
    if (step === 'sign-in' && p.register && !steps.includes('register')) {
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
      await Promise.all([next(), page.click('button:has-text("Continue")')]);
    } else if (step === 'consent' && o.decline) {
      await Promise.all([next(), page.click('button:has-text("I do not agree")')]);
    } else if (step === 'decline') {
      await Promise.all([next(), page.click('button:has-text("Continue without sharing")')]);
    } else if (step === 'consent') {
      await Promise.all([next(), page.click('button:has-text("Continue")')]);
    } else {
      return observe(`the journey stopped on the toolkit page "${step}"`);
    }
  }
  if (new URL(page.url()).origin === issuer.origin) return observe(`the journey did not return to the service (steps: ${steps.join(' > ')})`);
  // The service's callback may redirect again (to its signed-in page): HTTP redirects end in one load;
  // a brief pause lets a script-driven redirect start before the page is judged.
  await page.waitForTimeout(100);
  await page.waitForLoadState('domcontentloaded').catch(() => undefined);
  return observe();
}

/** Follows a link on the service's page to the settings page, in the same browser session. */
export async function followSettings(browser: Browser, o: DriveOptions, settingsUrl: string): Promise<{ observation: Observation; settings?: { status: number; text: string } }> {
  const context = await markedContext(browser, o);
  try {
    const observation = await journey(context, o, new URL(o.issuer));
    const link = observation.links.find((h) => h.split(/[?#]/)[0] === settingsUrl);
    if (!link) return { observation };
    const page = context.pages()[0]!;
    const res = await page.goto(link, { waitUntil: 'load' });
    return { observation, settings: { status: res?.status() ?? 0, text: await page.locator('body').innerText() } };
  } finally {
    await context.close();
  }
}
