/**
 * The request trace: a client's latest protocol exchanges, newest first, each failure with its precise reason
 * and what to change, pointing at the part of the NHS login interface it comes from.
 */
import type { Db, ProtocolEventTable } from '../storage/index.ts';
import { TEST_PACK } from '../identity/people/test-pack.ts';

export interface TraceRow {
  id: string;
  at: number;
  kind: string;
  outcome: 'ok' | 'error';
  reason: string | null;
  detail: string | null;
  fix: string | null;
  reference: string | null;
  /** The section of /portal/reference/<env> that specifies it. */
  section: string | null;
}

/** Each fix names the part of the interface it comes from and its section of the environment's reference page. */
const FIXES: { test: RegExp; fix: string; reference: string; section: string }[] = [
  {
    test: /aud was/,
    fix: "Set the client assertion's aud to the token endpoint URL exactly (openid-client: use modifyAssertion).",
    reference: 'Client assertion (RFC 7523 as profiled by NHS login)',
    section: 'errors',
  },
  {
    test: /only be used once/,
    fix: 'Use a fresh random jti in every client assertion.',
    reference: 'Client assertion: jti single use',
    section: 'errors',
  },
  {
    test: /sub \(JWT subject\)|iss \(JWT issuer\)/,
    fix: 'Set both iss and sub of the client assertion to your client_id.',
    reference: 'Client assertion: iss = sub = client_id',
    section: 'errors',
  },
  {
    test: /client assertion iat is|must expire within/,
    fix: 'Make a fresh client assertion for each token request: iat now (check your server clock), exp at most 5 minutes later.',
    reference: 'Lifetimes: client assertion',
    section: 'lifetimes',
  },
  {
    test: /"exp" claim|expired|expiration/,
    fix: 'The assertion has expired: give it an exp shortly after now, and check your server clock.',
    reference: 'Client assertion: exp',
    section: 'errors',
  },
  {
    test: /alg mismatch/,
    fix: 'Sign the client assertion with RS512 (not RS256, PS*, HS* or none).',
    reference: 'Client authentication: private_key_jwt, RS512',
    section: 'endpoints',
  },
  {
    test: /signature|no applicable key|matching key/,
    fix: 'The assertion was not signed by the key registered for this client: sign with its private key (and its kid).',
    reference: 'Client keys',
    section: 'endpoints',
  },
  {
    test: /no client authentication mechanism|client_secret/,
    fix: 'Authenticate with private_key_jwt: send client_assertion and client_assertion_type, never a client secret.',
    reference: 'Client authentication',
    section: 'endpoints',
  },
  {
    test: /redirect_uri/,
    fix: 'Send exactly one of your registered redirect URIs (no wildcards, same query, same trailing slash) on both /authorize and /token.',
    reference: 'Redirect URIs: exact match',
    section: 'errors',
  },
  {
    test: /grant request is invalid|authorization code/,
    fix: 'Exchange each code once, within 10 minutes, with the redirect_uri you used on /authorize.',
    reference: 'Lifetimes: authorization code 10 min, single use',
    section: 'lifetimes',
  },
  {
    test: /'nonce'|'state'/,
    fix: 'Send state and nonce with every authorization request, and check both when you get the code back.',
    reference: '/authorize mandatory parameters',
    section: 'errors',
  },
  {
    test: /vtr/,
    fix: 'Request only vectors of trust registered for your client, as a JSON array, e.g. ["P9.Cp.Cd"].',
    reference: 'Vectors of trust',
    section: 'vectors',
  },
  {
    test: /^invalid_scope/,
    fix: 'Request only scopes approved for your client; profile and basic_demographics cannot be requested together.',
    reference: 'Scopes and claims',
    section: 'scopes',
  },
  {
    test: /not supported by NHS login/,
    fix: 'Remove that parameter: NHS login does not support it.',
    reference: '/authorize: not supported parameters',
    section: 'errors',
  },
  {
    test: /response_mode/,
    fix: 'Omit response_mode: NHS login answers in the query only.',
    reference: 'Flow: response_mode query only',
    section: 'discovery',
  },
  {
    test: /^sso_login_required/,
    fix: 'There was no NHS login session: send the user through an interactive login (drop prompt=none).',
    reference: 'prompt=none and single sign-on',
    section: 'errors',
  },
  {
    test: /asserted_login_identity/,
    fix: 'See the message: assertions are RS512, signed by the first service, single use, at most 60 seconds, for configured pairs only.',
    reference: 'Single sign-on between services',
    section: 'errors',
  },
  {
    test: /^invalid_token|access token/,
    fix: 'Send the access token from the token response unchanged, as a Bearer token, within its 5 minutes.',
    reference: 'Userinfo errors',
    section: 'errors',
  },
  {
    test: /^insufficient_scope/,
    fix: 'The access token lacks the scope needed for this call.',
    reference: 'Userinfo errors',
    section: 'errors',
  },
  {
    test: /^ConsentNotGiven$/,
    fix: 'Expected when you test declining: your service must show its no-consent screen.',
    reference: 'What an RP must do: no-consent screen',
    section: 'errors',
  },
  {
    test: /^(wrong_password|unknown_email)$/,
    fix: `Sandpit test accounts all use the password ${TEST_PACK.password}.`,
    reference: 'Test users',
    section: 'test-users',
  },
  {
    test: /^wrong_otp$/,
    fix: `Sandpit test accounts all use the security code ${TEST_PACK.otp}.`,
    reference: 'Test users',
    section: 'test-users',
  },
];

function advise(reason: string | null, detail: string | null): { fix: string | null; reference: string | null; section: string | null } {
  const text = [detail, reason].filter(Boolean).join(' ');
  for (const f of FIXES)
    if (f.test.test(detail ?? '') || f.test.test(reason ?? '') || f.test.test(text))
      return { fix: f.fix, reference: f.reference, section: f.section };
  return { fix: null, reference: null, section: null };
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
    return {
      id: r.id,
      at: r.at,
      kind: r.kind,
      outcome: r.outcome,
      reason: r.reason,
      detail,
      ...(r.outcome === 'error' ? advise(r.reason, detail) : { fix: null, reference: null, section: null }),
    };
  });
}
