/**
 * The toolkit's errors: one base class and one closed table of codes (after jose's src/util/errors.ts). Each
 * code carries its HTTP status and, where a form asks for it, the field it is about, so a face translates an
 * error by its code alone: the API's JSON (src/api/context.ts), a form's error summary (src/web/problems.ts),
 * the CLI's exit line (src/cli/main.ts). A face never reads a message to decide what to answer.
 *
 * The codes are the API's stable `error` values too: API clients rely on them, so a code is never renamed;
 * a new one is added to the OpenAPI document and the README. Protocol endpoints answer with their
 * specification's codes (RFC 6749, RFC 7591), not these.
 *
 * This module imports nothing, so every layer may use it.
 */

interface Spec {
  status: number;
  /** The form field it is about when every throw is about the same one; a throw may name another. */
  field?: string;
  meaning: string;
}

export const ERROR_CODES = {
  // Accounts and sign-in
  invalid_email: { status: 400, field: 'email', meaning: 'not an email address' },
  weak_password: { status: 400, field: 'password', meaning: 'the password is too short, too long or too common' },
  invalid_name: { status: 400, field: 'name', meaning: 'a name (person, organisation, token, client) is missing or too long' },
  email_taken: { status: 409, field: 'email', meaning: 'already registered: an account, member, team member or test user for the record' },
  bad_credentials: { status: 401, field: 'email', meaning: 'wrong email, password or code' },
  code_used: { status: 401, field: 'code', meaning: 'the one-time code was already used' },
  email_not_confirmed: { status: 403, field: 'email', meaning: 'the account\'s email address is not confirmed yet' },
  throttled: { status: 429, field: 'email', meaning: 'too many failed sign-ins: wait' },
  busy: { status: 429, field: 'email', meaning: 'a sign-in to this account is under way: try again in a few seconds' },
  invalid_link: { status: 400, meaning: 'an emailed or set-up link has expired or was used' },
  server_busy: { status: 503, meaning: 'too many passwords being checked at this moment' },
  // Organisations, members, the team
  invalid_ods_code: { status: 400, field: 'ods_code', meaning: 'not an ODS code' },
  not_a_member: { status: 403, meaning: 'not a member of the organisation, or not one of its partner admins' },
  last_admin: { status: 409, meaning: 'the organisation (or the team) must keep at least one admin' },
  invalid_role: { status: 400, field: 'role', meaning: 'not one of the roles offered' },
  not_found: { status: 404, meaning: 'no such thing here (or it is another organisation\'s)' },
  rate_limited: { status: 429, meaning: 'too many messages or invitations in 15 minutes' },
  // Free text and choices on forms
  invalid_text: { status: 400, meaning: 'a message, reason or note is empty or too long' },
  invalid_choice: { status: 400, meaning: 'not one of the answers offered (a status, a proofing level, a document kind, a PDS record)' },
  invalid_test_user: {
    status: 400, meaning: 'a test user\'s NHS number, name, birth date, postcode, GP practice, phone number or GP linkage is not valid',
  },
  // The application, documents, gates and environments
  application_incomplete: { status: 400, meaning: 'the application cannot be submitted: problems[] lists each field' },
  already_submitted: { status: 409, meaning: 'the application is already submitted' },
  file_missing: { status: 400, field: 'file', meaning: 'no file, or an empty one' },
  file_too_large: { status: 413, field: 'file', meaning: 'the file is over 10 MB' },
  invalid_file_type: { status: 400, field: 'file', meaning: 'not a PDF, .docx, .xlsx, .odt or .ods file' },
  invalid_decision: { status: 400, field: 'decision', meaning: 'not approve, reject or request changes' },
  not_ready: { status: 409, meaning: 'not yet: the message lists what is missing' },
  invalid_env: { status: 400, field: 'env', meaning: 'not an environment that can be requested' },
  env_not_approved: { status: 403, field: 'env', meaning: 'clients in this environment wait for the team\'s approval' },
  // Clients (also what registration checks)
  invalid_redirect_uri: { status: 400, field: 'redirect_uri', meaning: 'a redirect URI NHS login would refuse' },
  too_many_redirect_uris: { status: 400, field: 'redirect_uri', meaning: 'more redirect URIs than allowed' },
  invalid_public_key: { status: 400, field: 'public_key', meaning: 'not an RSA public key in PEM or JWK' },
  weak_public_key: { status: 400, field: 'public_key', meaning: 'the RSA key is shorter than 2048 bits' },
  duplicate_kid: { status: 400, field: 'jwks_uri', meaning: 'two keys of the JWKS share a kid' },
  invalid_jwks_uri: { status: 400, field: 'jwks_uri', meaning: 'the JWKS URL cannot be used or fetched' },
  invalid_scope: { status: 400, field: 'scope', meaning: 'a scope NHS login does not have, or not allowed for this client' },
  invalid_vtr: { status: 400, field: 'vtr', meaning: 'a vector of trust NHS login does not support, or none' },
  invalid_sso_pair: { status: 400, field: 'to', meaning: 'a single sign-on pair that cannot be (a client into itself)' },
  invalid_fault: { status: 400, field: 'kind', meaning: 'a fault that cannot be armed (unknown, a bad count, in live)' },
  invalid_session_rules: { status: 400, field: 'idle_minutes', meaning: 'session limits out of range, or set outside the sandpit' },
  invalid_nhs_app_url: { status: 400, field: 'nhs_app_url', meaning: 'an NHS App address that is not https (localhost: sandpit), or live' },
  outbound_refused: { status: 502, meaning: 'a partner\'s URL is not public or did not answer usably (its caller names the field)' },
  // Signing keys
  no_next_key: { status: 409, meaning: 'no published next key to switch to' },
  no_retired_keys: { status: 409, meaning: 'no retired keys to remove' },
  keys_still_valid: { status: 409, meaning: 'retired keys may still verify ID tokens: remove them later' },
  // Conformance runs
  run_refused: { status: 409, field: 'client_id', meaning: 'no such client, or a run for it (or too many runs) in progress' },
  invalid_start_url: { status: 400, field: 'start_url', meaning: 'the start URL cannot be tested' },
  live_not_allowed: { status: 400, field: 'env', meaning: 'conformance runs are never in live' },
  unknown_test: { status: 400, field: 'only', meaning: 'a test id the catalogue does not have for this client' },
  run_lost: { status: 409, meaning: 'another toolkit instance ended the run' },
  invalid_report: { status: 400, meaning: 'not a conformance report signed by this toolkit, or changed' },
  // The request itself (answered by src/web/errors.ts and the API's own checks)
  unauthorized: { status: 401, meaning: 'no valid organisation API token' },
  invalid_request: { status: 400, meaning: 'a value in the request is not valid or could not be read' },
  invalid_json: { status: 400, meaning: 'the body is not valid JSON' },
  too_large: { status: 413, meaning: 'the body is too large' },
  unsupported_media_type: { status: 415, meaning: 'send application/json' },
  server_error: { status: 500, meaning: 'something went wrong on our side' },
  // Start-up and the command line
  invalid_config: { status: 500, meaning: 'an environment variable is not valid (at start-up)' },
  usage: { status: 400, meaning: 'the command line is not one the CLI takes' },
  server_unreachable: { status: 502, meaning: 'the toolkit the CLI talks to did not answer, or is not the one its configuration names' },
} as const satisfies Record<string, Spec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);

/** The base of every error the toolkit throws on purpose; anything else reaching a face is a 500. */
export class ToolkitError<C extends ErrorCode = ErrorCode> extends Error {
  override name = 'ToolkitError';
  readonly code: C;
  readonly field: string | undefined;
  constructor(code: C, message: string, field?: string) {
    super(message);
    this.code = code;
    const spec: Spec = ERROR_CODES[code];
    this.field = field ?? spec.field;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}
