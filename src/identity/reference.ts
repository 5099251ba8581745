/**
 * The interface reference of one environment, built from the same objects the environment runs on (its
 * discovery document, scope table, vectors, lifetimes), so the published reference cannot drift from it.
 */
import { CLAIMS_BY_SCOPE, SCOPE_DESCRIPTIONS, SCOPE_LEVELS } from './claims.ts';
import { CLOCK_TOLERANCE_S, MAX_ASSERTION_LIFETIME_S, TTL } from './provider.ts';
import { DEFAULT_VTR, SUPPORTED_VECTORS } from './vectors.ts';
import { JWT_BEARER } from './users-v2/grant.ts';
import { usersRetrieveScope } from './users-v2/scope.ts';
import { FILTER_ERROR_TEXT } from './users-v2/filter.ts';
export { provisionFacts } from './provision/reference.ts';
export { gpSystemFacts } from './gp-system/reference.ts';
export { nhsAppFacts } from './nhs-app/reference.ts';

export const ERROR_CODES: { where: string; code: string; when: string }[] = [
  {
    where: '/authorize (error page)',
    code: 'invalid_client, invalid_redirect_uri',
    when: 'unknown client_id or unregistered redirect_uri: shown to the user, never redirected',
  },
  {
    where: '/authorize (redirect)',
    code: 'invalid_request',
    when: 'missing state or nonce, bad or unregistered vtr, response_mode other than query',
  },
  {
    where: '/authorize (redirect)',
    code: 'invalid_scope',
    when: 'a scope the client is not approved for; profile with basic_demographics',
  },
  {
    where: '/authorize (redirect)',
    code: 'request_not_supported',
    when: 'max_age, ui_locales, id_token_hint, login_hint, acr_values, request, request_uri, claims',
  },
  { where: '/authorize (redirect)', code: 'unauthorized_client', when: 'the client is suspended' },
  {
    where: '/authorize (redirect)', code: 'sso_login_required',
    when: 'prompt=none without an NHS login session meeting the vtr, or with an asserted_login_identity refused',
  },
  { where: '/authorize (redirect)', code: 'access_denied (ConsentNotGiven)', when: 'the user declined to share their information' },
  {
    where: '/token',
    code: 'invalid_client',
    when:
      'no client authentication (401); a client assertion with the wrong alg (not RS512), aud, iss or sub, expired, ' +
      `iat more than ${CLOCK_TOLERANCE_S} s ahead, exp more ` +
        `than ${MAX_ASSERTION_LIFETIME_S} s after iat, a replayed jti or a bad signature`,
  },
  {
    where: '/token',
    code: 'invalid_grant',
    when: 'code unknown, expired, replayed (its tokens are then revoked) or redirect_uri mismatch; bad refresh token',
  },
  { where: '/token', code: 'invalid_scope', when: 'a refresh that widens the scope' },
  {
    where: '/token',
    code: 'unsupported_grant_type, unauthorized_client',
    when: 'grant types other than authorization_code and refresh_token',
  },
  { where: '/userinfo', code: 'invalid_token (401)', when: 'access token missing, tampered with, expired or revoked' },
  { where: '/userinfo', code: 'insufficient_scope (403)', when: 'PATCH without the client_metadata scope' },
];

export function scopeTable() {
  return Object.entries(CLAIMS_BY_SCOPE).map(([scope, claims]) => ({
    scope,
    claims: claims.length ? claims.join(', ') : '(none)',
    levels: SCOPE_LEVELS[scope] ?? '',
    meaning: SCOPE_DESCRIPTIONS[scope] ?? 'who the person is (sub), the vector achieved (vot, vtm)',
  }));
}

export function interfaceFacts() {
  return {
    vectors: SUPPORTED_VECTORS,
    defaultVtr: DEFAULT_VTR,
    lifetimes: [
      { what: 'Authorization code', seconds: TTL.AuthorizationCode, note: 'single use, bound to the client and redirect URI' },
      { what: 'ID token', seconds: TTL.IdToken, note: 'RS512' },
      { what: 'Access token', seconds: TTL.AccessToken, note: 'RS512 JWT; expires_in in the token response' },
      {
        what: 'Refresh token',
        seconds: TTL.RefreshToken,
        note: 'Federation spec Table 18; a sandpit client may set session limits (session-management.md, A: up to 30 minutes idle, '
          + '12 hours from authentication) to see its service meet them in minutes: its refresh tokens then end on either (each '
          + 'refresh rotates the token); a refresh may narrow scope, never widen it',
      },
      { what: 'NHS login session', seconds: TTL.Session, note: 'single sign-on between services' },
      {
        what: 'Client assertion (yours)',
        seconds: MAX_ASSERTION_LIFETIME_S,
        note: `the most exp may be after iat (or now, without iat); iat at most ${CLOCK_TOLERANCE_S} s ahead of our clock; jti single use`,
      },
    ],
    errors: ERROR_CODES,
    scopes: scopeTable(),
  };
}

/**
 * Users Endpoint V2 as this environment serves it (its interface specification v1.1), and what we chose where the
 * specification is silent or its examples contradict its tables (each choice is also in the README's differences).
 */
export function usersV2Facts(env: { name: string; issuer: string }) {
  const retrieve = usersRetrieveScope(env.name);
  return {
    endpoint: `${env.issuer}/v2/Users`,
    tokenEndpoint: `${env.issuer}/token`,
    grantType: JWT_BEARER,
    scope: retrieve,
    lifetime: TTL.ClientCredentials,
    attributes: [
      { scope: retrieve, attributes: 'id, active, vectorsOfTrust.IdentityProofing' },
      { scope: 'profile', attributes: 'name.familyName, nhsNumber, birthdate (P5 and P9 accounts)' },
      { scope: 'profile_extended', attributes: 'name.givenName (not in the sandpit, which has no PDS)' },
      { scope: 'email', attributes: 'emails, userName' },
      { scope: 'phone', attributes: 'phoneNumbers (mobile)' },
      { scope: 'landline', attributes: 'phoneNumbers (landline; no test user has one)' },
      { scope: 'gp_registration_details', attributes: 'gpOdsCode' },
      { scope: 'gp_integration_credentials', attributes: 'gpUserId, gpLinkageKey (IM1 clients, P9 accounts with a GP linkage)' },
    ],
    errors: [
      ...Object.values(FILTER_ERROR_TEXT).map((description) => ({ status: 400, description })),
      { status: 403, description: 'No scope was present in the request' },
      { status: 403, description: 'Requested scopes: … did not match the clients approved scopes: …' },
      { status: 403, description: `Scope "${retrieve}" required for access was not present in request` },
      { status: 403, description: 'Scope "profile" required for access was not present in request' },
      { status: 401, description: 'no token, not a Users Endpoint V2 token, expired, or the client suspended or no longer approved' },
    ],
    assumptions: [
      'The scope URL per environment: the specification writes https://auth.<cid-env>.signin.nhs.uk/Users.retrieve; we use the '
        + `sandpit's and integration's (aos) NHS login host names; live's (${usersRetrieveScope('live')}) is a guess.`,
      "Only Table 1's grant type and scope are accepted: the example's grant-assertion-type is unsupported_grant_type, "
        + 'a bare Users.retrieve invalid_scope.',
      'A bad assertion is invalid_grant with status 400 (RFC 7523 §3.1), never invalid_client 401.',
      'No paging: every match in one ListResponse (§2.2 says the endpoint does not implement pagination).',
      'NHS numbers are 10 digits, without a check-digit test (Table 6 asks for no more); '
        + 'an account is found by NHS number only at P5 or P9.',
      'Optional scopes without profile are refused with 403 (Table 10), not ignored.',
      'A token that is not valid is answered 401 invalid_token (RFC 6750 §3.1): the specification lists no such error.',
    ],
  };
}

/**
 * Passkeys as this environment offers them (identity/passkeys, journeys/passkey.ts), for the reference page's #passkeys
 * section: what a service's users see and which vector a passkey sign-in asserts.
 */
export function passkeyFacts(env: { issuer: string }) {
  return {
    rpId: new URL(env.issuer).hostname,
    offered: [
      'A person adds or removes passkeys on the NHS login settings page; adding one needs JavaScript and a browser with WebAuthn.',
      'The sign-in page offers "Sign in with a passkey" only when your request\'s vtr has a vector a passkey alone meets (P9.Cm); '
        + 'a vtr of only Cp vectors signs in with password and security code, as before.',
      'After a passkey the journey goes on as after the security code: a P5 person proves their identity, then consent.',
      'The device must verify the person (fingerprint, face or PIN: user verification required); passkeys are discoverable, '
        + 'so the person types no email address.',
    ],
    vector: 'A passkey sign-in is Cm ("asymmetric cryptographic key within a registered device", vectors-of-trust.md): '
      + 'the ID token\'s vot is P9.Cm and vtm this environment\'s trustmark; amr is ["Cm"].',
    assumptions: [
      'Offered only for P9.Cm: the vector table has no P5.Cm or P0.Cm, so a request must ask for P9.Cm to be offered a passkey.',
      'Passkeys are per environment: one made in the sandpit does not sign in to integration, although both share a host.',
      'FIDO UAF (native apps) is not offered; discovery advertises no fido_uaf_* endpoints.',
    ],
  };
}
