/** The state of one sign-in journey (keyed by the interaction uid) and the lockout counters, in the database. */
import { kvDelete, kvGet, kvPut, type Db } from '../../storage/index.ts';

export interface JourneyState {
  personId?: string;
  credentials: string[];
  /** Set once the person has seen and answered the decline confirmation. */
  declining?: boolean;
}

const JOURNEY_TTL = 60 * 60 * 1000;

export const journeyState = {
  async get(db: Db, env: string, uid: string): Promise<JourneyState> {
    return (await kvGet<JourneyState>(db, 'journey', `${env}:${uid}`)) ?? { credentials: [] };
  },
  put(db: Db, env: string, uid: string, s: JourneyState) {
    return kvPut(db, 'journey', `${env}:${uid}`, s, JOURNEY_TTL);
  },
  clear(db: Db, env: string, uid: string) {
    return kvDelete(db, 'journey', `${env}:${uid}`);
  },
};

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

/** Failed sign-ins from one address across all accounts (password spraying), before it is refused. */
export const MAX_FAILURES_PER_ADDRESS = 30;

export function clearFailures(db: Db, key: string) {
  return kvDelete(db, 'lockout', key);
}
