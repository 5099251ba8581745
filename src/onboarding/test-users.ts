/**
 * Integration test data without a spreadsheet: a partner creates integration users from the test PDS records, or
 * with demographics of its own (test-user-demographics.ts), sets their proofing level and switches OTP or the phone's
 * PDS match, and deletes them, for its own organisation only.
 */
import { createHash } from 'node:crypto';
import type { Db, PersonRow } from '../storage/index.ts';
import { deletePerson, findPeopleByEmail, findPerson, insertPerson, updatePerson } from '../storage/index.ts';
import type { PeopleData } from '../identity/people/index.ts';
import { TEST_PACK } from '../identity/people/test-pack.ts';
import { hashPassword } from '../security/passwords.ts';
import { OnboardingError } from './errors.ts';
import { checkDemographics, checkTestNhsNumber, type Demographics } from './test-user-demographics.ts';

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
  /** The partner's own demographics; without them, the test PDS record's of that NHS number. */
  demographics?: Demographics | undefined;
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
  const nhsNumber = input.nhsNumber.replace(/\s+/g, '');
  const who = input.demographics ? own(nhsNumber, input.demographics) : fromPds(people, nhsNumber);
  // One user per organisation and NHS number: the id and email are derived from both, so they are stable.
  const id = createHash('sha256').update(`integration:${organisationId}:${nhsNumber}`).digest('hex').slice(0, 32);
  if (await findPerson(db, 'integration', id))
    throw new OnboardingError('email_taken', 'You already have a test user for that NHS number: change it below', 'nhs_number');
  const email = who.email ?? `${nhsNumber}.${organisationId.slice(0, 8)}@testusers.toolkit.invalid`;
  if (who.email && (await findPeopleByEmail(db, 'integration', email)).length)
    throw new OnboardingError('email_taken', 'Another integration account has that email address', 'email');
  const person: PersonRow = {
    env: 'integration',
    id,
    email,
    password_hash: await hashPassword(TEST_PASSWORD),
    otp: TEST_OTP,
    proofing_level: input.level,
    highest_level: input.level,
    nhs_number: nhsNumber,
    ...who.row,
    created_at: Date.now(),
    organisation_id: organisationId,
    otp_disabled: input.otpDisabled ? 1 : 0,
    phone_pds_matched: input.phonePdsMatched ? 1 : 0,
    pds_trace_fails: input.pdsTraceFails ? 1 : 0,
  };
  await insertPerson(db, person);
  return person;
}

type Who = { email?: string | undefined; row: Pick<PersonRow, 'given_name' | 'family_name' | 'birthdate' | 'postcode' | 'phone_number'
  | 'gp_ods_code' | 'im1' | 'gp_user_id' | 'gp_linkage_key'> };

/** A test PDS record's person, linked to a GP system where the pack links it. */
function fromPds(people: PeopleData, nhsNumber: string): Who {
  const pds = people.pds.get(nhsNumber);
  if (!pds) throw new OnboardingError('invalid_choice', 'Choose one of the test PDS records', 'nhs_number');
  if (pds.date_of_death)
    throw new OnboardingError('invalid_choice', 'That PDS record is of a person who has died: choose another', 'nhs_number');
  const link = people.linkage.get(pds.nhs_number);
  return {
    row: {
      given_name: pds.given_name, family_name: pds.family_name, birthdate: pds.birthdate, postcode: pds.postcode,
      phone_number: '+447700900123', gp_ods_code: link?.gp_ods_code ?? pds.gp_ods_code ?? null, im1: link ? 1 : 0,
      gp_user_id: link?.gp_account_id ?? null, gp_linkage_key: link?.gp_linkage_key ?? null,
    },
  };
}

/** The partner's own person: its NHS number from the test range, whether or not PDS has a record of it. */
function own(nhsNumber: string, d: Demographics): Who {
  checkTestNhsNumber(nhsNumber);
  const c = checkDemographics(d);
  return {
    email: c.email,
    row: {
      given_name: c.givenName, family_name: c.familyName, birthdate: c.birthdate, postcode: c.postcode || null,
      phone_number: c.phoneNumber, gp_ods_code: c.gpOdsCode || null, im1: c.gpLinkage ? 1 : 0,
      gp_user_id: c.gpLinkage?.accountId ?? null, gp_linkage_key: c.gpLinkage?.linkageKey ?? null,
    },
  };
}

/** Deletes one of the organisation's own test users, with its proxy links and passkeys; anyone else's is "not found". */
export async function deleteTestUser(db: Db, organisationId: string, id: string): Promise<void> {
  const person = id.length <= 64 ? await findPerson(db, 'integration', id) : undefined;
  if (!person || person.organisation_id !== organisationId)
    throw new OnboardingError('not_found', 'There is no such test user in your organisation');
  await deletePerson(db, 'integration', id);
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
