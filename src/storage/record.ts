/**
 * The protocol record's closed vocabulary: the kinds of event, and for each kind the codes its failures are stored
 * under. It is the schema of the protocol_event table, so it lives with the table: identity writes the record,
 * onboarding, conformance and observability read it, and all of them import these types from storage (the arrows
 * point down; storage imports none of them). Pure types and lists only: no engine wording, no SQL.
 *
 * A failure's code is kept apart from its human description, as OAuth keeps `error` apart from `error_description`
 * (RFC 6749 §5.2) and oidc-provider keeps `error_detail` apart from both. Readers switch on the code and the cause;
 * the description is only shown.
 */

/**
 * The error codes of the exchanges (authorize, token, userinfo): RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, OpenID
 * Connect Core §3.1.2.6, NHS login's own `sso_login_required`, and every other code the engine (oidc-provider) can
 * answer with, so that each of its errors has a code of its own (identity/refusals.test.ts checks it).
 */
export const OAUTH_ERRORS = [
  'invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope',
  'access_denied', 'unsupported_response_type', 'server_error', 'temporarily_unavailable',
  'invalid_token', 'insufficient_scope',
  'login_required', 'consent_required', 'interaction_required', 'account_selection_required', 'invalid_request_object',
  'invalid_request_uri', 'request_not_supported', 'request_uri_not_supported', 'registration_not_supported',
  'sso_login_required',
  'invalid_redirect_uri', 'invalid_client_metadata', 'authorization_pending', 'expired_login_hint_token', 'expired_token',
  'invalid_binding_message', 'invalid_authorization_details', 'invalid_credential_request', 'invalid_nonce', 'invalid_dpop_proof',
  'invalid_proof', 'invalid_software_statement', 'invalid_target', 'unknown_credential_configuration',
  'unknown_credential_identifier', 'invalid_user_code', 'missing_user_code', 'slow_down', 'transaction_failed',
  'unapproved_software_statement', 'unknown_user_id', 'unmet_authentication_requirements', 'unsupported_response_mode',
  'credential_request_denied', 'use_dpop_nonce', 'unsupported_token_type', 'use_attestation_challenge', 'use_fresh_attestation',
  'invalid_client_attestation',
] as const;
export type OAuthError = (typeof OAUTH_ERRORS)[number];

/**
 * Why an exchange failed, finer than its OAuth code: what the trace's advice is chosen by. The identity face
 * classifies each refusal once, where it is caught (identity/refusals.ts).
 */
export const CAUSES = [
  'assertion_audience', 'assertion_replayed', 'assertion_subject', 'assertion_lifetime', 'assertion_expired', 'assertion_alg',
  'assertion_signature', 'no_client_authentication', 'redirect_uri', 'code_invalid', 'state_nonce_missing', 'vtr',
  'unsupported_parameter', 'response_mode', 'sso_assertion', 'client_suspended', 'fault_injected',
] as const;
export type Cause = (typeof CAUSES)[number];

/** The codes of the journeys' failures (identity/journeys, identity/http.ts). */
export const JOURNEY_ERRORS = {
  sign_in: ['throttled', 'account_busy', 'wrong_password', 'unknown_email'],
  otp: ['otp_locked', 'throttled', 'otp_busy', 'wrong_otp'],
  consent: ['ConsentNotGiven'],
  uplift: ['pds_no_match', 'gp_linkage_no_match', 'wrong_code', 'throttled'],
  registration: ['address_rate_limited'],
  settings: ['no_session'],
  // Provision Account's claiming journey (identity/journeys/claim.ts).
  provision_claim: ['otp_wrong', 'otp_locked', 'pds_recheck_failed', 'wrong_password', 'password_locked'],
  // Passkeys (identity/passkeys): the ceremonies' refusals (ceremonies.ts PasskeyRefusal) and the page's own.
  passkey_register: ['cancelled', 'unreadable', 'challenge', 'not_verified', 'already_registered', 'unknown_passkey', 'counter'],
  passkey_remove: ['unknown_passkey'],
  passkey_sign_in: ['cancelled', 'unreadable', 'challenge', 'not_verified', 'unknown_passkey', 'counter'],
} as const;

/**
 * The codes of Users Endpoint V2's refusals (identity/users-v2): one per row of its interface specification's error
 * tables (v1.1, §3.3.3 Tables 9 and 10), and ours for what it leaves unsaid (a token that is not one, an unknown path).
 */
export const USERS_V2_ERRORS = [
  'filter_missing', 'invalid_syntax', 'too_many_expressions', 'invalid_operator', 'unsupported_attribute', 'invalid_attribute',
  'invalid_nhs_number', 'invalid_email', 'no_scope', 'scope_not_approved', 'scope_missing', 'invalid_token', 'not_found',
  'method_not_allowed', 'server_error',
] as const;
export type UsersV2Error = (typeof USERS_V2_ERRORS)[number];

/**
 * The codes of Provision Account's refusals (identity/provision): its own (spec-Provision_Account_v1 §3.3.3 T10, T11),
 * and ours for what it leaves unsaid (a token that is not one, another method, an unknown path).
 */
export const PROVISION_ERRORS = [
  '11000', '11001', '11002', '11003', '11004', '11005', '11006', '11007', '11008', '11009', '11010', '11011', '11018', '11019',
  '11021', 'invalid_token', 'method_not_allowed', 'not_found',
] as const;
export type ProvisionError = (typeof PROVISION_ERRORS)[number];

/**
 * The codes of the stand-in GP system's refusals (identity/gp-system): the body was not three credentials, or the GP
 * system no longer accepts them (moved practice, system changed, merged, revoked).
 */
export const GP_SESSION_ERRORS = ['invalid_request', 'credentials_invalid'] as const;
export type GpSessionError = (typeof GP_SESSION_ERRORS)[number];

/** An exchange the engine failed with a code outside OAUTH_ERRORS; a test sees that none of its errors is one. */
export const UNCLASSIFIED = 'unclassified';

export const EXCHANGE_KINDS = ['authorize', 'token', 'userinfo', 'userinfo_patch'] as const;
export type ExchangeKind = (typeof EXCHANGE_KINDS)[number];
export type JourneyKind = keyof typeof JOURNEY_ERRORS;
/** Every kind of event; a `fault` records a response the toolkit spoiled on purpose (identity/faults.ts). */
export const EVENT_KINDS = [
  ...EXCHANGE_KINDS, ...(Object.keys(JOURNEY_ERRORS) as JourneyKind[]), 'users_v2', 'provision', 'fault',
  'gp_session', 'gp_state',
] as const;
export type EventKind = ExchangeKind | JourneyKind | 'users_v2' | 'provision' | 'fault' | 'gp_session' | 'gp_state';

type ErrorOf = { [K in ExchangeKind]: OAuthError | typeof UNCLASSIFIED } & { [K in JourneyKind]: (typeof JOURNEY_ERRORS)[K][number] }
  & { users_v2: UsersV2Error; provision: ProvisionError; gp_session: GpSessionError; gp_state: never };
/** Every failure code, of any kind. */
export type ErrorCode = ErrorOf[keyof ErrorOf];

interface Common {
  env: string;
  clientId?: string | undefined;
  correlationId?: string | undefined;
  person?: string | undefined;
  details?: Record<string, unknown> | undefined;
}
type Succeeded<K> = Common & { kind: K; outcome: 'ok' };
type Failed<K extends keyof ErrorOf> = Common & {
  kind: K;
  outcome: 'error';
  error: ErrorOf[K];
  cause?: Cause | undefined;
  /** What a person reads: the OAuth error_description, never parsed. */
  description?: string | undefined;
};
/** A fault applied to a response; `fault` is identity/faults.ts's name for it. */
type FaultApplied = Common & { kind: 'fault'; outcome: 'ok'; fault: string };

/** One entry of the protocol record, as written. */
export type ProtocolEvent = { [K in keyof ErrorOf]: Succeeded<K> | Failed<K> }[keyof ErrorOf] | ExchangeEvent | FaultApplied;
/** An exchange of any of the exchange kinds, which share their codes (what the profile records for every route). */
export type ExchangeEvent = Succeeded<ExchangeKind> | Failed<ExchangeKind>;

/** How an exchange failed, as the identity face hands it to the record. */
export interface ExchangeFailure {
  error: OAuthError | typeof UNCLASSIFIED;
  cause?: Cause | undefined;
  description?: string | undefined;
  /** The engine's error_detail, kept in the event's details. */
  detail?: string | undefined;
}

const ALL_CODES = new Set<string>([...OAUTH_ERRORS, UNCLASSIFIED, ...Object.values(JOURNEY_ERRORS).flat(), ...USERS_V2_ERRORS,
  ...PROVISION_ERRORS, ...GP_SESSION_ERRORS]);
export const isErrorCode = (v: unknown): v is ErrorCode => typeof v === 'string' && ALL_CODES.has(v);
export const isCause = (v: unknown): v is Cause => typeof v === 'string' && (CAUSES as readonly string[]).includes(v);

/** The failure as one line, for people: `invalid_scope: profile and basic_demographics cannot be requested together`. */
export function failureText(e: { error: string | null; description: string | null }): string | null {
  return e.error === null ? null : [e.error, e.description].filter(Boolean).join(': ');
}
