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

/** How long a check may take (a password hash, a code compare) before it is taken to have died with its process. */
const CHECK_MS = 30_000;

/**
 * The key of one (account, address) pair. Keys are text, and an account key with ':' and an address in it (an email
 * `victim@nhs.net:203.0.113.7` is well formed) must not be the pair key of somebody else: so the pair key has a
 * prefix of its own and its parts encoded.
 */
export const pairKey = (accountKey: string, address: string) => `pair:${JSON.stringify([accountKey, address])}`;

/**
 * The network an address is counted as: an IPv4 address itself, an IPv6 address by its /64 (one subscriber's
 * allocation, so a host cannot make a fresh address for each try), an IPv4-mapped IPv6 address as IPv4.
 */
export function throttledNetwork(address: string): string {
  const plain = address.replace(/%.*$/, '').toLowerCase();
  if (!plain.includes(':')) return plain;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(plain);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const waitAfter = (failures: number) =>
  failures <= FREE_FAILURES ? 0 : Math.min(LOCKOUT_MS, FIRST_WAIT_MS * 2 ** (failures - FREE_FAILURES - 1));
/** Failures past the free ones whose wait is below the window's (the doubling's steps); every later one waits the window. */
const MAX_STEP = Math.ceil(Math.log2(LOCKOUT_MS / FIRST_WAIT_MS)) + 1;

/**
 * One check of a secret by an (account, address) pair, under `key`: begun before it runs, ended with whether it
 * succeeded (a success forgets the pair's failures), and released if it throws, so that nothing stays under way.
 */
export async function checkPair<T>(
  db: Db, key: string, check: () => Promise<{ ok: boolean; value: T; uncounted?: boolean }>, o: { concurrent?: boolean } = {},
): Promise<{ refused: Refusal } | ({ refused?: undefined } & Checked<T>)> {
  const now = Date.now();
  const live = sql<boolean>`attempt_counter.expires_at > ${now}`;
  // Checks under way count while their time is not up: a check whose process died is not "under way" for ever.
  const running = sql<boolean>`attempt_counter.expires_at > ${now} and attempt_counter.check_until > ${now}`;
  const row = await db
    .insertInto('attempt_counter')
    .values({ key, count: 0, inflight: 1, expires_at: now + LOCKOUT_MS, not_before: null, check_until: now + CHECK_MS })
    .onConflict((oc) => oc.column('key').doUpdateSet({
      count: sql<number>`case when ${live} then attempt_counter.count else 0 end`,
      inflight: sql<number>`case when ${running} then attempt_counter.inflight + 1 else 1 end`,
      check_until: sql<number>`${now + CHECK_MS}`,
      not_before: sql<number | null>`case when ${live} then attempt_counter.not_before else null end`,
      expires_at: sql<number>`case when ${live} then attempt_counter.expires_at else ${now + LOCKOUT_MS} end`,
    }))
    .returning(['inflight', 'not_before'])
    .executeTakeFirstOrThrow();
  const end = (set: Record<string, unknown>) => db.updateTable('attempt_counter')
    .set({ ...set, inflight: sql<number>`case when inflight > 0 then inflight - 1 else 0 end` }).where('key', '=', key);
  const notBefore = row.not_before === null ? 0 : Number(row.not_before);
  // `concurrent`: checks of the pair may overlap (a published test account, which a whole office signs in to).
  if (notBefore > now || (!o.concurrent && Number(row.inflight) > 1)) {
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
  // The failure and the wait it imposes in one statement: a check begun between the two would get one more guess.
  const at = Date.now();
  const until = (failures: number) => sql`cast(${at + waitAfter(failures)} as bigint)`;
  const waits = Array.from(
    { length: MAX_STEP },
    (_, i) => sql`when count + 1 = ${FREE_FAILURES + 1 + i} then ${until(FREE_FAILURES + 1 + i)}`,
  );
  const notBeforeAfter = sql<
    number | null
  >`case when count + 1 <= ${FREE_FAILURES} then null ${sql.join(waits, sql` `)} else ${until(Number.MAX_SAFE_INTEGER)} end`;
  const failed = await end({ count: sql<number>`count + 1`, expires_at: at + LOCKOUT_MS, not_before: notBeforeAfter })
    .returning(['count']).executeTakeFirst();
  const failures = Number(failed?.count ?? FREE_FAILURES + 1);
  return { value: result.value, left: Math.max(0, FREE_FAILURES - failures), waitMs: waitAfter(failures) };
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
