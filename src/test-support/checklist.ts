/**
 * Works through every journey on a sandpit client's checklist (for a P9 client), as a partner would in the
 * sandpit, so that tests of what comes after (the integration request) start from real evidence.
 */
import * as oidc from 'openid-client';
import type { TestApp } from './harness.ts';
import { Browser } from './browser.ts';
import { login, signIn, REDIRECT_URI, type TestRp } from './rp.ts';

const PDS = {
  nhs_number: '9686368450',
  family_name: 'Weir',
  'birthdate-day': '14',
  'birthdate-month': '6',
  'birthdate-year': '1954',
  postcode: 'HD1 4JP',
};

async function finish(rp: TestRp, s: Awaited<ReturnType<typeof signIn>>) {
  let page = s.page;
  for (let i = 0; i < 6 && page.status !== 0; i++) {
    const step = new URL(page.url).pathname.split('/').pop();
    if (step === 'prove-identity')
      page = await s.browser.post(page.url, page.text.includes('id="nhs_number"') ? PDS : { document: 'passport' });
    else if (step === 'otp') page = await s.browser.post(page.url, { otp: '190696' });
    else if (step === 'consent') page = await s.browser.post(page.url, {});
    else throw new Error(`stuck at ${page.url}`);
  }
  return oidc.authorizationCodeGrant(rp.config, new URL(page.url), { expectedState: s.state, expectedNonce: s.nonce });
}

export async function completeSandpitChecklist(app: TestApp, rp: TestRp): Promise<void> {
  const vtr = ['P9.Cp.Cd'];
  const p9 = await login(app, rp, { vtr, scope: 'openid profile email' });
  await oidc.fetchUserInfo(rp.config, p9.tokens.access_token, p9.claims.sub);
  await oidc.refreshTokenGrant(rp.config, p9.tokens.refresh_token!);
  const settings = new URL('/sandpit/settings', app.config.publicUrl);
  await app.fetch(settings.href, {
    headers: { cookie: p9.browser.cookieHeader(settings), referer: `${new URL(REDIRECT_URI).origin}/account` },
  });
  await finish(rp, await signIn(app, rp, { vtr, email: 'testuserlive+p5@demo.signin.nhs.uk', stopAt: 'prove-identity' }));
  const b = new Browser(app.fetch, new URL(app.config.publicUrl).origin);
  const start = await signIn(app, rp, { vtr, browser: b, stopAt: 'sign-in' });
  const register = await b.get(start.page.url.replace(/sign-in$/, 'register'));
  const registered = await b.post(register.url, { email: `new.${Date.now()}@example.org`, password: 'Secret123', phone: '07700900123' });
  await finish(rp, { ...start, page: registered });
  await signIn(app, rp, { vtr, decline: true });
  await signIn(app, rp, { vtr, scope: 'openid landline' });
  await app.events.flush(); // the protocol record is written in batches
}
