/** The published scope table (SCOPE_LEVELS) agrees with what personClaims actually returns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLAIMS_BY_SCOPE, personClaims, SCOPE_LEVELS } from './claims.ts';
import type { PersonRow } from '../storage/index.ts';

const person = (level: string): PersonRow => ({
  env: 'integration',
  id: 'x',
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
  gp_user_id: 'u',
  gp_linkage_key: 'k',
  created_at: 0,
  organisation_id: null,
  otp_disabled: 0,
  phone_pds_matched: null,
  pds_trace_fails: 0,
});

test('claims per level match the published table', () => {
  for (const level of ['P0', 'P5', 'P9']) {
    const got = personClaims('userinfo', {
      env: 'integration',
      person: person(level),
      vot: undefined,
      vtm: 'x',
      clientIm1: true,
      clientUserMetadata: 'm',
    });
    for (const [scope, claims] of Object.entries(CLAIMS_BY_SCOPE)) {
      if (['openid', 'landline', 'nhs_app_credentials'].includes(scope)) continue;
      const published = (SCOPE_LEVELS[scope] ?? '').includes(level);
      const present = claims.some((c) => c in got);
      assert.equal(present, published, `${scope} at ${level}`);
    }
    for (const v of Object.values(got)) assert.notEqual(v, null);
  }
});
