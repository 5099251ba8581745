/**
 * Partner accounts: sign up with email and password, confirm the email by a link, sign in (with lockout),
 * reset a forgotten password. Links carry random secrets; only their hashes are stored, and they expire.
 */
import { randomUUID } from 'node:crypto';
import { checkAttempt, countRequest, kvDelete, kvGet, kvPut, LOCKOUT_MS, MAX_FAILURES, type Db, type PartnerUserTable } from '../storage/index.ts';
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
    problems.push(new OnboardingError('email_taken', 'An account already exists for this email address: sign in, or reset your password', 'email'));
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length || !email) throw new FormProblems(problems);
  const user: PartnerUser = { id: randomUUID(), email, name, password_hash: await hashPassword(input.password), email_confirmed_at: null, created_at: Date.now() };
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
    body: `Hello ${user.name},\n\nConfirm your email address by opening this link within 24 hours:\n\n${d.publicUrl}/portal/confirm/${secret}\n\nIf you did not sign up, ignore this email.\n`,
  });
}

export async function confirmEmail(d: AccountDeps, secret: string): Promise<PartnerUser> {
  const key = hashSecret(secret);
  const found = await kvGet<{ userId: string }>(d.db, 'confirm-email', key);
  if (!found) throw new OnboardingError('invalid_link', 'This confirmation link has expired or has already been used. Sign in to get a new one.');
  await kvDelete(d.db, 'confirm-email', key);
  await d.db.updateTable('partner_user').set({ email_confirmed_at: Date.now() }).where('id', '=', found.userId).where('email_confirmed_at', 'is', null).execute();
  return (await d.db.selectFrom('partner_user').selectAll().where('id', '=', found.userId).executeTakeFirst())!;
}

/**
 * A sign-in (portal or console) counted against the address it came from, across accounts: a wrong password or a
 * locked account counts as a failure, anything else only ends the check. Undefined, without signing in, when the
 * address is refused; the sign-in's own errors are thrown as they are.
 */
export async function signInFromAddress<T>(db: Db, key: string, max: number, signIn: () => Promise<T>): Promise<T | undefined> {
  const checked = await checkAttempt<{ signedIn: T } | { refused: OnboardingError }>(db, key, max, async () => {
    try {
      return { outcome: 'released' as const, value: { signedIn: await signIn() } };
    } catch (e) {
      if (e instanceof OnboardingError && (e.code === 'bad_credentials' || e.code === 'locked_out')) return { outcome: 'failed' as const, value: { refused: e } };
      throw e;
    }
  });
  if (checked.refused) return undefined;
  if ('refused' in checked.value) throw checked.value.refused;
  return checked.value.signedIn;
}

export async function authenticate(d: AccountDeps, emailRaw: string, password: string): Promise<PartnerUser> {
  const email = normaliseEmail(emailRaw);
  const lockKey = `portal:password:${email}`;
  const checked = await checkAttempt(d.db, lockKey, MAX_FAILURES, async () => {
    const found = await d.db.selectFrom('partner_user').selectAll().where('email', '=', email).executeTakeFirst();
    const ok = await verifyPassword(password, found?.password_hash);
    return ok && found ? { outcome: 'succeeded' as const, value: found } : { outcome: 'failed' as const, value: undefined };
  });
  if (checked.refused) {
    throw new OnboardingError('locked_out', checked.refused.locked ? `You have entered your password incorrectly too many times. Try again in ${LOCKOUT_MS / 60000} minutes, or reset your password.` : 'This account is signing in elsewhere at this moment: try again in a few seconds.', 'password');
  }
  const user = checked.value;
  if (!user) {
    throw new OnboardingError(checked.left === 0 ? 'locked_out' : 'bad_credentials', checked.left === 0
      ? `You have entered your password incorrectly too many times. Try again in ${LOCKOUT_MS / 60000} minutes, or reset your password.`
      : 'The email address or password is not right', 'email');
  }
  if (!user.email_confirmed_at) {
    // A new link with each sign-in, but at most three per address per 15 minutes: whoever signed up with someone
    // else's address knows the password, and could otherwise flood that inbox.
    if (await countRequest(d.db, `portal:confirm-mail:${email}`, 3)) await sendConfirmation(d, user);
    throw new OnboardingError('email_not_confirmed', 'Confirm your email address first: open the link we have emailed you (a sign-in sends a new one, up to 3 in 15 minutes)', 'email');
  }
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
    body: `Hello ${user.name},\n\nReset your password by opening this link within an hour:\n\n${d.publicUrl}/portal/reset-password/${secret}\n\nIf you did not ask for this, ignore this email: your password has not changed.\n`,
  });
}

export async function resetPassword(d: AccountDeps, secret: string, password: string): Promise<void> {
  const key = hashSecret(secret);
  const found = await kvGet<{ userId: string }>(d.db, 'reset-password', key);
  if (!found) throw new OnboardingError('invalid_link', 'This reset link has expired or has already been used. Ask for a new one.');
  checkPassword(password);
  await kvDelete(d.db, 'reset-password', key);
  // Resetting proves control of the mailbox, so it confirms the address too; every session is ended.
  await d.db.updateTable('partner_user').set({ password_hash: await hashPassword(password) }).where('id', '=', found.userId).execute();
  await d.db.updateTable('partner_user').set({ email_confirmed_at: Date.now() }).where('id', '=', found.userId).where('email_confirmed_at', 'is', null).execute();
  await d.db.deleteFrom('web_session').where('user_id', '=', found.userId).execute();
}
