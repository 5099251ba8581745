/**
 * Users Endpoint V2's answer: one person as a SCIM User resource (RFC 7643 §4.1 and NHS login's extension), and the
 * ListResponse around the matches (U§3.3.2, §5.1 T14, §5.2 T15; implementation brief §3). Pure: no I/O.
 *
 * The values come from personClaims('userinfo'), so the level rules are the ones userinfo applies (claims.ts):
 * profile data only at P5/P9, no given name in the sandpit (no PDS), GP credentials only for IM1 clients and P9
 * people with a GP online linkage. Attributes the person lacks are omitted, never null (T15 "All attributes are
 * optional"), and so are empty objects and lists, except the extension, which always carries IdentityProofing.
 */
import type { PersonRow } from '../../storage/index.ts';
import { personClaims } from '../claims.ts';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
/** T15: "The NHS login extensions will be contained within the schema reference uk:nhs:login:auth:1.0:User". */
const NHS_USER_SCHEMA = 'uk:nhs:login:auth:1.0:User';
const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** A claim's value if it is a non-empty string (claims are typed unknown). */
function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The string at `key` of a claim that is an object (gp_registration_details, gp_integration_credentials). */
function field(claim: unknown, key: string): string | undefined {
  return typeof claim === 'object' && claim !== null ? text((claim as Record<string, unknown>)[key]) : undefined;
}

/** Drops undefined values, so an absent attribute is absent rather than null (and JSON key order stays T15's). */
function present(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * `scopes` is the call's effective set (scopes-check.ts). T14: the Users.retrieve scope returns id, active and
 * IdentityProofing; `profile` gates every other scope ("If this scope is not requested, then all other optional
 * requested scope values are ignored, and no data is returned").
 */
export function scimUser(person: PersonRow, c: { env: string; clientIm1: boolean; scopes: ReadonlySet<string> }): Record<string, unknown> {
  const claims = personClaims('userinfo', {
    env: c.env, person, vot: undefined, vtm: '', clientIm1: c.clientIm1, clientUserMetadata: undefined,
  });
  const profile = c.scopes.has('profile');
  const has = (scope: string) => profile && c.scopes.has(scope);

  const email = has('email') ? text(claims.email) : undefined;
  const mobile = has('phone') ? text(claims.phone_number) : undefined;
  // `landline` would add { type: 'landline', … } (T15), but the toolkit holds no landline numbers: nothing to add.
  const phoneNumbers = mobile ? [{ type: 'mobile', value: mobile }] : [];
  const gp = has('gp_integration_credentials') ? claims.gp_integration_credentials : undefined;
  const name = present({
    familyName: profile ? text(claims.family_name) : undefined,
    givenName: has('profile_extended') ? text(claims.given_name) : undefined,
  });

  return present({
    schemas: [USER_SCHEMA, NHS_USER_SCHEMA],
    // Brief §3 ASSUMPTION: the account id is the person's OIDC `sub`, so a partner can join it to its sign-ins.
    id: person.id,
    // T15 "User exists in NHS login": the toolkit has no disabled accounts.
    active: true,
    [NHS_USER_SCHEMA]: present({
      // Every level (T14), so from the row, not the claims (which have identity_proofing_level only from P5).
      // The highest level reached, like the identity_proofing_level claim (claims.ts).
      vectorsOfTrust: { IdentityProofing: person.highest_level },
      nhsNumber: profile ? text(claims.nhs_number) : undefined,
      birthdate: profile ? text(claims.birthdate) : undefined,
      gpOdsCode: has('gp_registration_details') ? field(claims.gp_registration_details, 'gp_ods_code') : undefined,
      // T14: gp_integration_credentials returns gpUserId and gpLinkageKey only; gpOdsCode is gp_registration_details'.
      gpUserId: field(gp, 'gp_user_id'),
      gpLinkageKey: field(gp, 'gp_linkage_key'),
    }),
    name: Object.keys(name).length ? name : undefined,
    // Brief §3 ASSUMPTION: T14 names no scope for userName; it is the email, so it goes with `email`.
    userName: email,
    // T15 `primary` is a boolean (RFC 7643 §4.1.2); the specification example's string "true" is an artefact.
    emails: email ? [{ value: email, type: 'home', primary: true }] : undefined,
    phoneNumbers: phoneNumbers.length ? phoneNumbers : undefined,
  });
}

/**
 * U§3.3.2, T15: every match in one response, since there is no pagination (U§2.2), so no startIndex or itemsPerPage
 * (RFC 7644 §3.4.2 requires them only for paginated results). `Resources` is kept when empty, as in U§3.3.2's
 * first example.
 */
export function listResponse(users: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [LIST_RESPONSE_SCHEMA], totalResults: users.length, Resources: users };
}
