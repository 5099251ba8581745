/**
 * Integration test data without a spreadsheet: a partner creates integration users from the test PDS
 * records, sets their proofing level and switches OTP or the phone's PDS match, for its own organisation only.
 */
import { createHash } from 'node:crypto';
import type { Db, PersonRow } from '../storage/index.ts';
import { findPerson, insertPerson, updatePerson } from '../storage/index.ts';
import type { PeopleData } from '../identity/people/index.ts';
import { TEST_PACK } from '../identity/people/test-pack.ts';
import { hashPassword } from '../security/passwords.ts';
import { OnboardingError } from './errors.ts';

export const TEST_PASSWORD = TEST_PACK.password;
export const TEST_OTP = TEST_PACK.otp;
const LEVELS = ['P0', 'P5', 'P9'];

export interface TestUserInput {
  nhsNumber: string;
  level: string;
  otpDisabled: boolean;
  phonePdsMatched: boolean;
  /** "Prove your identity" finds no PDS match (to try the uplift failure journey). */
  pdsTraceFails?: boolean;
}

function check(level: string) {
  if (!LEVELS.includes(level)) throw new OnboardingError('invalid_choice', 'Choose a proofing level: P0, P5 or P9', 'level');
}

export function listTestUsers(db: Db, organisationId: string) {
  return db
    .selectFrom('person')
    .selectAll()
    .where('env', '=', 'integration')
    .where('organisation_id', '=', organisationId)
    .orderBy('created_at')
    .execute();
}

export async function createTestUser(db: Db, people: PeopleData, organisationId: string, input: TestUserInput): Promise<PersonRow> {
  check(input.level);
  const pds = people.pds.get(input.nhsNumber.replace(/\s+/g, ''));
  if (!pds) throw new OnboardingError('invalid_choice', 'Choose one of the test PDS records', 'nhs_number');
  if (pds.date_of_death)
    throw new OnboardingError('invalid_choice', 'That PDS record is of a person who has died: choose another', 'nhs_number');
  // One user per organisation and record: the id and email are derived from both, so they are stable.
  const id = createHash('sha256').update(`integration:${organisationId}:${pds.nhs_number}`).digest('hex').slice(0, 32);
  if (await findPerson(db, 'integration', id))
    throw new OnboardingError('email_taken', 'You already have a test user for that PDS record: change it below', 'nhs_number');
  const link = people.linkage.get(pds.nhs_number);
  const person: PersonRow = {
    env: 'integration',
    id,
    email: `${pds.nhs_number}.${organisationId.slice(0, 8)}@testusers.toolkit.invalid`,
    password_hash: await hashPassword(TEST_PASSWORD),
    otp: TEST_OTP,
    proofing_level: input.level,
    highest_level: input.level,
    nhs_number: pds.nhs_number,
    given_name: pds.given_name,
    family_name: pds.family_name,
    birthdate: pds.birthdate,
    postcode: pds.postcode,
    phone_number: '+447700900123',
    gp_ods_code: link?.gp_ods_code ?? pds.gp_ods_code ?? null,
    im1: link ? 1 : 0,
    gp_user_id: link?.gp_account_id ?? null,
    gp_linkage_key: link?.gp_linkage_key ?? null,
    created_at: Date.now(),
    organisation_id: organisationId,
    otp_disabled: input.otpDisabled ? 1 : 0,
    phone_pds_matched: input.phonePdsMatched ? 1 : 0,
    pds_trace_fails: input.pdsTraceFails ? 1 : 0,
  };
  await insertPerson(db, person);
  return person;
}

/** Changes one of the organisation's own test users; anyone else's is "not found". */
export async function updateTestUser(db: Db, organisationId: string, id: string, input: Omit<TestUserInput, 'nhsNumber'>): Promise<void> {
  check(input.level);
  const person = await findPerson(db, 'integration', id);
  if (!person || person.organisation_id !== organisationId)
    throw new OnboardingError('not_found', 'There is no such test user in your organisation');
  const highest = LEVELS.indexOf(input.level) > LEVELS.indexOf(person.highest_level) ? input.level : person.highest_level;
  await updatePerson(db, 'integration', id, {
    proofing_level: input.level,
    highest_level: highest,
    otp_disabled: input.otpDisabled ? 1 : 0,
    phone_pds_matched: input.phonePdsMatched ? 1 : 0,
    pds_trace_fails: input.pdsTraceFails ? 1 : 0,
  });
}
