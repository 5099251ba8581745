/**
 * Lockout and rate limits, shared by every instance (one row per key, updated atomically).
 *
 * Lockout (passwords, passcodes): at most `max` checks may be failed or under way within the window. Each check
 * is begun before the slow verification, in one `INSERT … ON CONFLICT DO UPDATE … RETURNING`, so a burst of
 * parallel guesses cannot get more checks than the limit. A check that cannot begin because others are under
 * way is "busy" (try again in a moment), not a lockout: people sharing a test account are not locked out by
 * each other's correct sign-ins. Rate limits (requests per address) simply count.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';

/** Lockout after repeated failures (passwords per account, passcodes per account). */
export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;
/** Failed sign-ins from one address across all accounts (password spraying) before it is refused, per window. */
export const MAX_FAILURES_PER_ADDRESS = 30;

export interface Attempt {
  /** The check may go ahead. */
  allowed: boolean;
  /** Refused because `max` failures are recorded: locked until the window ends. */
  locked: boolean;
  /** Tries left if this check fails, as it stood when it began (endAttempt gives the exact figure). */
  left: number;
}

/** Begins a check under `key`; end it with `endAttempt` whatever happens. */
export async function beginAttempt(db: Db, key: string, max = MAX_FAILURES): Promise<Attempt> {
  const now = Date.now();
  const live = sql<boolean>`attempt_counter.expires_at > ${now}`;
  const row = await db
    .insertInto('attempt_counter')
    .values({ key, count: 0, inflight: 1, expires_at: now + LOCKOUT_MS })
    .onConflict((oc) => oc.column('key').doUpdateSet({
      count: sql<number>`case when ${live} then attempt_counter.count else 0 end`,
      inflight: sql<number>`case when ${live} then attempt_counter.inflight + 1 else 1 end`,
      expires_at: sql<number>`case when ${live} then attempt_counter.expires_at else ${now + LOCKOUT_MS} end`,
    }))
    .returning(['count', 'inflight'])
    .executeTakeFirstOrThrow();
  const failures = Number(row.count);
  const inflight = Number(row.inflight);
  if (failures >= max || failures + inflight > max) {
    await db.updateTable('attempt_counter').set({ inflight: sql<number>`inflight - 1` }).where('key', '=', key).where('inflight', '>', 0).execute();
    return { allowed: false, locked: failures >= max, left: Math.max(0, max - failures) };
  }
  return { allowed: true, locked: false, left: Math.max(0, max - failures - 1) };
}

/**
 * Ends a check: `failed` counts a failure (the window restarts from it); `succeeded` forgets the failures;
 * `released` leaves them as they are (for counters of failures across accounts, e.g. per address).
 */
export async function endAttempt(db: Db, key: string, outcome: 'failed' | 'succeeded' | 'released', max = MAX_FAILURES): Promise<number> {
  const done = sql<number>`case when inflight > 0 then inflight - 1 else 0 end`;
  if (outcome === 'failed') {
    // The tries left after this failure, counted atomically with it (so the one that locks says so).
    const row = await db.updateTable('attempt_counter').set({ count: sql<number>`count + 1`, inflight: done, expires_at: Date.now() + LOCKOUT_MS }).where('key', '=', key).returning(['count']).executeTakeFirst();
    return Math.max(0, max - Number(row?.count ?? max));
  }
  if (outcome === 'succeeded') await db.updateTable('attempt_counter').set({ count: 0, inflight: done }).where('key', '=', key).execute();
  else await db.updateTable('attempt_counter').set({ inflight: done }).where('key', '=', key).execute();
  return max;
}

/**
 * One check counted under `key`: begun before it runs (so checks at once cannot pass `max` between them), ended with
 * the outcome it reports, and released if it throws (a busy password gate, a database error), so that no check stays
 * in progress and refuses the key until it expires. `refused` is the begun attempt when the key refused the check,
 * which then did not run; otherwise `left` is what endAttempt gives (the tries left after a failure).
 */
export async function checkAttempt<T>(db: Db, key: string, max: number, check: () => Promise<{ outcome: 'failed' | 'succeeded' | 'released'; value: T }>): Promise<{ refused: Attempt } | { refused?: undefined; value: T; left: number }> {
  const begun = await beginAttempt(db, key, max);
  if (!begun.allowed) return { refused: begun };
  let result: { outcome: 'failed' | 'succeeded' | 'released'; value: T };
  try {
    result = await check();
  } catch (e) {
    await endAttempt(db, key, 'released', max);
    throw e;
  }
  return { value: result.value, left: await endAttempt(db, key, result.outcome, max) };
}

/** Whether `key` has `max` failures recorded now (for pages that only show the state). */
export async function isLocked(db: Db, key: string, max = MAX_FAILURES): Promise<boolean> {
  const row = await db.selectFrom('attempt_counter').select(['count', 'expires_at']).where('key', '=', key).executeTakeFirst();
  return Boolean(row && Number(row.expires_at) > Date.now() && Number(row.count) >= max);
}

/** Rate limits: counts one request under `key`; false once `max` are counted in the window (15 minutes from the first). */
export async function countRequest(db: Db, key: string, max: number): Promise<boolean> {
  const now = Date.now();
  const live = sql<boolean>`attempt_counter.expires_at > ${now}`;
  const row = await db
    .insertInto('attempt_counter')
    .values({ key, count: 1, inflight: 0, expires_at: now + LOCKOUT_MS })
    .onConflict((oc) => oc.column('key').doUpdateSet({
      count: sql<number>`case when ${live} then attempt_counter.count + 1 else 1 end`,
      expires_at: sql<number>`case when ${live} then attempt_counter.expires_at else ${now + LOCKOUT_MS} end`,
    }))
    .returning(['count'])
    .executeTakeFirstOrThrow();
  return Number(row.count) <= max;
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom('attempt_counter').where('key', '=', key).execute();
}
