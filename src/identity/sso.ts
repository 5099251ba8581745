/**
 * Single sign-on between services with `asserted_login_identity` (NHS login interface spec, "Single sign-on
 * between services"): RP1 signs a JWT with its client key whose `code` is the `jti` of the ID token it got;
 * RP2 sends it on /authorize. Only client pairs the NHS login team has configured may do this, each assertion
 * is single use and lives at most 60 seconds.
 */
import { createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { EnvironmentConfig, EnvironmentName } from '../config/index.ts';
import { getClient, kvClaimOnce, kvGet, kvPut, type Db } from '../storage/index.ts';
import { fetchJwks, RegistrationError, type FetchJson } from './registration.ts';
import { fetchPublicJson } from '../security/outbound.ts';
import { because } from './refusals.ts';
import { NHS_APP_CLIENT_ID } from './nhs-app/host.ts';
import { profileState } from './steps/context.ts';

const MAX_LIFETIME_S = 60;
const CLOCK_TOLERANCE_S = 5;
const ID_TOKEN_TTL_MS = 60 * 60 * 1000;

interface IssuedIdToken {
  sub: string;
  clientId: string;
  acr?: string;
  amr?: string[];
}

/** Remembers an SSO-source client's ID token `jti` so a later assertion can name the person it was for. */
export async function rememberIdToken(db: Db, env: string, idToken: string, t: Omit<IssuedIdToken, 'sub'>): Promise<void> {
  const { jti, sub } = decodeJwt(idToken);
  if (jti && sub) await rememberIdentity(db, env, jti, { ...t, sub });
}

/** What an assertion's `code` may name for an hour: a person an SSO source holds an identity for (nhs-app/proxy.ts too). */
export function rememberIdentity(db: Db, env: string, code: string, t: IssuedIdToken): Promise<void> {
  return kvPut(db, 'id-token', `${env}:${code}`, t, ID_TOKEN_TTL_MS);
}

type KeySet = ReturnType<typeof createLocalJWKSet>;
const KEYS_TTL_MS = 60_000;
const REFETCH_AFTER_MS = 10_000;

/**
 * The keys of services that registered a JWKS URL, for checking their assertions. Anyone can send an assertion
 * naming such a service, so the keys are fetched the way registration fetches them (security/outbound.ts: public
 * addresses only, size and time capped, checked as a JWKS) and reused for a minute; an assertion signed with a key
 * not in the set fetches again, at most every ten seconds (the service may have rotated). Requests at once share
 * one fetch, and a failed fetch is not retried for ten seconds either, so a slow or down host of the service is
 * not called once per request. Made per engine; it holds one entry per service configured for single sign-on that
 * has a JWKS URL.
 */
export function remoteKeySets(env: EnvironmentName, fetchJson: FetchJson = fetchPublicJson) {
  const cache = new Map<string, { at: number; keys: Promise<KeySet>; failed: boolean }>();
  return (uri: string, o: { unknownKey?: boolean } = {}): Promise<KeySet> => {
    const hit = cache.get(uri);
    const age = hit ? Date.now() - hit.at : Infinity;
    if (hit && (age < REFETCH_AFTER_MS || (age < KEYS_TTL_MS && !o.unknownKey && !hit.failed))) return hit.keys;
    const entry = { at: Date.now(), keys: fetchJwks(env, uri, fetchJson).then((jwks) => createLocalJWKSet(jwks as never)), failed: false };
    entry.keys.catch(() => (entry.failed = true));
    cache.set(uri, entry);
    return entry.keys;
  };
}
export type RemoteKeySets = ReturnType<typeof remoteKeySets>;

function refuse(message: string): never {
  throw because('sso_assertion', new errors.InvalidRequest(`asserted_login_identity ${message}`));
}

/**
 * Verifies the assertion for the requesting client (RP2) and signs the asserted person into the session. A refused
 * assertion is invalid_request, or under prompt=none `sso_login_required`: Federation spec §3.4.5.2, it "SHOULD be
 * returned when SSO validations fail and the prompt parameter value in the Authentication Request is none".
 * ASSUMPTION: without prompt=none the documents name no code; invalid_request says what was wrong with the parameter.
 * `injected`: a conformance run's test refuses the assertion as NHS login refuses one spent or out of its 60 seconds.
 */
export async function applyAssertedLoginIdentity(
  ctx: KoaContextWithOIDC,
  db: Db,
  env: EnvironmentConfig,
  assertion: string,
  remoteKeys: RemoteKeySets,
  injected = false,
): Promise<void> {
  const cause = injected ? 'fault_injected' : 'sso_assertion';
  try {
    if (injected) throw because(cause, new errors.InvalidRequest('asserted_login_identity was refused: injected fault (conformance run)'));
    await signInAsAsserted(ctx, db, env, assertion, remoteKeys);
  } catch (e) {
    const prompts = String(ctx.oidc.params?.prompt ?? '').split(' ');
    if (!(e instanceof errors.InvalidRequest) || !prompts.includes('none')) throw e;
    throw because(cause, new errors.CustomOIDCProviderError('sso_login_required', e.error_description ?? e.message));
  }
}

async function signInAsAsserted(
  ctx: KoaContextWithOIDC,
  db: Db,
  env: EnvironmentConfig,
  assertion: string,
  remoteKeys: RemoteKeySets,
): Promise<void> {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    refuse('is not a JWT');
  }
  const rp1Id = typeof claims.iss === 'string' ? claims.iss : refuse('has no iss (the client_id of the service that signed it)');
  const rp1 = await getClient(db, env.name, rp1Id);
  if (!rp1) refuse(`iss "${rp1Id}" is not a client in this environment`);
  const rp2Id = ctx.oidc.client!.clientId;
  if (rp1Id === NHS_APP_CLIENT_ID) {
    // The stand-in NHS App (nhs-app/host.ts) opens the services whose partner gave an NHS App address.
    if (!(await getClient(db, env.name, rp2Id))?.nhsAppUrl) refuse(`from the NHS App to ${rp2Id}: the client has no NHS App address`);
  } else if (!rp1.ssoTo.includes(rp2Id)) {
    refuse(`from ${rp1Id} to ${rp2Id} is not a single sign-on pair the NHS login team has configured`);
  }
  const verify = async (unknownKey: boolean) => {
    let keys: KeySet;
    if (rp1.jwks) keys = createLocalJWKSet(rp1.jwks as never);
    else {
      try {
        keys = await remoteKeys(rp1.jwksUri!, { unknownKey });
      } catch (e) {
        if (!(e instanceof RegistrationError)) throw e;
        refuse(`could not be checked: the keys of ${rp1Id} could not be fetched (${e.message})`);
      }
    }
    return (
      await jwtVerify(assertion, keys, {
        algorithms: ['RS512'],
        requiredClaims: ['iat', 'exp', 'jti', 'code'],
        clockTolerance: CLOCK_TOLERANCE_S,
      })
    ).payload;
  };
  try {
    claims = await verify(false).catch((e: unknown) => {
      if (e instanceof joseErrors.JWKSNoMatchingKey && rp1.jwksUri) return verify(true);
      throw e;
    });
  } catch (e) {
    if (e instanceof errors.InvalidRequest) throw e;
    refuse(`was refused: ${(e as Error).message}`);
  }
  // At most 60 s of life, counted from now as well as from iat: an assertion dated in the future would
  // otherwise outlive the single-use marker below and could be replayed.
  const now = Math.floor(Date.now() / 1000);
  if (claims.iat! > now + CLOCK_TOLERANCE_S) refuse('iat is in the future');
  if (claims.exp! - claims.iat! > MAX_LIFETIME_S || claims.exp! > now + MAX_LIFETIME_S + CLOCK_TOLERANCE_S)
    refuse(`must expire within ${MAX_LIFETIME_S} seconds`);
  // The marker outlives every assertion that can still pass the checks above (exp <= now + 65 s).
  if (
    !(await kvClaimOnce(
      db,
      'asserted-login-identity',
      `${env.name}:${rp1Id}:${claims.jti}`,
      (MAX_LIFETIME_S + 2 * CLOCK_TOLERANCE_S) * 1000,
    ))
  )
    refuse('has already been used');
  const issued = await kvGet<IssuedIdToken>(db, 'id-token', `${env.name}:${String(claims.code)}`);
  if (!issued || issued.clientId !== rp1Id) refuse(`code does not name an ID token issued to ${rp1Id} in the last hour`);

  const session = ctx.oidc.session!;
  if (session.accountId && session.accountId !== issued.sub) {
    // A different person: start a fresh session rather than mixing two people's authorisations.
    session.authorizations = {};
    session.resetIdentifier();
  }
  session.loginAccount({ accountId: issued.sub, acr: issued.acr, amr: issued.amr ?? ['Cp', 'Cd'] } as never);
  profileState(ctx).ssoFrom = rp1Id; // the protocol record says which service signed the person in (steps/record.ts)
}
