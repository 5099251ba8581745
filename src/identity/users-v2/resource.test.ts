/** Users Endpoint V2's User resource and ListResponse (U§3.3.2, §5.1 T14, §5.2 T15; brief §3), per scope and per level. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { listResponse, scimUser } from './resource.ts';
import { USERS_V2_OPTIONAL_SCOPES } from './scope.ts';
import type { PersonRow } from '../../storage/index.ts';
import { testPerson } from '../../test-support/people.ts';

const RETRIEVE = 'https://auth.aos.signin.nhs.uk/Users.retrieve';
const EXT = 'uk:nhs:login:auth:1.0:User';

const person = testPerson;

/** The user for these scopes (Users.retrieve always among them), in integration for an IM1 client unless said. */
function user(p: PersonRow, scopes: string[], c: { env?: string; clientIm1?: boolean } = {}): Record<string, unknown> {
  return scimUser(p, { env: c.env ?? 'integration', clientIm1: c.clientIm1 ?? true, scopes: new Set([RETRIEVE, ...scopes]) });
}
const ext = (u: Record<string, unknown>) => u[EXT] as Record<string, unknown>;

test('Users.retrieve alone: schemas, id, active and IdentityProofing, nothing else (T14)', () => {
  assert.deepEqual(user(person('P9'), []), {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', EXT],
    id: 'sub-1',
    active: true,
    [EXT]: { vectorsOfTrust: { IdentityProofing: 'P9' } },
  });
});

test('the id is the person\'s sub', () => {
  assert.equal(user(person('P9', { id: 'another-sub' }), []).id, 'another-sub');
});

test('IdentityProofing is given at P0 too', () => {
  assert.deepEqual(ext(user(person('P0'), [])), { vectorsOfTrust: { IdentityProofing: 'P0' } });
});

test('IdentityProofing is the highest level reached, like identity_proofing_level', () => {
  assert.equal((ext(user(person('P5', { highest_level: 'P9' }), [])).vectorsOfTrust as Record<string, unknown>).IdentityProofing, 'P9');
});

test('profile at P9: familyName, nhsNumber and birthdate', () => {
  const u = user(person('P9'), ['profile']);
  assert.deepEqual(u.name, { familyName: 'MILLAR' });
  assert.equal(ext(u).nhsNumber, '9686368973');
  assert.equal(ext(u).birthdate, '1968-02-12');
});

test('profile at P5: the same three', () => {
  const u = user(person('P5'), ['profile']);
  const got = [(u.name as Record<string, unknown>).familyName, ext(u).nhsNumber, ext(u).birthdate];
  assert.deepEqual(got, ['MILLAR', '9686368973', '1968-02-12']);
});

test('profile at P0: no profile data, as userinfo (claims.ts)', () => {
  const u = user(person('P0'), ['profile']);
  assert.equal('name' in u, false);
  assert.deepEqual(ext(u), { vectorsOfTrust: { IdentityProofing: 'P0' } });
});

test('profile_extended in integration: givenName', () => {
  assert.deepEqual(user(person('P9'), ['profile', 'profile_extended']).name, { familyName: 'MILLAR', givenName: 'Mona' });
});

test('profile_extended in the sandpit: no givenName (no PDS there)', () => {
  assert.deepEqual(user(person('P9'), ['profile', 'profile_extended'], { env: 'sandpit' }).name, { familyName: 'MILLAR' });
});

test('profile without profile_extended: no givenName', () => {
  assert.equal('givenName' in (user(person('P9'), ['profile']).name as object), false);
});

test('email: userName and one home email, primary the boolean true', () => {
  const u = user(person('P9'), ['profile', 'email']);
  assert.equal(u.userName, 'p@example.org');
  assert.deepEqual(u.emails, [{ value: 'p@example.org', type: 'home', primary: true }]);
});

test('email at P0: the email, and no profile data (the brief\'s integration +3 case)', () => {
  const u = user(person('P0'), ['profile', 'email']);
  assert.deepEqual(Object.keys(u), ['schemas', 'id', 'active', EXT, 'userName', 'emails']);
});

test('phone: a mobile phoneNumbers entry', () => {
  assert.deepEqual(user(person('P9'), ['profile', 'phone']).phoneNumbers, [{ type: 'mobile', value: '+447700900000' }]);
});

test('phone for a person without a number: no phoneNumbers', () => {
  assert.equal('phoneNumbers' in user(person('P9', { phone_number: null }), ['profile', 'phone']), false);
});

test('landline: nothing, the toolkit holds no landline numbers', () => {
  assert.deepEqual(user(person('P9'), ['profile', 'landline']), user(person('P9'), ['profile']));
});

test('gp_registration_details at P9: gpOdsCode', () => {
  assert.equal(ext(user(person('P9'), ['profile', 'gp_registration_details'])).gpOdsCode, 'C83615');
});

test('gp_registration_details at P0: no gpOdsCode', () => {
  assert.equal('gpOdsCode' in ext(user(person('P0'), ['profile', 'gp_registration_details'])), false);
});

test('gp_integration_credentials, IM1 client, P9 with a linkage: gpUserId and gpLinkageKey, not gpOdsCode (T14)', () => {
  const e = ext(user(person('P9'), ['profile', 'gp_integration_credentials']));
  assert.deepEqual([e.gpUserId, e.gpLinkageKey, 'gpOdsCode' in e], ['9422353604', 'YCRPyPSEUARw5', false]);
});

test('gp_integration_credentials for a client that is not IM1: nothing', () => {
  assert.equal('gpUserId' in ext(user(person('P9'), ['profile', 'gp_integration_credentials'], { clientIm1: false })), false);
});

test('gp_integration_credentials for a P5 person: nothing', () => {
  assert.equal('gpUserId' in ext(user(person('P5'), ['profile', 'gp_integration_credentials'])), false);
});

test('gp_integration_credentials for a P9 person without a GP online linkage: nothing', () => {
  assert.equal('gpLinkageKey' in ext(user(person('P9', { im1: 0 }), ['profile', 'gp_integration_credentials'])), false);
});

test('without profile every optional scope is ignored (T14 "no data is returned")', () => {
  assert.deepEqual(user(person('P9'), USERS_V2_OPTIONAL_SCOPES.filter((s) => s !== 'profile')), user(person('P9'), []));
});

test('every scope at P9 in integration: the specification example\'s shape and key order (U§3.3.2)', () => {
  const u = user(person('P9'), [...USERS_V2_OPTIONAL_SCOPES]);
  assert.deepEqual(JSON.parse(JSON.stringify(u)), {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', EXT],
    id: 'sub-1',
    active: true,
    [EXT]: {
      vectorsOfTrust: { IdentityProofing: 'P9' },
      nhsNumber: '9686368973',
      birthdate: '1968-02-12',
      gpOdsCode: 'C83615',
      gpUserId: '9422353604',
      gpLinkageKey: 'YCRPyPSEUARw5',
    },
    name: { familyName: 'MILLAR', givenName: 'Mona' },
    userName: 'p@example.org',
    emails: [{ value: 'p@example.org', type: 'home', primary: true }],
    phoneNumbers: [{ type: 'mobile', value: '+447700900000' }],
  });
  assert.deepEqual(Object.keys(u), ['schemas', 'id', 'active', EXT, 'name', 'userName', 'emails', 'phoneNumbers']);
  assert.deepEqual(Object.keys(ext(u)), ['vectorsOfTrust', 'nhsNumber', 'birthdate', 'gpOdsCode', 'gpUserId', 'gpLinkageKey']);
});

test('what a person lacks is omitted, never null, and an empty name is dropped', () => {
  const lacking = { nhs_number: null, given_name: null, family_name: null, birthdate: null, gp_ods_code: null, phone_number: null };
  const bare = person('P9', lacking);
  const u = user(bare, [...USERS_V2_OPTIONAL_SCOPES]);
  assert.deepEqual(Object.keys(u), ['schemas', 'id', 'active', EXT, 'userName', 'emails']);
  assert.deepEqual(Object.keys(ext(u)), ['vectorsOfTrust', 'gpUserId', 'gpLinkageKey']);
});

test('no matches: a ListResponse with totalResults 0 and Resources []', () => {
  assert.deepEqual(listResponse([]), { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, Resources: [] });
});

test('several matches: all of them, counted, with no paging fields (U§2.2)', () => {
  const users = [user(person('P9'), []), user(person('P5', { id: 'sub-2' }), [])];
  const schemas = ['urn:ietf:params:scim:api:messages:2.0:ListResponse'];
  assert.deepEqual(listResponse(users), { schemas, totalResults: 2, Resources: users });
});
