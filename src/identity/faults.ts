/**
 * Fault injection, scoped to one client of the sandpit or integration environment (never live): the faults a partner
 * can arm, in sequence (fault-sequence.ts), and how each spoils a response, so a partner can see whether its relying
 * party refuses what it must refuse. Other clients are never touched.
 */
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createPublicKey, randomBytes } from 'node:crypto';
import { ToolkitError } from '../errors.ts';
import type { GpRunFault } from './gp-system/run-credentials.ts';
import { testIssuerUrl } from './test-issuers.ts';

export const FAULTS = {
  id_token_invalid_signature: 'ID token with an invalid signature',
  id_token_wrong_iss: 'ID token with the wrong issuer (iss)',
  id_token_wrong_aud: 'ID token for another audience (aud)',
  id_token_expired: 'ID token that has expired (exp in the past)',
  id_token_future_iat: 'ID token issued in the future (iat)',
  id_token_wrong_nonce: 'ID token with the wrong nonce',
  id_token_alg_none: 'ID token with alg "none" and no signature',
  id_token_wrong_vot: 'ID token whose vot is not a requested vector',
  id_token_unknown_kid: 'ID token signed with an unknown key (kid)',
  userinfo_sub_mismatch: 'Userinfo whose sub differs from the ID token\'s',
  token_temporarily_unavailable: 'Token endpoint answers temporarily_unavailable (503)',
  token_server_error: 'Token endpoint answers server_error (500)',
  token_latency: 'Token endpoint answers only after a delay',
  userinfo_latency: 'Userinfo answers only after a delay',
  pass: 'Token endpoint answers normally (a pause between faults)',
  provision_unavailable: 'Provision Account answers 11000 Service not available (503)',
  provision_rate_limited: 'Provision Account answers 11011 Too many requests from ODS code (429)',
  provision_unable: 'Provision Account answers 11019 Unable to provision account for user',
} as const;
export type FaultKind = keyof typeof FAULTS;

/**
 * Faults only a conformance run applies, to its own requests (identity/run-marks.ts): invalid_scope, server_error and
 * temporarily_unavailable on authorization (RFC 6749 §4.1.2.1), a userinfo refused 401 invalid_token (RFC 6750 §3.1) or
 * failing 500, a test's own GP credentials (gp-system/run-credentials.ts), an ID token without aud, an ID token signed
 * with a key just published in the JWKS, and the OpenID Foundation RP tests' ID tokens (algorithm confusion, RS256, a
 * missing required claim, an `iss` that differs by a trailing slash, an audience it was not only for, no `kid` while the JWKS
 * has several keys), a token endpoint slower than a service should wait, an NHS App assertion NHS login refuses
 * (sso.ts: invalid_request, or sso_login_required under prompt=none), and an ID token from the client's test issuer whose
 * JWKS holds a key that cannot be imported (test-issuers.ts).
 */
export type RunFault =
  | 'authorize_invalid_scope' | 'authorize_server_error' | 'authorize_temporarily_unavailable' | 'authorize_wrong_state'
  | 'userinfo_invalid_token' | 'userinfo_server_error' | GpRunFault
  | 'id_token_no_aud' | 'id_token_new_key' | 'id_token_hs256_public_key' | 'id_token_rs256' | 'id_token_no_sub'
  | 'id_token_no_exp' | 'id_token_no_iat' | 'id_token_iss_trailing_slash' | 'id_token_extra_aud' | 'id_token_no_kid' | 'token_slow'
  | 'authorize_sso_refused' | 'id_token_test_issuer';

/**
 * How long `token_slow` holds a run's token response: longer than openid-client's default timeout (30 s), so that a
 * service which never times out is seen waiting, and a service with any timeout up to that is not.
 */
export const SLOW_TOKEN_MS = 35_000;
export type AnyFault = FaultKind | RunFault;

export function isFaultKind(v: unknown): v is FaultKind {
  return typeof v === 'string' && Object.hasOwn(FAULTS, v);
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');

/** Rewrites an ID token as the fault says, signing with the environment's key unless the fault is the signature. */
export async function spoilIdToken(kind: AnyFault, idToken: string, signingKey: JWK, runKey?: JWK): Promise<string> {
  const header = decodeProtectedHeader(idToken) as Record<string, unknown>;
  const claims = decodeJwt(idToken) as Record<string, unknown>;
  const now = Math.floor(Date.now() / 1000);
  const sign = async (h: Record<string, unknown>, c: Record<string, unknown>, key?: CryptoKey) =>
    new SignJWT(c).setProtectedHeader({ ...h, alg: 'RS512' } as never).sign(key ?? ((await importJWK(signingKey, 'RS512')) as CryptoKey));
  switch (kind) {
    case 'id_token_invalid_signature': {
      const [h, p, sig] = idToken.split('.');
      const bytes = Buffer.from(sig!, 'base64url');
      bytes[0] = bytes[0]! ^ 0xff;
      return `${h}.${p}.${bytes.toString('base64url')}`;
    }
    case 'id_token_wrong_iss':
      return sign(header, { ...claims, iss: `${String(claims.iss)}/not-nhs-login` });
    case 'id_token_wrong_aud':
      return sign(header, { ...claims, aud: 'another-client' });
    case 'id_token_no_aud':
    case 'id_token_no_sub':
    case 'id_token_no_exp':
    case 'id_token_no_iat': {
      const rest = { ...claims };
      delete rest[kind.slice('id_token_no_'.length)];
      return sign(header, rest);
    }
    case 'id_token_iss_trailing_slash':
      return sign(header, { ...claims, iss: `${String(claims.iss)}/` });
    // OIDC Core 3.1.3.7 items 3-4: several audiences, one not trusted, and no azp.
    case 'id_token_extra_aud':
      return sign(header, { ...claims, aud: [String(claims.aud), 'another-client'] });
    // The profile signs with RS512 only; an RP that takes what the header says accepts RS256 ...
    case 'id_token_rs256':
      return new SignJWT(claims).setProtectedHeader({ ...header, alg: 'RS256' } as never)
        .sign((await importJWK(signingKey, 'RS256')) as CryptoKey);
    // ... or HS256 keyed with the public key it knows (RFC 8725 §2.1, §3.1: algorithm confusion).
    case 'id_token_hs256_public_key': {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = signingKey;
      const pem = createPublicKey({ key: publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      return new SignJWT(claims).setProtectedHeader({ ...header, alg: 'HS256' } as never).sign(new TextEncoder().encode(String(pem)));
    }
    // OIDC Core 10.1: with several keys in the JWKS a kid is required; the run's key is published alongside (steps/faults.ts).
    case 'id_token_no_kid': {
      const { kid: _kid, ...rest } = header;
      return sign(rest, claims);
    }
    // The service under test was configured with its test issuer, whose discovery document names itself (test-issuers.ts).
    case 'id_token_test_issuer':
      return sign(header, { ...claims, iss: testIssuerUrl(String(claims.iss), String(claims.aud), 'unparseable-jwk') });
    case 'id_token_new_key':
      if (!runKey) return idToken;
      return sign({ ...header, kid: runKey.kid }, claims, (await importJWK(runKey, 'RS512')) as CryptoKey);
    case 'id_token_expired':
      return sign(header, { ...claims, iat: now - 7200, exp: now - 3600 });
    case 'id_token_future_iat':
      return sign(header, { ...claims, iat: now + 3600, exp: now + 7200 });
    case 'id_token_wrong_nonce':
      return sign(header, { ...claims, nonce: randomBytes(12).toString('base64url') });
    case 'id_token_wrong_vot':
      return sign(header, { ...claims, vot: claims.vot === 'P0.Cp' ? 'P9.Cm' : 'P0.Cp' });
    case 'id_token_alg_none':
      return `${b64(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64(JSON.stringify(claims))}.`;
    case 'id_token_unknown_kid': {
      const { privateKey } = await generateKeyPair('RS512', { extractable: true });
      const kid = `unknown-${(await exportJWK(privateKey)).n!.slice(0, 8)}`;
      return sign({ ...header, kid }, claims, privateKey);
    }
    default:
      return idToken;
  }
}

export class FaultError extends ToolkitError<'invalid_fault'> {
  override name = 'FaultError';
  constructor(message: string, field = 'kind') {
    super('invalid_fault', message, field);
  }
}
