/**
 * Attempt counters for lockout and rate limits (passwords, passcodes, sign-ins from one address), shared by
 * every instance. An attempt is reserved atomically *before* the slow check it guards, so a burst of
 * parallel guesses cannot get more tries than the limit: each one takes a numbered slot in one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement, and slots beyond the limit are refused unchecked.
 */
import { sql } from 'kysely';
import type { Db } from './db.ts';

/** Lockout after repeated failures (passwords per account, passcodes per account). */
export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;

export interface Attempt {
  /** False when the limit was already reached: refuse without checking. */
  allowed: boolean;
  /** Tries left if this attempt fails (0 = this failure locks). */
  left: number;
}

/**
 * Reserves one attempt under `key`. The window slides: each counted attempt keeps the counter for
 * LOCKOUT_MS more; once `max` attempts are counted, further ones are refused until the window ends.
 */
export async function takeAttempt(db: Db, key: string, max = MAX_FAILURES): Promise<Attempt> {
  const now = Date.now();
  const until = now + LOCKOUT_MS;
  // The count stops at max + 1, which marks an attempt refused unchecked; the window is not extended by
  // refused attempts, so a lockout ends LOCKOUT_MS after the attempt that caused it.
  const live = sql<boolean>`attempt_counter.expires_at > ${now}`;
  const row = await db
    .insertInto('attempt_counter')
    .values({ key, count: 1, expires_at: until })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        count: sql<number>`case when not (${live}) then 1 when attempt_counter.count > ${max} then attempt_counter.count else attempt_counter.count + 1 end`,
        expires_at: sql<number>`case when ${live} and attempt_counter.count >= ${max} then attempt_counter.expires_at else ${until} end`,
      }),
    )
    .returning(['count'])
    .executeTakeFirstOrThrow();
  const count = Number(row.count);
  return count > max ? { allowed: false, left: 0 } : { allowed: true, left: max - count };
}

/** Whether `key` is at its limit now (for pages that only show the state). */
export async function isLocked(db: Db, key: string, max = MAX_FAILURES): Promise<boolean> {
  const row = await db.selectFrom('attempt_counter').select(['count', 'expires_at']).where('key', '=', key).executeTakeFirst();
  return Boolean(row && Number(row.expires_at) > Date.now() && Number(row.count) >= max);
}

/** Gives back an attempt that succeeded, for counters of failures only (e.g. per address). */
export async function releaseAttempt(db: Db, key: string): Promise<void> {
  await db.updateTable('attempt_counter').set({ count: sql<number>`count - 1` }).where('key', '=', key).where('count', '>', 0).execute();
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom('attempt_counter').where('key', '=', key).execute();
}
