/**
 * The request trace: a client's latest protocol exchanges, newest first, each failure with its precise reason
 * and what to change, pointing at the part of the NHS login interface it comes from.
 */
import { failureText, type Cause, type Db, type ErrorCode, type EventKind, type ProtocolEventTable } from '../storage/index.ts';
import { TEST_PACK } from '../identity/people/test-pack.ts';

export interface TraceRow {
  id: string;
  at: number;
  kind: EventKind;
  outcome: 'ok' | 'error';
  error: ErrorCode | null;
  cause: Cause | null;
  /** The failure in words (code and description), as shown. */
  reason: string | null;
  detail: string | null;
  fix: string | null;
  reference: string | null;
  /** The section of /portal/reference/<env> that specifies it. */
  section: string | null;
}

interface Advice {
  fix: string;
  reference: string;
  /** The section of /portal/reference/<env> that specifies it. */
  section: string;
}

/** Each fix names the part of the interface it comes from and its section of the environment's reference page. */
const BY_CAUSE: Partial<Record<Cause, Advice>> = {
  assertion_audience: {
    fix: "Set the client assertion's aud to the token endpoint URL exactly (openid-client: use modifyAssertion).",
    reference: 'Client assertion (RFC 7523 as profiled by NHS login)',
    section: 'errors',
  },
  assertion_replayed: {
    fix: 'Use a fresh random jti in every client assertion.',
    reference: 'Client assertion: jti single use',
    section: 'errors',
  },
  assertion_subject: {
    fix: 'Set both iss and sub of the client assertion to your client_id.',
    reference: 'Client assertion: iss = sub = client_id',
    section: 'errors',
  },
  assertion_lifetime: {
    fix: 'Make a fresh client assertion for each token request: iat now (check your server clock), exp at most 5 minutes later.',
    reference: 'Lifetimes: client assertion',
    section: 'lifetimes',
  },
  assertion_expired: {
    fix: 'The assertion has expired: give it an exp shortly after now, and check your server clock.',
    reference: 'Client assertion: exp',
    section: 'errors',
  },
  assertion_alg: {
    fix: 'Sign the client assertion with RS512 (not RS256, PS*, HS* or none).',
    reference: 'Client authentication: private_key_jwt, RS512',
    section: 'endpoints',
  },
  assertion_signature: {
    fix: 'The assertion was not signed by the key registered for this client: sign with its private key (and its kid).',
    reference: 'Client keys',
    section: 'endpoints',
  },
  no_client_authentication: {
    fix: 'Authenticate with private_key_jwt: send client_assertion and client_assertion_type, never a client secret.',
    reference: 'Client authentication',
    section: 'endpoints',
  },
  redirect_uri: {
    fix: 'Send exactly one of your registered redirect URIs (no wildcards, same query, same trailing slash) on both /authorize and /token.',
    reference: 'Redirect URIs: exact match',
    section: 'errors',
  },
  code_invalid: {
    fix: 'Exchange each code once, within 10 minutes, with the redirect_uri you used on /authorize.',
    reference: 'Lifetimes: authorization code 10 min, single use',
    section: 'lifetimes',
  },
  state_nonce_missing: {
    fix: 'Send state and nonce with every authorization request, and check both when you get the code back.',
    reference: '/authorize mandatory parameters',
    section: 'errors',
  },
  vtr: {
    fix: 'Request only vectors of trust registered for your client, as a JSON array, e.g. ["P9.Cp.Cd"].',
    reference: 'Vectors of trust',
    section: 'vectors',
  },
  unsupported_parameter: {
    fix: 'Remove that parameter: NHS login does not support it.',
    reference: '/authorize: not supported parameters',
    section: 'errors',
  },
  response_mode: {
    fix: 'Omit response_mode: NHS login answers in the query only.',
    reference: 'Flow: response_mode query only',
    section: 'discovery',
  },
  sso_assertion: {
    fix: 'See the message: assertions are RS512, signed by the first service, single use, at most 60 seconds, for configured pairs only.',
    reference: 'Single sign-on between services',
    section: 'errors',
  },
};

/** Users Endpoint V2's refusals (identity/users-v2): the filter's grammar and the scope rules of its specification. */
const FILTER = {
  fix: 'Write the filter as attribute eq "value" (nhsnumber: 10 digits; email), joined by and/or, at most 5, with straight quotes.',
  reference: 'Users Endpoint V2: filter (§3.3.1)',
  section: 'users-v2',
};
const USERS_V2_ADVICE: Partial<Record<ErrorCode, Advice>> = {
  filter_missing: FILTER, invalid_syntax: FILTER, too_many_expressions: FILTER, invalid_operator: FILTER,
  unsupported_attribute: FILTER, invalid_attribute: FILTER, invalid_nhs_number: FILTER, invalid_email: FILTER,
  no_scope: {
    fix: 'Ask for the token with the jwt-bearer grant and scope including the Users.retrieve URL and profile.',
    reference: 'Users Endpoint V2: token request (§3.2)',
    section: 'users-v2',
  },
  scope_not_approved: {
    fix: 'Ask only for scopes approved for your client: the Users.retrieve URL, profile, and the others the team approved.',
    reference: 'Users Endpoint V2: scopes (§5.1)',
    section: 'users-v2',
  },
  scope_missing: {
    fix: 'Ask for the full Users.retrieve scope URL and profile in the token request: both are needed for every look-up.',
    reference: 'Users Endpoint V2: scopes (§5.1)',
    section: 'users-v2',
  },
  method_not_allowed: { fix: 'Look users up with GET /v2/Users?filter=…', reference: 'Users Endpoint V2', section: 'users-v2' },
  not_found: { fix: 'Look users up with GET /v2/Users?filter=…', reference: 'Users Endpoint V2', section: 'users-v2' },
};

/**
 * Provision Account's refusals (identity/provision): what the partner can change. Its codes' conditions are ours
 * where the specification gives only a description (spec-Provision_Account_v1 §3.3.3 T11; the reference page).
 */
const PROVISION = { reference: 'Provision Account: errors (§3.3.3)', section: 'provision-account' };
const PDS_PERSON = { ...PROVISION, fix: 'Send the NHS number and date of birth of a living test PDS record aged 13 or over.' };
const PROVISION_ADVICE: Partial<Record<ErrorCode, Advice>> = {
  11000: { ...PROVISION, fix: 'Try again later; in the sandpit and integration, check whether you armed the provision_unavailable fault.' },
  11010: { ...PROVISION, fix: 'Check each field\'s format: the detail names the field (Table 7: five JSON strings, the phone with +44).' },
  11021: { ...PROVISION, fix: 'Send an ODS code the NHS login team approved for this client (the portal\'s client page lists them).' },
  11011: { ...PROVISION, fix: 'Wait 15 minutes: each ODS code has a limit of requests in a window.' },
  11003: { ...PROVISION, fix: 'The patient has an invitation from you already: it works for 7 days; send no other until it is used.' },
  11005: { ...PROVISION, fix: 'The patient has a P9 account already: let them sign in with NHS login.' },
  11004: { ...PROVISION, fix: 'The email is another person\'s NHS login: ask the patient for an email of their own.' },
  11007: PDS_PERSON, 11008: { ...PROVISION, fix: 'The patient\'s NHS login has another email: send that one.' },
  11001: PDS_PERSON, 11002: PDS_PERSON, 11006: PDS_PERSON, 11018: PDS_PERSON,
  11009: { ...PROVISION, fix: 'The account\'s "PDS trace fails" switch is on: turn it off on the portal\'s test users page.' },
  11019: { ...PROVISION, fix: 'Clear the provision_unable fault you armed for this client.' },
  invalid_token: { ...PROVISION, fix: 'Send the access token of the client_credentials grant as Authorization: Bearer <token>.' },
  method_not_allowed: { ...PROVISION, fix: 'Send POST /provision-account with the JSON body of Table 7.' },
  not_found: { ...PROVISION, fix: 'Send POST /provision-account with the JSON body of Table 7.' },
};

/** Advice for failures whose code says enough, or whose cause has none of its own (a suspended client, a fault). */
const TEST_USERS = {
  fix: `Sandpit test accounts all use the password ${TEST_PACK.password}.`,
  reference: 'Test users',
  section: 'test-users',
};
const BY_ERROR: Partial<Record<ErrorCode, Advice>> = {
  invalid_scope: {
    fix: 'Request only scopes approved for your client; profile and basic_demographics cannot be requested together.',
    reference: 'Scopes and claims',
    section: 'scopes',
  },
  sso_login_required: {
    fix: 'No NHS login session, or an asserted_login_identity refused (the description says why): log the user in interactively '
      + '(drop prompt=none).',
    reference: 'prompt=none and single sign-on',
    section: 'errors',
  },
  invalid_token: {
    fix: 'Send the access token from the token response unchanged, as a Bearer token, within its 5 minutes.',
    reference: 'Userinfo errors',
    section: 'errors',
  },
  insufficient_scope: {
    fix: 'The access token lacks the scope needed for this call.',
    reference: 'Userinfo errors',
    section: 'errors',
  },
  ConsentNotGiven: {
    fix: 'Expected when you test declining: your service must show its no-consent screen.',
    reference: 'What an RP must do: no-consent screen',
    section: 'errors',
  },
  ...USERS_V2_ADVICE,
  gp_linkage_no_match: {
    fix: 'Enter the GP online services details of the test data for that NHS number (linkage key, account ID, ODS code).',
    reference: 'Test users: GP online services details',
    section: 'gp-linkage',
  },
  wrong_code: {
    fix: `Sandpit test accounts all use the security code ${TEST_PACK.otp}, also for the mobile check.`,
    reference: 'Test users',
    section: 'test-users',
  },
  wrong_password: TEST_USERS,
  unknown_email: TEST_USERS,
  wrong_otp: {
    fix: `Sandpit test accounts all use the security code ${TEST_PACK.otp}.`,
    reference: 'Test users',
    section: 'test-users',
  },
};

const NO_ADVICE = { fix: null, reference: null, section: null };

/** What to change for a failure, chosen by its cause, else by its code. */
export function adviceFor(e: { error: ErrorCode | null; cause: Cause | null; kind?: string }): Advice | typeof NO_ADVICE {
  if (e.kind === 'provision') return (e.error ? PROVISION_ADVICE[e.error] : undefined) ?? NO_ADVICE;
  return (e.cause ? BY_CAUSE[e.cause] : undefined) ?? (e.error ? BY_ERROR[e.error] : undefined) ?? NO_ADVICE;
}

export async function requestTrace(db: Db, env: string, clientId: string, limit = 50): Promise<TraceRow[]> {
  const rows: ProtocolEventTable[] = await db
    .selectFrom('protocol_event')
    .selectAll()
    .where('env', '=', env)
    .where('client_id', '=', clientId)
    .orderBy('at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => {
    const detail = r.details ? ((JSON.parse(r.details) as { detail?: string }).detail ?? null) : null;
    const failure = { error: r.error, cause: r.cause, reason: failureText(r) };
    return {
      id: r.id,
      at: r.at,
      kind: r.kind,
      outcome: r.outcome,
      ...failure,
      detail,
      ...(r.outcome === 'error' ? adviceFor(r) : NO_ADVICE),
    };
  });
}
