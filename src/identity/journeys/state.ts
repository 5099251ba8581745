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

export { checkAttempt, countRequest, LOCKOUT_MS, MAX_FAILURES, MAX_FAILURES_PER_ADDRESS } from '../../storage/index.ts';


/**
 * New accounts from one address in the lockout window. Each costs a password hash (scrypt: ~170 ms of a thread
 * shared with token signing) and a person row, so an unlimited stream would slow every environment down.
 */
export const MAX_REGISTRATIONS_PER_ADDRESS = 20;
