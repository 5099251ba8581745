/**
 * The test plan for one client, generated from the vectors and scopes it is registered for: the NHS technical
 * conformance scenarios, and negative cases in the style of the OpenID Foundation's RP tests, each with the
 * requirement it checks and where that requirement comes from (NHS login interface facts).
 */
import type { AnyFault } from '../identity/faults.ts';
import { testIssuerUrl, type TestIssuerKind } from '../identity/test-issuers.ts';
import { ToolkitError } from '../errors.ts';

export type Persona = 'P9' | 'P5' | 'P0' | 'im1-linked' | 'im1-unlinked';

/** How a test is judged once the browser is back at the service. */
export type Expect =
  | 'signed_in' // the journey ends on the service's signed-in page, and the service redeemed the code
  | 'no_consent_screen' // the no-consent screen, by its content, and no session
  | 'error_not_crash' // an error shown to the person: not a server failure, not signed in
  | 'refused' // not signed in, and no further call with the bad token (no userinfo after a bad ID token)
  | 'settings_reachable' // a link to the NHS login settings page that works without signing in again
  | 'completes' // back at the service with a page that is not a server failure (signed in or not)
  | 'copes' // the fault was met, and the service shows a page that is not a server failure (signed in or not)
  | 'gp_no_loop' // the GP system kept refusing the credentials: the service restarted the login at most once, then showed a page
  | 'reauthenticates' // after the client's idle limit, the service's page leads to NHS login's sign-in page by itself
  | 'times_out' // the token endpoint held its answer: the service gave up, not signed in, and showed a page of its own
  | 'redeems_once' // signed in, then the callback opened again: no second token request for its code, and a page of its own
  | 'discovery_refused' // the service read its test issuer's discovery document and did not send the person to NHS login with it
  | 'gp_restricted'; // after a Restricted GP session, a sign-in with credentials, a Linked session, and the signed-in page

export interface TestSpec {
  id: string;
  title: string;
  requirement: string;
  /** Where the requirement comes from. */
  reference: string;
  group: 'scenario' | 'negative';
  persona: Persona;
  expect: Expect;
  fault?: AnyFault;
  decline?: boolean;
  /** The journey starts in the stand-in NHS App (identity/nhs-app), which opens the service at its NHS App address. */
  via?: 'nhs_app';
  /**
   * The service must be configured with its client's test issuer of this kind (identity/test-issuers.ts): run only when the
   * run is given the start URL of a service so configured (`startUrls`).
   */
  issuer?: TestIssuerKind;
}

const idTokenRefusal = (id: string, fault: AnyFault, what: string): TestSpec => ({
  id, group: 'negative', persona: 'P9', expect: 'refused', fault,
  title: `Refuses an ID token ${what}`,
  requirement:
    'The relying party validates the ID token (OpenID Connect Core 3.1.3.7) and, ' +
      'when it is not valid, does not sign the person in or use the access token.',
  reference: 'OIDF RP tests; NHS login interface: ID token claims and signing (RS512)',
});

export const CATALOGUE: TestSpec[] = [
  {
    id: 'login-p9',
    group: 'scenario',
    persona: 'P9',
    expect: 'signed_in',
    title: 'A P9 user signs in and reaches the signed-in page',
    requirement: 'Login with a user at P9 ends in the service, signed in.',
    reference: 'NHS login technical conformance: logins with users at P0, P5 and P9',
  },
  {
    id: 'login-p5',
    group: 'scenario',
    persona: 'P5',
    expect: 'signed_in',
    title: 'A P5 user signs in (proving their identity if the service needs P9)',
    requirement: 'A user below the level is asked to uplift, then returns to the service.',
    reference: 'NHS login technical conformance: logins, uplift',
  },
  {
    id: 'login-p0',
    group: 'scenario',
    persona: 'P0',
    expect: 'signed_in',
    title: 'A P0 user (a new registration in the sandpit) signs in, proving their identity as needed',
    requirement: 'Registration of a new user, and a user below the level uplifts and returns.',
    reference: 'NHS login technical conformance: registration; logins, uplift',
  },
  {
    id: 'consent-declined',
    group: 'scenario',
    persona: 'P9',
    expect: 'no_consent_screen',
    decline: true,
    title: "Declining consent shows the service's no-consent screen",
    requirement:
      'After access_denied with ConsentNotGiven the service shows "You cannot continue without ' +
        'sharing your information" with links to 111.nhs.uk, 111 and 999, and has no session.',
    reference: 'NHS login interface: what an RP must do (no-consent screen)',
  },
  {
    id: 'invalid-scope',
    group: 'scenario',
    persona: 'P9',
    expect: 'error_not_crash',
    fault: 'authorize_invalid_scope',
    title: 'An invalid_scope answer is shown as an error, not a crash',
    requirement: 'Requesting a scope the service may not use gives invalid_scope, which the service handles with a suitable error.',
    reference: 'NHS login technical conformance: invalid_scope; interface: /authorize errors',
  },
  {
    id: 'authorize-temporarily-unavailable',
    group: 'negative',
    persona: 'P9',
    expect: 'error_not_crash',
    fault: 'authorize_temporarily_unavailable',
    title: 'A temporarily_unavailable answer from /authorize is shown as an error, not a crash',
    requirement: 'The service shows a suitable error for every OIDC error it can be sent (RFC 6749 4.1.2.1), not a server failure.',
    reference: 'NHS login interface: what an RP must do (any other OIDC error); OIDF RP tests',
  },
  {
    id: 'authorize-server-error',
    group: 'negative',
    persona: 'P9',
    expect: 'error_not_crash',
    fault: 'authorize_server_error',
    title: 'A server_error answer from /authorize is shown as an error, not a crash',
    requirement: 'The service shows a suitable error for every OIDC error it can be sent (RFC 6749 4.1.2.1), not a server failure.',
    reference: 'NHS login interface: what an RP must do (any other OIDC error); OIDF RP tests',
  },
  {
    id: 'wrong-state',
    group: 'negative',
    persona: 'P9',
    expect: 'refused',
    fault: 'authorize_wrong_state',
    title: 'Refuses an authorization response whose state is not the one it sent, and does not redeem its code',
    requirement: 'The service checks that state matches the value it sent (OpenID Connect Core 3.1.2.7; RFC 6749 10.12, CSRF).',
    reference: 'OIDF RP tests; NHS login interface: /authorize (state)',
  },
  {
    id: 'userinfo-invalid-token',
    group: 'negative',
    persona: 'P9',
    expect: 'copes',
    fault: 'userinfo_invalid_token',
    title: 'A userinfo request refused 401 invalid_token is handled, not a crash',
    requirement: 'When /userinfo refuses the access token (RFC 6750 3.1), the service shows a page of its own, not a server failure.',
    reference: 'NHS login interface: userinfo errors (401 invalid_token); OIDF RP tests',
  },
  {
    id: 'userinfo-server-error',
    group: 'negative',
    persona: 'P9',
    expect: 'copes',
    fault: 'userinfo_server_error',
    title: 'A userinfo request that fails with HTTP 500 is handled, not a crash',
    requirement: 'When /userinfo fails, the service shows a page of its own, not a server failure.',
    reference: 'NHS login interface: userinfo; OIDF RP tests',
  },
  {
    id: 'vot-matches',
    group: 'scenario',
    persona: 'P9',
    expect: 'signed_in',
    title: 'The service asks for explicit vectors of trust and gets a matching vot',
    requirement: 'The vot in the response matches the vtr in the request (the service sends vtr).',
    reference: 'NHS login technical conformance: vot matches vtr',
  },
  {
    id: 'settings-link',
    group: 'scenario',
    persona: 'P9',
    expect: 'settings_reachable',
    title: 'The signed-in page links to the NHS login settings page, reached without signing in again',
    requirement: 'Services link to the NHS login settings page without making the user sign in again.',
    reference: 'NHS login interface: single sign-on between services; settings page',
  },
  {
    id: 'im1-linked',
    group: 'scenario',
    persona: 'im1-linked',
    expect: 'signed_in',
    title: 'IM1: a user linked to their GP account signs in',
    requirement: 'The user is linked to the GP account (gp_integration_credentials).',
    reference: 'NHS login technical conformance: IM1',
  },
  {
    id: 'im1-unlinked',
    group: 'scenario',
    persona: 'im1-unlinked',
    expect: 'completes',
    title: 'IM1: a user without GP linkage is handled without a crash',
    requirement: 'A user with invalid IM1 details cannot reach GP online services; the service copes.',
    reference: 'NHS login technical conformance: IM1',
  },
  {
    id: 'im1-gp-refused',
    group: 'scenario',
    persona: 'im1-linked',
    expect: 'gp_no_loop',
    fault: 'userinfo_gp_revoked',
    title: 'IM1: GP credentials the GP system keeps refusing do not send the person round an endless login loop',
    requirement:
      'The service may restart the login once for refreshed gp_integration_credentials, and must not loop when they genuinely '
        + 'cannot be retrieved (online access revoked at the GP system).',
    reference: 'NHS login: using NHS login to create or retrieve GP credentials (validation; assumptions)',
  },
  {
    id: 'im1-gp-restricted',
    group: 'scenario',
    persona: 'im1-linked',
    expect: 'gp_restricted',
    fault: 'userinfo_gp_restricted',
    title: 'IM1: a Restricted GP account sends the person back to NHS login to sign in again',
    requirement:
      'When POST /Session answers "ApplicationLinkLevel": "Restricted", the service redirects the person back to NHS login '
        + 'to re-authenticate (prompt=login), which lifts the restriction.',
    reference: 'NHS login GP credentials, EMIS Web guidance: handling account resets and restrictions',
  },
  {
    id: 'session-idle',
    group: 'scenario',
    persona: 'P9',
    expect: 'reauthenticates',
    title: 'After the idle limit, coming back to the service starts a full authentication at NHS login',
    requirement:
      'After the session\'s idle limit (30 minutes; the client\'s own shorter limit in the sandpit) the service sends the person '
        + 'through a full authentication journey (prompt=login or max_age), automatically, without user interaction.',
    reference: 'NHS login session management, A: standalone web applications',
  },
  {
    id: 'nhs-app-login',
    group: 'scenario',
    persona: 'P9',
    expect: 'signed_in',
    via: 'nhs_app',
    title: 'Opened from the NHS App, the person is signed in with the NHS App\'s assertion, not asked to sign in again',
    requirement: 'The service sends the assertedLoginIdentity the NHS App opened it with to NHS login as asserted_login_identity.',
    reference: 'NHS login interface: single sign-on between services (the NHS App opens a service with ?assertedLoginIdentity=)',
  },
  {
    id: 'nhs-app-consent-declined',
    group: 'scenario',
    persona: 'P9',
    expect: 'no_consent_screen',
    decline: true,
    via: 'nhs_app',
    title: 'Opened from the NHS App, declining consent shows the NHS App\'s no-consent screen',
    requirement: 'A service used from the NHS App shows NHS login\'s NHS App content: "Close this tab to go back to NHS App."',
    reference: 'NHS login no-consent guidance: services that use NHS App (in the browser)',
  },
  {
    id: 'nhs-app-sso-refused',
    group: 'negative',
    persona: 'P9',
    expect: 'error_not_crash',
    fault: 'authorize_sso_refused',
    via: 'nhs_app',
    title: 'Opened from the NHS App with an assertion NHS login refuses, the service shows an error of its own, not a crash',
    requirement:
      'An asserted_login_identity NHS login cannot honour (single use, 60 seconds) is refused on the redirect: sso_login_required '
        + 'under prompt=none (Federation spec 3.4.5.2, "when SSO validations fail"), else invalid_request. The service shows it.',
    reference: 'NHS login interface: single sign-on between services; /authorize errors (sso_login_required); OIDF RP tests',
  },
  idTokenRefusal('bad-signature', 'id_token_invalid_signature', 'with an invalid signature'),
  idTokenRefusal('alg-none', 'id_token_alg_none', 'with alg "none"'),
  idTokenRefusal('wrong-iss', 'id_token_wrong_iss', 'from the wrong issuer'),
  idTokenRefusal('wrong-aud', 'id_token_wrong_aud', 'for another audience'),
  idTokenRefusal('missing-aud', 'id_token_no_aud', 'without an audience'),
  idTokenRefusal('wrong-nonce', 'id_token_wrong_nonce', 'with the wrong nonce'),
  idTokenRefusal('expired', 'id_token_expired', 'that has expired'),
  idTokenRefusal('future-iat', 'id_token_future_iat', 'issued in the future'),
  idTokenRefusal('wrong-vot', 'id_token_wrong_vot', 'whose vot was not requested'),
  idTokenRefusal('unknown-kid', 'id_token_unknown_kid', 'signed with a key not in the JWKS'),
  idTokenRefusal('hs256-public-key', 'id_token_hs256_public_key', 'signed HS256 with the public key as secret (RFC 8725 3.1)'),
  idTokenRefusal('rs256', 'id_token_rs256', 'signed RS256 where NHS login signs RS512'),
  idTokenRefusal('no-sub', 'id_token_no_sub', 'without sub'),
  idTokenRefusal('no-exp', 'id_token_no_exp', 'without exp'),
  idTokenRefusal('no-iat', 'id_token_no_iat', 'without iat'),
  idTokenRefusal('iss-trailing-slash', 'id_token_iss_trailing_slash', 'whose iss has a trailing slash'),
  idTokenRefusal('extra-aud', 'id_token_extra_aud', 'for another audience as well, without azp (OIDC Core 3.1.3.7)'),
  {
    id: 'kid-absent',
    group: 'negative',
    persona: 'P9',
    expect: 'copes',
    fault: 'id_token_no_kid',
    title: 'Copes with an ID token without kid while the JWKS has several keys',
    requirement:
      'With several keys in the JWKS an ID token must name its key (OpenID Connect Core 10.1): the service either refuses it or '
        + 'tries the keys that fit, and in either case shows a page of its own, not a server failure.',
    reference: 'OIDF RP tests (rp-id_token-kid-absent-multiple-jwks); NHS login interface: endpoints (jwks)',
  },
  {
    id: 'slow-token',
    group: 'negative',
    persona: 'P9',
    expect: 'times_out',
    fault: 'token_slow',
    title: 'Gives up on a token endpoint that does not answer, and tells the person',
    requirement:
      'When /token does not answer (held here for 35 s), the service stops waiting (a timeout well under 30 s), does not sign '
        + 'the person in, and shows a page of its own saying there is a problem, not a server failure or an endless wait.',
    reference: 'OIDF RP tests; NHS login interface: what an RP must do (handle every error); RFC 6749 5.2',
  },
  {
    id: 'code-reuse',
    group: 'negative',
    persona: 'P9',
    expect: 'redeems_once',
    title: 'Does not redeem the authorization code again when the callback is opened again',
    requirement:
      'The service must not use an authorization code more than once: when the person comes back to the callback (the Back '
        + 'button, a reload), it does not send the code to /token again (NHS login refuses it, invalid_grant, and revokes the '
        + 'tokens it issued for that code), and it shows a page of its own, not a server failure.',
    reference: 'NHS login Federation spec 3.4 (authentication response: code); RFC 6749 4.1.2 and 10.5',
  },
  {
    id: 'userinfo-sub',
    group: 'negative',
    persona: 'P9',
    expect: 'refused',
    fault: 'userinfo_sub_mismatch',
    title: "Refuses userinfo whose sub differs from the ID token's",
    requirement: 'The userinfo sub must equal the ID token sub (OpenID Connect Core 5.3.2); otherwise the response is not used.',
    reference: 'NHS login interface: scopes and claims (userinfo sub)',
  },
  {
    id: 'key-rotation',
    group: 'negative',
    persona: 'P9',
    expect: 'signed_in',
    fault: 'id_token_new_key',
    title: 'Picks up a new signing key from the JWKS',
    requirement: 'When NHS login rotates its keys, the relying party fetches the JWKS again for a kid it does not know.',
    reference: 'NHS login interface: endpoints (jwks); key rotation',
  },
  {
    id: 'jwks-unparseable-key',
    group: 'negative',
    persona: 'P9',
    expect: 'signed_in',
    fault: 'id_token_test_issuer',
    issuer: 'unparseable-jwk',
    title: 'Ignores a key in the JWKS that it cannot import, and signs the person in with the key the ID token names',
    requirement:
      'A JWK Set may hold keys a relying party does not understand; it ignores them (RFC 7517 5: "Implementations SHOULD ignore '
        + 'JWKs within a JWK Set that use kty values that are not understood by them, that are missing required members, or for '
        + 'which values are out of the supported ranges") and verifies the ID token with the key its kid names.',
    reference: 'OIDF RP tests; RFC 7517 5; NHS login interface: endpoints (jwks), key rotation',
  },
  {
    id: 'discovery-issuer-mismatch',
    group: 'negative',
    persona: 'P9',
    expect: 'discovery_refused',
    issuer: 'issuer-mismatch',
    title: 'Does not use a discovery document whose issuer is not the issuer it was fetched for',
    requirement:
      'The issuer in the discovery document must be identical to the issuer URL it was fetched from; "If these values are not '
        + 'identical, the data contained in the response MUST NOT be used" (OpenID Connect Discovery 1.0 4.3): the service does not '
        + 'send the person to the authorization endpoint it names.',
    reference: 'OIDF RP tests (rp-discovery-issuer-not-matching-config); OpenID Connect Discovery 1.0 4.3',
  },
];

interface PlannedClient {
  env: string;
  im1: boolean;
  nhsAppUrl?: string | null | undefined;
  sessionIdleS?: number | null | undefined;
}

/**
 * The client's tests: IM1's for IM1 clients, the NHS App's for clients with an NHS App address, the idle limit's for
 * clients with a shortened one (a run cannot wait the documented 30 minutes), and a test issuer's when the run has the start
 * URL of the service configured with it.
 */
export function planFor(client: PlannedClient, only?: string[], startUrls: Record<string, string> = {}): TestSpec[] {
  const applicable = CATALOGUE.filter((t) => (client.im1 || !t.id.startsWith('im1-')) && (client.nhsAppUrl || t.via !== 'nhs_app')
    && (client.sessionIdleS || t.expect !== 'reauthenticates') && (!t.issuer || Object.hasOwn(startUrls, t.id)));
  if (!only?.length) return applicable;
  const unknown = only.filter((id) => !applicable.some((t) => t.id === id));
  const needsIssuer = unknown.find((id) => CATALOGUE.some((t) => t.id === id && t.issuer));
  if (needsIssuer)
    throw new PlanError(`The test ${needsIssuer} needs the start URL of your service configured with its test issuer (start_urls)`);
  if (unknown.length)
    throw new PlanError(
      `Unknown test${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: choose from ${applicable.map((t) => t.id).join(', ')}`,
    );
  return applicable.filter((t) => only.includes(t.id));
}

/** The tests that need the service configured with a test issuer of the client's, and that issuer, by test. */
export function testIssuersOf(issuer: string, clientId: string): Record<string, string> {
  return Object.fromEntries(CATALOGUE.flatMap((t) => (t.issuer ? [[t.id, testIssuerUrl(issuer, clientId, t.issuer)]] : [])));
}

export class PlanError extends ToolkitError<'unknown_test'> {
  override name = 'PlanError';
  constructor(message: string) {
    super('unknown_test', message, 'only');
  }
}
