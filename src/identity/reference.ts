/**
 * The interface reference of one environment, built from the same objects the environment runs on (its
 * discovery document, scope table, vectors, lifetimes), so the published reference cannot drift from it.
 */
import { CLAIMS_BY_SCOPE, SCOPE_DESCRIPTIONS, SCOPE_LEVELS } from './claims.ts';
import { CLOCK_TOLERANCE_S, MAX_ASSERTION_LIFETIME_S, TTL } from './provider.ts';
import { DEFAULT_VTR, SUPPORTED_VECTORS } from './vectors.ts';

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
  { where: '/authorize (redirect)', code: 'sso_login_required', when: 'prompt=none without an NHS login session meeting the vtr' },
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
      { what: 'Refresh token', seconds: TTL.RefreshToken, note: 'a refresh may narrow scope, never widen it' },
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
