/**
 * Test data without a spreadsheet: a partner creates sandpit or integration users from the test PDS records, or with
 * demographics of its own (test-user-demographics.ts), sets their proofing level and switches OTP or the phone's PDS
 * match, and deletes them, for its own organisation only. Which environments allow them is a capability (ownTestUsers).
 */
import { createHash } from 'node:crypto';
import type { Db, PersonRow } from '../storage/index.ts';
import { deletePerson, findPeopleByEmail, findPerson, insertPerson, updatePerson } from '../storage/index.ts';
import type { PeopleData } from '../identity/people/index.ts';
import { TEST_PACK } from '../identity/people/test-pack.ts';
import { hashPassword } from '../security/passwords.ts';
import { CAPABILITIES, ENVIRONMENT_NAMES, type EnvironmentName } from '../config/index.ts';
import { OnboardingError } from './errors.ts';
import { checkDemographics, type Demographics } from './test-user-demographics.ts';

export const TEST_PASSWORD = TEST_PACK.password;
export const TEST_OTP = TEST_PACK.otp;
const LEVELS = ['P0', 'P5', 'P9'];
/** The environments where a partner may have test users of its own. */
export const TEST_USER_ENVS: readonly EnvironmentName[] = ENVIRONMENT_NAMES.filter((e) => CAPABILITIES[e].ownTestUsers);
/**
 * ASSUMPTION: NHS login sets no number (its integration users come by request); a few dozen is what a partner's tests
 * seed, and the ceiling keeps one organisation from filling a shared database.
 */
export const MAX_TEST_USERS = 100;
const isTestUserEnv = (e: unknown): e is EnvironmentName => TEST_USER_ENVS.includes(e as EnvironmentName);

export interface TestUserInput {
  /** One of TEST_USER_ENVS; integration when not given (the API's first version had no other). */
  env?: unknown;
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
    .where('env', 'in', TEST_USER_ENVS)
    .where('organisation_id', '=', organisationId)
    .orderBy('created_at')
    .execute();
}

export async function createTestUser(db: Db, people: PeopleData, organisationId: string, input: TestUserInput): Promise<PersonRow> {
  const env = input.env ?? 'integration';
  if (!isTestUserEnv(env))
    throw new OnboardingError('invalid_choice', `Choose an environment: ${TEST_USER_ENVS.join(' or ')}`, 'env');
  check(input.level);
  const nhsNumber = input.nhsNumber.replace(/\s+/g, '');
  const who = input.demographics ? own(nhsNumber, input.demographics) : fromPds(people, nhsNumber);
  // One user per environment, organisation and NHS number: the id and email are derived from them, so they are stable.
  const id = createHash('sha256').update(`${env}:${organisationId}:${nhsNumber}`).digest('hex').slice(0, 32);
  if (await findPerson(db, env, id))
    throw new OnboardingError('email_taken', `You already have a test user for that NHS number in ${env}: change it in the list`,
      'nhs_number');
  const email = who.email ?? `${nhsNumber}.${organisationId.slice(0, 8)}@testusers.toolkit.invalid`;
  if (who.email && (await findPeopleByEmail(db, env, email)).length)
    throw new OnboardingError('email_taken', `Another ${env} account has that email address`, 'email');
  if ((await listTestUsers(db, organisationId)).length >= MAX_TEST_USERS)
    throw new OnboardingError('invalid_choice', `You have ${MAX_TEST_USERS} test users, the most there can be: delete one first`,
      'nhs_number');
  const person: PersonRow = {
    env,
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
  const c = checkDemographics(d, nhsNumber);
  return {
    email: c.email,
    row: {
      given_name: c.givenName, family_name: c.familyName, birthdate: c.birthdate, postcode: c.postcode || null,
      phone_number: c.phoneNumber, gp_ods_code: c.gpOdsCode || null, im1: c.gpLinkage ? 1 : 0,
      gp_user_id: c.gpLinkage?.accountId ?? null, gp_linkage_key: c.gpLinkage?.linkageKey ?? null,
    },
  };
}

/**
 * One of the organisation's own test users, in whichever environment it is (ids are derived with the environment, so
 * they do not repeat); anyone else's is "not found", or, with `field`, a form's wrong choice.
 */
export async function ownTestUser(db: Db, organisationId: string, id: unknown, field?: string): Promise<PersonRow> {
  for (const env of typeof id === 'string' && id.length <= 64 ? TEST_USER_ENVS : []) {
    const person = await findPerson(db, env, id as string);
    if (person?.organisation_id === organisationId) return person;
  }
  if (field) throw new OnboardingError('invalid_choice', 'Choose one of your own test users', field);
  throw new OnboardingError('not_found', 'There is no such test user in your organisation');
}

/** Deletes one of the organisation's own test users, with its proxy links and passkeys; anyone else's is "not found". */
export async function deleteTestUser(db: Db, organisationId: string, id: string): Promise<void> {
  const person = await ownTestUser(db, organisationId, id);
  await deletePerson(db, person.env, id);
}

/** Changes one of the organisation's own test users; anyone else's is "not found". */
export async function updateTestUser(db: Db, organisationId: string, id: string, input: Omit<TestUserInput, 'nhsNumber'>): Promise<void> {
  check(input.level);
  const person = await ownTestUser(db, organisationId, id);
  const highest = LEVELS.indexOf(input.level) > LEVELS.indexOf(person.highest_level) ? input.level : person.highest_level;
  await updatePerson(db, person.env, id, {
    proofing_level: input.level,
    highest_level: highest,
    otp_disabled: input.otpDisabled ? 1 : 0,
    phone_pds_matched: input.phonePdsMatched ? 1 : 0,
    pds_trace_fails: input.pdsTraceFails ? 1 : 0,
  });
}
