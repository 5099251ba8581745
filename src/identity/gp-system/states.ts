/**
 * What a real NHS login sign-in does to a person's GP credential state (gp-credentials.md). Moved practice, system
 * changed and merged "generally" change the ODS code, which NHS login's PDS background process detects: the toolkit
 * makes that detection happen at the person's next sign-in (the RP "re-starting the login process"), so the claims of
 * that sign-in are refreshed credentials the GP system accepts. Revoked access is at the GP system: NHS login cannot
 * refresh it and keeps returning the stored, refused, credentials (ASSUMPTION: the doc says the RP must avoid an
 * endless loop "if the credentials genuinely can't be retrieved", so a new sign-in must not fix it). Restricted
 * (EMIS) is lifted when the person "re-authenticates via NHS login": a sign-in with credentials, never a silent one.
 */
import { randomInt } from 'node:crypto';
import { setGpState, type Db, type EventSink, type GpState, type PersonRow } from '../../storage/index.ts';

const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const ALNUM = `${LETTERS}abcdefghijkmnpqrstuvwxyz23456789`;
const pick = (alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

/** Another practice's ODS code (a letter and five digits, as the test data's are). */
function otherOds(current: string | null): string {
  for (;;) {
    const ods = `${pick(LETTERS, 1)}${String(randomInt(100000)).padStart(5, '0')}`;
    if (ods !== current) return ods;
  }
}

/** The credentials NHS login returns after it has refreshed them for `state`; undefined where it cannot. */
export function refreshed(state: GpState, p: PersonRow): Partial<PersonRow> | undefined {
  if (state === 'moved_practice' || state === 'merged') return { gp_ods_code: otherOds(p.gp_ods_code) };
  // A new GP system: a new account there and a new linkage key (13 characters, as the test data's are).
  if (state === 'system_changed') return { gp_user_id: String(randomInt(1e9, 1e10)), gp_linkage_key: pick(ALNUM, 13) };
  return undefined;
}

/**
 * Called when a person completes a sign-in with credentials (journeys/consent.ts), before the result that makes the
 * claims: resolves what that sign-in resolves, and records the change.
 */
export async function resolveOnSignIn(d: { db: Db; events: EventSink }, env: string, p: PersonRow, clientId: string): Promise<void> {
  const from = (p.gp_state ?? 'current') as GpState;
  if (from === 'current' || from === 'revoked') return;
  const credentials = from === 'restricted' ? undefined : refreshed(from, p);
  await setGpState(d.db, env, p.id, 'current', credentials);
  d.events.record({
    env, clientId, kind: 'gp_state', outcome: 'ok', person: p.id,
    details: { from, to: 'current', by: 'sign_in', refreshed: Object.keys(credentials ?? {}) },
  });
}
