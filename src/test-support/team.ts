/** A team member, set up through their one-time link and signed in to the console with a TOTP code. */
import { generate } from 'otplib';
import { addTeamMember } from '../onboarding/index.ts';
import type { TestApp } from './harness.ts';
import { Browser, csrfOf, type Page } from './browser.ts';

export async function signInToConsole(
  app: TestApp & { origin?: string },
  email: string,
  role: 'team_admin' | 'delivery_manager',
): Promise<{ b: Browser; home: Page }> {
  const { setupSecret } = await addTeamMember(app.database.db, { email: 'cli' }, email, role);
  const b = new Browser(app.fetch, app.origin ?? 'http://localhost:3000');
  const setup = await b.get(`/console/setup/${setupSecret}`);
  const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(setup.text)![1]!.replaceAll(' ', '');
  await b.post(
    setup.url,
    new URLSearchParams({ _csrf: csrfOf(setup), password: 'team console passphrase', code: await generate({ secret }) }),
  );
  const form = await b.get('/console/sign-in');
  // The set-up used this time step's code, and each code is accepted once: sign in with the next one.
  const home = await b.post(
    '/console/sign-in',
    new URLSearchParams({
      _csrf: csrfOf(form),
      email,
      password: 'team console passphrase',
      code: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }),
    }),
  );
  if (!home.url.endsWith('/console')) throw new Error(`console sign-in failed: ${home.url}`);
  return { b, home };
}
