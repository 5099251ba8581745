/** A signed-in partner member of an existing organisation, for tests of portal pages. */
import { hashPassword } from '../security/passwords.ts';
import type { TestApp } from './harness.ts';
import { Browser, csrfOf } from './browser.ts';

export async function partnerIn(
  app: TestApp & { origin?: string },
  organisationId: string,
  email: string,
  role: 'partner_admin' | 'developer' = 'developer',
): Promise<Browser> {
  const id = `user-${email}`;
  const password = 'correct horse battery';
  await app.database.db
    .insertInto('partner_user')
    .values({ id, email, name: email, password_hash: await hashPassword(password), email_confirmed_at: Date.now(), created_at: Date.now() })
    .execute();
  await app.database.db
    .insertInto('membership')
    .values({ organisation_id: organisationId, user_id: id, role, created_at: Date.now() })
    .execute();
  const b = new Browser(app.fetch, app.origin ?? 'http://localhost:3000');
  const form = await b.get('/portal/sign-in');
  const home = await b.post('/portal/sign-in', new URLSearchParams({ _csrf: csrfOf(form), email, password }));
  if (!home.url.endsWith('/portal')) throw new Error(`sign-in failed: ${home.url}`);
  return b;
}
