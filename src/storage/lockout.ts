/**
 * Sign-in throttling and rate limits, shared by every instance (one row per key, updated atomically).
 *
 * Throttling is designed so that an attacker slows themselves, not the person they are attacking:
 * - Per (account, address) pair: a few free failures, then each further failure makes that pair wait before its next
 *   check, the wait doubling (`checkPair`). Someone guessing from one address waits; the account's owner, on another
 *   address, does not. Each check is begun before the slow verification, in one atomic upsert, so a burst of
 *   parallel guesses from one pair gets one check at a time.
 * - Per account across addresses, and per address across accounts: failures are counted (`countFailure`) and, past a
 *   ceiling, the faces stop saying whether a password alone was right: a sign-in must also prove its second factor
 *   (a security code, an authenticator code, an emailed link). A correct password with its second factor is never
 *   refused, so a crowd of addresses cannot lock an account, and a shared network cannot lock out its other users.
 * - An attempt that proves nothing either way (`uncounted`: the console's code that has just finished an account's set-up,
 *   typed again at its first sign-in) is neither a success nor a failure: the pair's count stays as it was.
 * Rate limits (requests per address or organisation) simply count (`countRequest`).
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';

/** The window counters live for: 15 minutes after the latest failure. */
export const LOCKOUT_MS = 15 * 60 * 1000;
/** Failures a pair may make before each further one makes it wait. */
export const FREE_FAILURES = 5;
/** The first wait; each further failure doubles it, up to the window. */
const FIRST_WAIT_MS = 30_000;
/** Failures on one account from all addresses, after which a password is judged only with the second factor. */
export const ACCOUNT_CEILING = 20;
/** Failures from one address across accounts (password spraying, or a busy shared network), likewise. */
export const ADDRESS_CEILING = 30;

/** Why a pair's check did not run: it must wait `waitMs`, or another check of the same pair is under way. */
export type Refusal = { reason: 'wait'; waitMs: number } | { reason: 'busy' };

export interface Checked<T> {
  value: T;
  /** After a failure: free failures left (0 once waiting), and the wait it imposed (0 while free). */
  left: number;
  waitMs: number;
  /** The check was neither a success nor a failure, and nothing was counted. */
  uncounted?: boolean;
}

const waitAfter = (failures: number) => (failures <= FREE_FAILURES ? 0 : Math.min(LOCKOUT_MS, FIRST_WAIT_MS * 2 ** (failures - FREE_FAILURES - 1)));

/**
 * One check of a secret by an (account, address) pair, under `key`: begun before it runs, ended with whether it
 * succeeded (a success forgets the pair's failures), and released if it throws, so that nothing stays under way.
 */
export async function checkPair<T>(db: Db, key: string, check: () => Promise<{ ok: boolean; value: T; uncounted?: boolean }>): Promise<{ refused: Refusal } | ({ refused?: undefined } & Checked<T>)> {
  const now = Date.now();
  const live = sql<boolean>`attempt_counter.expires_at > ${now}`;
  const row = await db
    .insertInto('attempt_counter')
    .values({ key, count: 0, inflight: 1, expires_at: now + LOCKOUT_MS, not_before: null })
    .onConflict((oc) => oc.column('key').doUpdateSet({
      count: sql<number>`case when ${live} then attempt_counter.count else 0 end`,
      inflight: sql<number>`case when ${live} then attempt_counter.inflight + 1 else 1 end`,
      not_before: sql<number | null>`case when ${live} then attempt_counter.not_before else null end`,
      expires_at: sql<number>`case when ${live} then attempt_counter.expires_at else ${now + LOCKOUT_MS} end`,
    }))
    .returning(['inflight', 'not_before'])
    .executeTakeFirstOrThrow();
  const end = (set: Record<string, unknown>) => db.updateTable('attempt_counter')
    .set({ ...set, inflight: sql<number>`case when inflight > 0 then inflight - 1 else 0 end` }).where('key', '=', key);
  const notBefore = row.not_before === null ? 0 : Number(row.not_before);
  if (notBefore > now || Number(row.inflight) > 1) {
    await end({}).execute();
    return { refused: notBefore > now ? { reason: 'wait', waitMs: notBefore - now } : { reason: 'busy' } };
  }
  let result: { ok: boolean; value: T; uncounted?: boolean };
  try {
    result = await check();
  } catch (e) {
    await end({}).execute();
    throw e;
  }
  if (result.ok) {
    await end({ count: 0, not_before: null }).execute();
    return { value: result.value, left: FREE_FAILURES, waitMs: 0 };
  }
  if (result.uncounted) {
    await end({}).execute();
    return { value: result.value, left: FREE_FAILURES, waitMs: 0, uncounted: true };
  }
  // The failure and the wait it imposes, counted atomically with it (so the one that starts a wait says so).
  const failed = await end({ count: sql<number>`count + 1`, expires_at: Date.now() + LOCKOUT_MS }).returning(['count']).executeTakeFirst();
  const failures = Number(failed?.count ?? FREE_FAILURES + 1);
  const waitMs = waitAfter(failures);
  if (waitMs) await db.updateTable('attempt_counter').set({ not_before: Date.now() + waitMs }).where('key', '=', key).execute();
  return { value: result.value, left: Math.max(0, FREE_FAILURES - failures), waitMs };
}

/** Counts one failure under `key` (an account across addresses, an address across accounts) in the window. */
export async function countFailure(db: Db, key: string): Promise<void> {
  await countRequest(db, key, Number.MAX_SAFE_INTEGER);
}

/** Whether `key` has counted `ceiling` failures in the window. */
export async function overCeiling(db: Db, key: string, ceiling: number): Promise<boolean> {
  const row = await db.selectFrom('attempt_counter').select(['count', 'expires_at']).where('key', '=', key).executeTakeFirst();
  return Boolean(row && Number(row.expires_at) > Date.now() && Number(row.count) >= ceiling);
}

/** Rate limits: counts one request under `key`; false once `max` are counted in the window (15 minutes from the first). */
export async function countRequest(db: Db, key: string, max: number): Promise<boolean> {
  const now = Date.now();
  const live = sql<boolean>`attempt_counter.expires_at > ${now}`;
  const row = await db
    .insertInto('attempt_counter')
    .values({ key, count: 1, inflight: 0, expires_at: now + LOCKOUT_MS, not_before: null })
    .onConflict((oc) => oc.column('key').doUpdateSet({
      count: sql<number>`case when ${live} then attempt_counter.count + 1 else 1 end`,
      expires_at: sql<number>`case when ${live} then attempt_counter.expires_at else ${now + LOCKOUT_MS} end`,
    }))
    .returning(['count'])
    .executeTakeFirstOrThrow();
  return Number(row.count) <= max;
}

/** How a wait reads on a page: "30 seconds", "2 minutes". */
export function waitText(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (ms < 60_000) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(ms / 60_000);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}
