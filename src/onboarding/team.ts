/**
 * NHS login team accounts for the console: created from the command line with a one-time set-up link (no
 * default password anywhere), then password plus a TOTP second factor (RFC 6238) at every sign-in.
 */
import { randomUUID } from 'node:crypto';
import { generateSecret, generateURI, verify } from 'otplib';
import { countFailure, kvDelete, kvGet, kvPut, overCeiling, type Db, type TeamUserTable } from '../storage/index.ts';
import { hashPassword, verifyPassword } from '../security/passwords.ts';
import { hashSecret, newSecret } from '../security/tokens.ts';
import { checkPassword, failedSignIn, normaliseEmail, throttledCheck } from './accounts.ts';
import { appendAudit } from './audit.ts';
import { OnboardingError } from './errors.ts';

const SETUP_TTL_MS = 24 * 60 * 60 * 1000;
export type TeamUser = TeamUserTable;

/** Creates a team admin and returns the one-time set-up secret (for the link the CLI prints). */
export async function createTeamAdmin(db: Db, emailRaw: string): Promise<{ user: TeamUser; setupSecret: string }> {
  return addTeamMember(db, { email: 'cli' }, emailRaw, 'team_admin');
}

/** A new team member with a one-time set-up link (24 hours) where they choose a password and enrol TOTP. */
export async function addTeamMember(
  db: Db,
  by: { email: string },
  emailRaw: string,
  role: string,
): Promise<{ user: TeamUser; setupSecret: string }> {
  const email = normaliseEmail(emailRaw);
  if (role !== 'team_admin' && role !== 'delivery_manager')
    throw new OnboardingError('invalid_role', 'Choose a role: team admin or delivery manager', 'role');
  if (await db.selectFrom('team_user').select('id').where('email', '=', email).executeTakeFirst()) {
    throw new OnboardingError('email_taken', `${email} is already a team member`, 'email');
  }
  const user: TeamUser = {
    id: randomUUID(),
    email,
    role,
    password_hash: null,
    totp_secret: null,
    totp_last_step: null,
    created_at: Date.now(),
  };
  await db.insertInto('team_user').values(user).execute();
  const setupSecret = newSecret();
  await kvPut(db, 'team-setup', hashSecret(setupSecret), { userId: user.id, totpSecret: generateSecret() }, SETUP_TTL_MS);
  await appendAudit(db, {
    actor: by.email,
    action: role === 'team_admin' ? 'team.create_admin' : 'team.add_member',
    subject: email,
    details: { role },
  });
  return { user, setupSecret };
}

/** Team admins change roles and remove members; the team always keeps an admin. Audited; sessions end. */
export async function changeTeamMember(
  db: Db,
  by: { email: string },
  userId: string,
  change: { role?: string; remove?: boolean },
): Promise<void> {
  const members = await db.selectFrom('team_user').select(['id', 'email', 'role']).execute();
  const target = members.find((m) => m.id === userId);
  if (!target) throw new OnboardingError('not_found', 'There is no such team member');
  if (change.role !== undefined && change.role !== 'team_admin' && change.role !== 'delivery_manager')
    throw new OnboardingError('invalid_role', 'Choose a role: team admin or delivery manager', 'role');
  const losesAdmin = target.role === 'team_admin' && (change.remove || change.role === 'delivery_manager');
  if (losesAdmin && members.filter((m) => m.role === 'team_admin').length === 1)
    throw new OnboardingError('last_admin', 'The team needs at least one team admin: make someone else an admin first');
  if (change.remove) {
    await db.deleteFrom('team_user').where('id', '=', userId).execute();
    await db.deleteFrom('web_session').where('kind', '=', 'console').where('user_id', '=', userId).execute();
    await appendAudit(db, { actor: by.email, action: 'team.remove_member', subject: target.email });
    return;
  }
  await db
    .updateTable('team_user')
    .set({ role: change.role as TeamUser['role'] })
    .where('id', '=', userId)
    .execute();
  await appendAudit(db, {
    actor: by.email,
    action: 'team.change_role',
    subject: target.email,
    details: { from: target.role, to: change.role },
  });
}

/** Gives a partner a delivery manager from the team (or none), audited. */
export async function assignDeliveryManager(
  db: Db,
  by: { email: string },
  organisationId: string,
  managerId: string | null,
): Promise<void> {
  if (managerId && !(await db.selectFrom('team_user').select('id').where('id', '=', managerId).executeTakeFirst()))
    throw new OnboardingError('not_found', 'Choose a team member', 'manager');
  await db.updateTable('organisation').set({ delivery_manager: managerId }).where('id', '=', organisationId).execute();
  await appendAudit(db, { actor: by.email, action: 'partner.delivery_manager', subject: organisationId, details: { manager: managerId } });
}

export function teamMembers(db: Db) {
  return db.selectFrom('team_user').select(['id', 'email', 'role', 'created_at', 'password_hash']).orderBy('email').execute()
    .then((rows) => rows.map(({ password_hash, ...r }) => ({ ...r, setUp: password_hash !== null })));
}

export async function setupDetails(db: Db, secret: string): Promise<{ email: string; totpSecret: string; otpauth: string }> {
  const found = await kvGet<{ userId: string; totpSecret: string }>(db, 'team-setup', hashSecret(secret));
  if (!found) throw new OnboardingError('invalid_link', 'This set-up link has expired or has been used. Ask a team admin for a new one.');
  const user = await db.selectFrom('team_user').select('email').where('id', '=', found.userId).executeTakeFirstOrThrow();
  return {
    email: user.email,
    totpSecret: found.totpSecret,
    otpauth: generateURI({ secret: found.totpSecret, label: user.email, issuer: 'NHS login integration toolkit' }),
  };
}

/**
 * The time step of the code the account last used to finish its set-up, kept for a few minutes (a code is valid for
 * up to a minute and a half either side): a person who goes straight from set-up to sign-in often types that code
 * again, which is refused (each code works once) but is not a guess, so it is not counted as a failed sign-in.
 */
const SETUP_CODE = 'team-setup-code';
const SETUP_CODE_TTL_MS = 5 * 60 * 1000;

/** Whether the code is accepted (and then it is used up), or refused: `used` if it is the one already used. */
async function acceptCode(
  db: Db,
  user: { id: string; totp_last_step: number | null },
  secret: string,
  code: string,
): Promise<'ok' | 'used' | 'wrong'> {
  if (!/^\d{6}$/.test(code)) return 'wrong';
  const result = (await verify({ secret, token: code, epochTolerance: 30 })) as { valid: boolean; timeStep?: number };
  if (!result.valid || result.timeStep === undefined) return 'wrong';
  if (user.totp_last_step !== null && result.timeStep <= user.totp_last_step)
    return result.timeStep === user.totp_last_step ? 'used' : 'wrong'; // each code once
  // Each code once, also for two sign-ins at the same moment (the row read above is from before the password hash):
  // the step is taken by a conditional update, which one of them wins.
  const taken = await db.updateTable('team_user').set({ totp_last_step: result.timeStep }).where('id', '=', user.id)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', result.timeStep!)])).executeTakeFirst();
  return taken.numUpdatedRows === 1n ? 'ok' : 'used';
}

export async function completeSetup(db: Db, secret: string, password: string, code: string): Promise<TeamUser> {
  const key = hashSecret(secret);
  const found = await kvGet<{ userId: string; totpSecret: string }>(db, 'team-setup', key);
  if (!found) throw new OnboardingError('invalid_link', 'This set-up link has expired or has been used. Ask a team admin for a new one.');
  checkPassword(password);
  const user = await db.selectFrom('team_user').selectAll().where('id', '=', found.userId).executeTakeFirstOrThrow();
  if ((await acceptCode(db, user, found.totpSecret, code.trim())) !== 'ok') {
    throw new OnboardingError('bad_credentials', 'Enter the 6-digit code your authenticator app shows now', 'code');
  }
  await db
    .updateTable('team_user')
    .set({ password_hash: await hashPassword(password), totp_secret: found.totpSecret })
    .where('id', '=', user.id)
    .execute();
  const used = await db.selectFrom('team_user').select('totp_last_step').where('id', '=', user.id).executeTakeFirstOrThrow();
  await kvPut(db, SETUP_CODE, user.id, { step: used.totp_last_step }, SETUP_CODE_TTL_MS);
  await kvDelete(db, 'team-setup', key);
  await appendAudit(db, { actor: user.email, action: 'team.setup_complete', subject: user.email });
  return (await db.selectFrom('team_user').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow());
}

/**
 * Wrong codes after the right password, for one account from any address in the window (storage/lockout.ts), after which
 * only a browser the account has signed in from before may sign in to it. The per-pair waits alone let someone who has
 * the password guess codes from many addresses at once (with a thousand, a 6-digit code in about a day); only the password's
 * holder can count these, so nobody without it can keep the account's owner out.
 */
export const CODE_CEILING = 10;
/** How long a browser the account signed in from stays known to it. */
const KNOWN_BROWSER_MS = 30 * 24 * 60 * 60 * 1000;
const codeKey = (email: string) => `console:code:${email}`;

/** Marks the browser a team member has just signed in from as known to the account: the value for its cookie. */
export async function rememberBrowser(db: Db, userId: string): Promise<string> {
  const token = newSecret();
  await kvPut(db, 'console-browser', hashSecret(token), userId, KNOWN_BROWSER_MS);
  return token;
}

const knownBrowser = async (db: Db, userId: string, token: string | undefined) =>
  typeof token === 'string' && token.length <= 200 && (await kvGet<string>(db, 'console-browser', hashSecret(token))) === userId;

/**
 * Both factors at once: the password and the current code, with one answer for any failure (telling which was wrong
 * would confirm a guessed password); throttled per (account, address) like the portal, never locked for everybody; past
 * CODE_CEILING wrong codes, refused to a browser the account has not signed in from (`browser`: its cookie), which the
 * password's holder alone is told. Every attempt is audited, with which factor failed.
 */
export async function authenticateTeam(
  db: Db, emailRaw: string, password: string, code: string, address: string, browser?: string,
): Promise<TeamUser> {
  const email = normaliseEmail(emailRaw);
  type Failed = 'password' | 'code' | 'setup_code' | 'unknown_browser';
  type Outcome = { user: TeamUser; failed?: undefined } | { user?: undefined; failed: Failed };
  const checked = await throttledCheck<Outcome>(db, 'console', email, address, async () => {
    const user = await db.selectFrom('team_user').selectAll().where('email', '=', email).executeTakeFirst();
    if (!(await verifyPassword(password, user?.password_hash)) || !user?.totp_secret) return { ok: false, value: { failed: 'password' } };
    // The code is not even checked, so a braked account answers no guesses.
    if ((await overCeiling(db, codeKey(email), CODE_CEILING)) && !(await knownBrowser(db, user.id, browser)))
      return { ok: false, uncounted: true, value: { failed: 'unknown_browser' } };
    const accepted = await acceptCode(db, user, user.totp_secret, code.trim());
    if (accepted === 'used' && (await kvGet<{ step: number }>(db, SETUP_CODE, user.id))?.step === user.totp_last_step) {
      return { ok: false, uncounted: true, value: { failed: 'setup_code' } };
    }
    if (accepted !== 'ok') return { ok: false, value: { failed: 'code' } };
    return { ok: true, value: { user } };
  });
  // Said only to whoever has both the password and the code that has just finished the set-up: the account's owner.
  if (checked.value.failed === 'setup_code') {
    throw new OnboardingError(
      'code_used',
      'That code finished your set-up, and each code works once: wait for your app to show a new code, then enter it',
      'code',
    );
  }
  if (checked.value.failed) {
    await appendAudit(db, { actor: email, action: 'console.sign_in_failed', subject: email, details: { reason: checked.value.failed } });
    if (checked.value.failed === 'code') await countFailure(db, codeKey(email));
    if (checked.value.failed === 'unknown_browser') {
      throw new OnboardingError(
        'throttled',
        'There have been too many wrong codes for this account. Sign in from a browser you have signed in from before, '
          + 'or wait 15 minutes and try again.',
        'email',
      );
    }
    throw failedSignIn(checked, 'The email address, password or code is not right (a code works once: enter the one your app shows now)');
  }
  const { user } = checked.value;
  await appendAudit(db, { actor: email, action: 'console.sign_in', subject: email });
  return user;
}
