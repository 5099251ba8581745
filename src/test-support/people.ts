/** A person row for unit tests of claims and resources: an integration P5/P9-shaped account with a GP linkage. */
import type { PersonRow } from '../storage/index.ts';

export const testPerson = (level: string, changes: Partial<PersonRow> = {}): PersonRow => ({
  env: 'integration',
  id: 'sub-1',
  email: 'p@example.org',
  password_hash: '',
  otp: '190696',
  proofing_level: level,
  highest_level: level,
  nhs_number: '9686368973',
  given_name: 'Mona',
  family_name: 'MILLAR',
  birthdate: '1968-02-12',
  postcode: 'HD7 4JL',
  phone_number: '+447700900000',
  gp_ods_code: 'C83615',
  im1: 1,
  gp_user_id: '9422353604',
  gp_linkage_key: 'YCRPyPSEUARw5',
  created_at: 0,
  organisation_id: null,
  otp_disabled: 0,
  phone_pds_matched: null,
  pds_trace_fails: 0,
  ...changes,
});
