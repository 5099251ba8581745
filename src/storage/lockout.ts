/**
 * Lockout counters after repeated failures (passwords, passcodes, sign-ins), kept in the kv table so that
 * every instance sees the same count.
 */
import type { Db } from './db.ts';
import { kvDelete, kvGet, kvPut } from './kv.ts';

/** Lockout after repeated failures (passwords per account, passcodes per account). */
export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;

interface Counter {
  failures: number;
  lockedUntil?: number;
}

export async function isLocked(db: Db, key: string): Promise<number | undefined> {
  const c = await kvGet<Counter>(db, 'lockout', key);
  return c?.lockedUntil && c.lockedUntil > Date.now() ? c.lockedUntil : undefined;
}

/** Counts a failure; returns the failures left before lockout (0 = now locked). */
export async function recordFailure(db: Db, key: string, max = MAX_FAILURES): Promise<number> {
  const c = (await kvGet<Counter>(db, 'lockout', key)) ?? { failures: 0 };
  c.failures += 1;
  if (c.failures >= max) c.lockedUntil = Date.now() + LOCKOUT_MS;
  await kvPut(db, 'lockout', key, c, LOCKOUT_MS);
  return Math.max(0, max - c.failures);
}


export function clearFailures(db: Db, key: string) {
  return kvDelete(db, 'lockout', key);
}
