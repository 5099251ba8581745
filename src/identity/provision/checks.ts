/**
 * Provision Account's checks of the person (brief §5, steps 6–7; PW "Requirements": no P9 account, an email of their
 * own, an active PDS record). Spec-Provision_Account_v1 §3.3.3 T11 gives the codes' descriptions only, so the
 * conditions are ours (ASSUMPTIONS, on the reference page), chosen so that every code in T11 can be reached. The
 * claiming journey runs them again before it writes (PW "How it works" 2.3).
 */
import { findPeopleByEmail, findPeopleByNhsNumber, type Db, type PersonRow, type ProvisionError } from '../../storage/index.ts';
import type { PeopleData } from '../people/index.ts';

/** NHS login's minimum age (PW "Requirements": 13 and over). */
export const MINIMUM_AGE = 13;

export type PersonCheck =
  | { ok: true; kind: 'create' | 'uplift'; person: PersonRow | undefined }
  | { ok: false; code: ProvisionError; detail: string };

function age(birthdate: string, now = new Date()): number {
  const [y, m, d] = birthdate.split('-').map(Number) as [number, number, number];
  const before = now.getUTCMonth() + 1 < m || (now.getUTCMonth() + 1 === m && now.getUTCDate() < d);
  return now.getUTCFullYear() - y - (before ? 1 : 0);
}

/**
 * `asking` is the requesting client's organisation. Partners' test users (integration) are copies of the same test PDS
 * records, one per organisation, where NHS login has one account per NHS number: each organisation sees only its own
 * and the environment's shared accounts, so that another partner's test user of the same record neither blocks a
 * request (11005, 11007) nor is uplifted by it, and its existence is not told.
 */
export async function checkPerson(
  db: Db,
  people: PeopleData,
  env: string,
  want: { nhs_number: string; email_address: string; date_of_birth: string },
  asking: string | null,
): Promise<PersonCheck> {
  const refuse = (code: ProvisionError, detail: string): PersonCheck => ({ ok: false, code, detail });
  const seen = (p: PersonRow) => p.organisation_id === null || p.organisation_id === asking;
  const holders = (await findPeopleByNhsNumber(db, env, want.nhs_number)).filter(seen);
  const [owner] = (await findPeopleByEmail(db, env, want.email_address)).filter(seen);
  // Step 6: NHS login's accounts.
  if (holders.some((p) => p.proofing_level === 'P9')) return refuse('11005', 'an account with this NHS number is P9 already');
  if (owner?.nhs_number && owner.nhs_number !== want.nhs_number) {
    return refuse('11004', 'the email is the login of another person\'s account');
  }
  if (holders.length > 1) return refuse('11007', `${holders.length} accounts hold this NHS number`);
  if (holders.length === 1 && holders[0]!.email !== want.email_address) {
    return refuse('11008', 'the account with this NHS number has another email');
  }
  // Step 7: the test PDS (the same records in every environment, as "prove your identity" uses them).
  const pds = people.pds.get(want.nhs_number);
  if (!pds) return refuse('11001', 'no PDS record has this NHS number');
  if (pds.birthdate !== want.date_of_birth) return refuse('11002', 'date_of_birth is not the PDS record\'s');
  if (pds.date_of_death) return refuse('11006', 'the PDS record has a date of death');
  // An uplift raises the account holding the NHS number, or a P0 account with this email and none (brief §5 step 8).
  const person = holders[0] ?? (owner && !owner.nhs_number ? owner : undefined);
  if (person?.pds_trace_fails === 1) return refuse('11009', 'the account\'s "PDS trace fails" switch is on');
  if (age(pds.birthdate) < MINIMUM_AGE) return refuse('11018', `the PDS record's person is under ${MINIMUM_AGE}`);
  return { ok: true, kind: person ? 'uplift' : 'create', person };
}
