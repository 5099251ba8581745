/**
 * Partner accounts: sign up with email and password, confirm the email by a link, sign in (with lockout),
 * reset a forgotten password. Links carry random secrets; only their hashes are stored, and they expire.
 */
import { randomUUID } from 'node:crypto';
import {
  ACCOUNT_CEILING,
  ADDRESS_CEILING,
  checkPair,
  countFailure,
  countRequest,
  kvDelete,
  kvGet,
  kvPut,
  kvTake,
  overCeiling,
  pairKey,
  throttledNetwork,
  waitText,
  type Db,
  type PartnerUserTable,
} from '../storage/index.ts';
import { hashPassword, verifyPassword } from '../security/passwords.ts';
import { hashSecret, newSecret } from '../security/tokens.ts';
import { FormProblems, OnboardingError } from './errors.ts';
import type { Mailer } from './mailer.ts';
import { isEmailAddress } from '../security/email.ts';

const CONFIRM_TTL_MS = 24 * 60 * 60 * 1000;
const RESET_TTL_MS = 60 * 60 * 1000;

export type PartnerUser = PartnerUserTable;

export interface AccountDeps {
  db: Db;
  mailer: Mailer;
  publicUrl: string;
}

export function normaliseEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!isEmailAddress(email)) {
    throw new OnboardingError('invalid_email', 'Enter an email address in the correct format, like name@example.com', 'email');
  }
  return email;
}

/** NCSC/NIST style: length over composition rules; refuse the obviously weak. */
export function checkPassword(password: string, field = 'password'): void {
  if (password.length < 12) throw new OnboardingError('weak_password', 'Enter a password of at least 12 characters', field);
  if (password.length > 128) throw new OnboardingError('weak_password', 'Enter a password of at most 128 characters', field);
  if (/^(.)\1+$/.test(password) || /password|123456|qwerty/i.test(password)) {
    throw new OnboardingError('weak_password', 'Choose a password that is harder to guess', field);
  }
}

export async function signUp(d: AccountDeps, input: { name: string; email: string; password: string }): Promise<PartnerUser> {
  const problems: OnboardingError[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      problems.push(e);
      return undefined;
    }
  };
  const name = input.name.trim();
  if (!name || name.length > 100) problems.push(new OnboardingError('invalid_name', 'Enter your full name', 'name'));
  const email = attempt(() => normaliseEmail(input.email));
  attempt(() => checkPassword(input.password));
  if (email && (await d.db.selectFrom('partner_user').select('id').where('email', '=', email).executeTakeFirst())) {
    problems.push(
      new OnboardingError('email_taken', 'An account already exists for this email address: sign in, or reset your password', 'email'),
    );
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length || !email) throw new FormProblems(problems);
  const user: PartnerUser = {
    id: randomUUID(),
    email,
    name,
    password_hash: await hashPassword(input.password),
    email_confirmed_at: null,
    created_at: Date.now(),
  };
  await d.db.insertInto('partner_user').values(user).execute();
  await sendConfirmation(d, user);
  return user;
}

async function sendConfirmation(d: AccountDeps, user: PartnerUser) {
  const secret = newSecret();
  await kvPut(d.db, 'confirm-email', hashSecret(secret), { userId: user.id }, CONFIRM_TTL_MS);
  await d.mailer.send({
    to: user.email,
    subject: 'Confirm your email address for the NHS login integration toolkit',
    body: `Hello ${user.name},\n\nConfirm your email address by opening this link within 24 ` +
      `hours:\n\n${d.publicUrl}/portal/confirm/${secret}\n\nIf you did not sign up, ignore this email.\n`,
  });
}

export async function confirmEmail(d: AccountDeps, secret: string): Promise<PartnerUser> {
  const key = hashSecret(secret);
  const found = await kvGet<{ userId: string }>(d.db, 'confirm-email', key);
  if (!found)
    throw new OnboardingError('invalid_link', 'This confirmation link has expired or has already been used. Sign in to get a new one.');
  await kvDelete(d.db, 'confirm-email', key);
  await d.db
    .updateTable('partner_user')
    .set({ email_confirmed_at: Date.now() })
    .where('id', '=', found.userId)
    .where('email_confirmed_at', 'is', null)
    .execute();
  return (await d.db.selectFrom('partner_user').selectAll().where('id', '=', found.userId).executeTakeFirst())!;
}

/** How long an emailed sign-in link works (a guarded sign-in, below). */
const SIGN_IN_LINK_TTL_MS = 15 * 60 * 1000;

/**
 * A password checked for one (account, address) pair under throttling (storage/lockout.ts): refused while the pair
 * must wait; a failure counted for the account and the address too. Thrown as OnboardingError `throttled` (the pair
 * must wait) or `busy`; a check that proves nothing either way (`uncounted`) counts nothing; otherwise whether the
 * password was right, and for a failure the free tries left and the wait it started. `guarded`: the account or the
 * address is past its ceiling, so the face must not tell a right password from a wrong one until a second factor is
 * proven.
 */
export async function throttledCheck<T>(
  db: Db,
  face: 'portal' | 'console',
  account: string,
  address: string,
  check: () => Promise<{ ok: boolean; value: T; uncounted?: boolean }>,
) {
  const accountKey = `${face}:password:${account}`;
  const network = throttledNetwork(address);
  const addressKey = `${face}:address:${network}`;
  const guarded = (await overCeiling(db, addressKey, ADDRESS_CEILING)) || (await overCeiling(db, accountKey, ACCOUNT_CEILING));
  const checked = await checkPair(db, pairKey(accountKey, network), async () => {
    const r = await check();
    return { ok: r.ok, value: r, uncounted: r.uncounted };
  });
  if (checked.refused) {
    const r = checked.refused;
    if (r.reason === 'busy')
      throw new OnboardingError('busy', 'A sign-in to this account is under way: try again in a few seconds.', 'email');
    throw new OnboardingError(
      'throttled',
      `There have been too many failed sign-ins to this account from your network. Wait ${waitText(r.waitMs)} before you try again.`,
      'email',
    );
  }
  if (!checked.value.ok && !checked.uncounted) {
    await countFailure(db, addressKey);
    await countFailure(db, accountKey);
  }
  return { ok: checked.value.ok, value: checked.value.value, left: checked.left, waitMs: checked.waitMs, guarded };
}

/** A failed password's message: the tries left before a wait, or the wait it started. */
export function failedSignIn(r: { left: number; waitMs: number }, wrong: string): OnboardingError {
  return r.waitMs
    ? new OnboardingError(
        'throttled',
        `${wrong}. There have been too many failed sign-ins: wait ${waitText(r.waitMs)} before you try again.`,
        'email',
      )
    : new OnboardingError(
        'bad_credentials',
        `${wrong}. You have ${r.left} more ${r.left === 1 ? 'try' : 'tries'} before you must wait.`,
        'email',
      );
}

/**
 * Signs a partner in from `address`. Past the account's or the network's ceiling (throttledCheck) the answer is the
 * same whether the password was right: `emailed`, and a right one gets a single-use link by email that finishes the
 * sign-in (the mailbox is the second factor), so a crowd of guessers can neither learn the password nor lock the
 * account, and other people on a busy network still sign in.
 */
export async function authenticate(
  d: AccountDeps, emailRaw: string, password: string, address: string, browser = '',
): Promise<{ user: PartnerUser } | { emailed: true }> {
  const email = normaliseEmail(emailRaw);
  const r = await throttledCheck(d.db, 'portal', email, address, async () => {
    const found = await d.db.selectFrom('partner_user').selectAll().where('email', '=', email).executeTakeFirst();
    const ok = (await verifyPassword(password, found?.password_hash)) && found !== undefined;
    return { ok, value: found };
  });
  const user = r.ok ? r.value : undefined;
  if (r.guarded) {
    if (user?.email_confirmed_at) await sendSignInLink(d, user, browser);
    else if (user && (await countRequest(d.db, `portal:confirm-mail:${email}`, 3))) await sendConfirmation(d, user);
    return { emailed: true };
  }
  if (!user) throw failedSignIn(r, 'The email address or password is not right');
  if (!user.email_confirmed_at) {
    // A new link with each sign-in, but at most three per address per 15 minutes: whoever signed up with someone
    // else's address knows the password, and could otherwise flood that inbox.
    if (await countRequest(d.db, `portal:confirm-mail:${email}`, 3)) await sendConfirmation(d, user);
    throw new OnboardingError(
      'email_not_confirmed',
      'Confirm your email address first: open the link we have emailed you (a sign-in sends a new one, up to 3 in 15 minutes)',
      'email',
    );
  }
  return { user };
}

/**
 * `browser`: a secret of the browser that signed in (its cookie), which the link works only with: a link emailed to
 * the attacker's own account, sent on to somebody, must not sign that person in to it (login CSRF).
 */
async function sendSignInLink(d: AccountDeps, user: PartnerUser, browser: string): Promise<void> {
  // At most three links per account in the window: the sign-ins that ask for them need its password.
  if (!(await countRequest(d.db, `portal:sign-in-mail:${user.email}`, 3))) return;
  const secret = newSecret();
  await kvPut(d.db, 'sign-in-link', hashSecret(secret), { userId: user.id, browser: hashSecret(browser) }, SIGN_IN_LINK_TTL_MS);
  await d.mailer.send({
    to: user.email,
    subject: 'Finish signing in to the NHS login integration toolkit',
    body: `Hello ${user.name},\n\nThere have been many failed sign-ins to your account or from your network, so we ask you to finish ` +
      `signing in from this email. Open this link within 15 minutes:\n\n${d.publicUrl}/portal/sign-in/continue/${secret}\n\nIf ` +
      `you did not just sign in, someone else knows your password: reset it from the sign-in page.\n`,
  });
}

/** The emailed sign-in link: single use; the account it names signs in. */
export async function continueSignIn(d: AccountDeps, secret: string, browser: string | undefined): Promise<PartnerUser> {
  const key = hashSecret(secret);
  const waiting = await kvGet<{ userId: string; browser: string }>(d.db, 'sign-in-link', key);
  if (waiting && waiting.browser !== hashSecret(browser ?? '')) {
    throw new OnboardingError(
      'invalid_link',
      'Open this link in the browser you signed in with (on this device it does not work). Or sign in again here.',
    );
  }
  const found = waiting && (await kvTake<{ userId: string }>(d.db, 'sign-in-link', key));
  if (!found) throw new OnboardingError('invalid_link', 'This sign-in link has expired or has already been used. Sign in again.');
  const user = await d.db.selectFrom('partner_user').selectAll().where('id', '=', found.userId).executeTakeFirst();
  if (!user) throw new OnboardingError('invalid_link', 'This sign-in link has expired or has already been used. Sign in again.');
  return user;
}

/** Always behaves the same whether or not the account exists, so it reveals nothing. */
export async function requestPasswordReset(d: AccountDeps, emailRaw: string): Promise<void> {
  const email = normaliseEmail(emailRaw);
  const user = await d.db.selectFrom('partner_user').selectAll().where('email', '=', email).executeTakeFirst();
  if (!user) return;
  // At most three reset emails per address per 15 minutes, whoever asks: no flooding someone's inbox.
  if (!(await countRequest(d.db, `portal:reset-mail:${email}`, 3))) return;
  const secret = newSecret();
  await kvPut(d.db, 'reset-password', hashSecret(secret), { userId: user.id }, RESET_TTL_MS);
  await d.mailer.send({
    to: user.email,
    subject: 'Reset your password for the NHS login integration toolkit',
    body: `Hello ${user.name},\n\nReset your password by opening this link within an ` +
      `hour:\n\n${d.publicUrl}/portal/reset-password/${secret}\n\nIf you did ` +
      `not ask for this, ignore this email: your password has not changed.\n`,
  });
}

export async function resetPassword(d: AccountDeps, secret: string, password: string): Promise<void> {
  const key = hashSecret(secret);
  const found = await kvGet<{ userId: string }>(d.db, 'reset-password', key);
  if (!found) throw new OnboardingError('invalid_link', 'This reset link has expired or has already been used. Ask for a new one.');
  checkPassword(password);
  await kvDelete(d.db, 'reset-password', key);
  // Resetting proves control of the mailbox, so it confirms the address too; every session is ended.
  await d.db
    .updateTable('partner_user')
    .set({ password_hash: await hashPassword(password) })
    .where('id', '=', found.userId)
    .execute();
  await d.db
    .updateTable('partner_user')
    .set({ email_confirmed_at: Date.now() })
    .where('id', '=', found.userId)
    .where('email_confirmed_at', 'is', null)
    .execute();
  await d.db.deleteFrom('web_session').where('user_id', '=', found.userId).execute();
}
