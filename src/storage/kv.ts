/**
 * Small expiring records shared by every instance: rate-limit counters, single-use replay markers,
 * journey state, cookie keys. Values are JSON.
 */
import type { Db } from './db.ts';
import { perDatabase, prepared } from './prepared.ts';

// Read and written on the protocol hot paths (run marks, SSO, journey state), so compiled once per database.
const queries = perDatabase((db) => ({
  get: prepared(
    db,
    (ns: string, key: string) => db.selectFrom('kv').select(['value', 'expires_at']).where('ns', '=', ns).where('key', '=', key),
    2,
  ),
  put: prepared(
    db,
    (ns: string, key: string, value: string, expiresAt: number | null) =>
      db
        .insertInto('kv')
        .values({ ns, key, value, expires_at: expiresAt })
        .onConflict((oc) => oc.columns(['ns', 'key']).doUpdateSet({ value, expires_at: expiresAt })),
    4,
  ),
}));

export async function kvGet<T>(db: Db, ns: string, key: string): Promise<T | undefined> {
  const row = (await queries(db).get(ns, key)).rows[0];
  if (!row || (row.expires_at !== null && row.expires_at <= Date.now())) return undefined;
  return JSON.parse(row.value) as T;
}

export async function kvPut(db: Db, ns: string, key: string, value: unknown, ttlMs?: number): Promise<void> {
  await queries(db).put(ns, key, JSON.stringify(value), ttlMs ? Date.now() + ttlMs : null);
}

/**
 * Stores `value` under the key unless one is stored, and returns what is stored: of instances starting at once, the
 * first write wins and every instance uses it (a last-writer-wins put would let them diverge). No expiry.
 */
export async function kvPutIfAbsent<T>(db: Db, ns: string, key: string, value: T): Promise<T> {
  await db
    .insertInto('kv')
    .values({ ns, key, value: JSON.stringify(value), expires_at: null })
    .onConflict((oc) => oc.doNothing())
    .execute();
  return (await kvGet<T>(db, ns, key)) ?? value;
}

/** Removes and returns an unexpired record: of requests at once, one gets it (single-use links). */
export async function kvTake<T>(db: Db, ns: string, key: string): Promise<T | undefined> {
  const row = await db.deleteFrom('kv').where('ns', '=', ns).where('key', '=', key).returning(['value', 'expires_at']).executeTakeFirst();
  if (!row || (row.expires_at !== null && row.expires_at <= Date.now())) return undefined;
  return JSON.parse(row.value) as T;
}

export async function kvDelete(db: Db, ns: string, key: string): Promise<void> {
  await db.deleteFrom('kv').where('ns', '=', ns).where('key', '=', key).execute();
}

/**
 * Records `key` once: true the first time, false if it is already recorded and unexpired. Used for
 * single-use tokens (asserted_login_identity jti). Atomic on both dialects via the primary key.
 */
export async function kvClaimOnce(db: Db, ns: string, key: string, ttlMs: number): Promise<boolean> {
  const now = Date.now();
  await db.deleteFrom('kv').where('ns', '=', ns).where('key', '=', key).where('expires_at', '<=', now).execute();
  const res = await db
    .insertInto('kv')
    .values({ ns, key, value: '1', expires_at: now + ttlMs })
    .onConflict((oc) => oc.columns(['ns', 'key']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
}
