/** The state of one sign-in journey (keyed by the interaction uid) and the lockout counters, in the database. */
import { kvDelete, kvGet, kvPut, type Db } from '../../storage/index.ts';

export interface JourneyState {
  personId?: string;
  credentials: string[];
  /** Set once the person has seen and answered the decline confirmation. */
  declining?: boolean;
  /**
   * Signing in while throttling guards the account or the network (storage/lockout.ts): the password's verdict is
   * kept here, unseen, and told only together with the security code's. `email` is what was typed, for the next try.
   */
  guarded?: { passwordOk: boolean; email: string };
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

export {
  ACCOUNT_CEILING,
  ADDRESS_CEILING,
  checkPair,
  countFailure,
  countRequest,
  FREE_FAILURES,
  LOCKOUT_MS,
  overCeiling,
  pairKey,
  throttledNetwork,
  waitText,
} from '../../storage/index.ts';


/**
 * New accounts from one address in the lockout window. Each costs a password hash (scrypt: ~170 ms of a thread
 * shared with token signing) and a person row, so an unlimited stream would slow every environment down.
 */
export const MAX_REGISTRATIONS_PER_ADDRESS = 20;
