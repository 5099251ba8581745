/**
 * The toolkit's stand-in NHS App (issue 15 §4): a relying party of its own environment, as the NHS App is of NHS login.
 * It signs a person in with the ordinary journey, keeps the ID token's `jti`, and opens a partner's service at the
 * address the partner gave (its NHS App address) with `?assertedLoginIdentity=<jwt>`: a JWT it signs with its client
 * key, whose `code` is that `jti` (nhs-login-interface.md, "Single sign-on between services"; single-sign-on.md). The
 * service passes it on as `asserted_login_identity`, and sso.ts signs the same person in without a password.
 *
 * Its client (`nhs-app`) and key are in the database, one per environment (storage/host-app.ts); the key is read
 * from there, so every instance signs with the same key. Sandpit and integration only (capability `nhsApp`).
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import * as oidc from 'openid-client';
import type { EnvironmentConfig } from '../../config/index.ts';
import { ensureHostApp, getClient, insertClient, updateClient, type Db } from '../../storage/index.ts';

/** Its client id in every environment: not a partner's (those are 32 hex digits), so it can be named in sso.ts. */
export const NHS_APP_CLIENT_ID = 'nhs-app';
export const NHS_APP_NAME = 'NHS App (toolkit stand-in)';
/** What it asks for: a fully verified person (the NHS App's own level) and who they are. */
const SCOPE = 'openid profile email';
export const NHS_APP_VTR = ['P9.Cp.Cd'];
/** An assertion lives at most 60 seconds (single-sign-on.md); minted at the click, it has all of them. */
const ASSERTION_LIFETIME_S = 60;

export interface HostApp {
  config: oidc.Configuration;
  redirectUri: string;
  sign(claims: { code: string }): Promise<string>;
}

const callbackOf = (env: EnvironmentConfig) => `${env.issuer}/nhs-app/callback`;

/** The stand-in's client and key in `env`, made on first use (by whichever instance gets there first). */
async function load(db: Db, env: EnvironmentConfig): Promise<{ key: CryptoKey; kid: string }> {
  const row = await ensureHostApp(db, env.name, async () => {
    const { privateKey } = await generateKeyPair('RS512', { modulusLength: 2048, extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: `nhs-app-${randomBytes(4).toString('hex')}`, alg: 'RS512', use: 'sig' };
    return { client_id: NHS_APP_CLIENT_ID, private_jwk: JSON.stringify(jwk) };
  });
  const jwk = JSON.parse(row.private_jwk) as JWK & { kid: string };
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  await insertClient(db, {
    env: env.name,
    clientId: NHS_APP_CLIENT_ID,
    name: NHS_APP_NAME,
    redirectUris: [callbackOf(env)],
    scopes: SCOPE.split(' '),
    vtr: NHS_APP_VTR,
    jwks: { keys: [publicJwk as Record<string, unknown>] },
    im1: false,
    ssoTo: [],
    status: 'active',
    createdAt: Date.now(),
    organisationId: null,
    fault: null,
    usersV2: false,
    provisioning: false,
    provisioningOds: [],
  }, { ifAbsent: true });
  // Made under another public address (PUBLIC_URL changed since): its callback follows the environment's issuer.
  const client = await getClient(db, env.name, NHS_APP_CLIENT_ID);
  if (client && client.redirectUris[0] !== callbackOf(env)) {
    await updateClient(db, env.name, NHS_APP_CLIENT_ID, { redirectUris: [callbackOf(env)] });
  }
  return { key: (await importJWK(jwk, 'RS512')) as CryptoKey, kid: jwk.kid };
}

/**
 * The stand-in for one environment, loaded once per process on first use (what it holds is written once in the
 * database and the same for every instance). `fetch` reaches the environment's own endpoints (web/inject-fetch.ts).
 */
export function hostApp(db: Db, env: EnvironmentConfig, fetch: typeof globalThis.fetch): () => Promise<HostApp> {
  let loaded: Promise<HostApp> | undefined;
  return () => {
    loaded ??= make().catch((e: unknown) => {
      loaded = undefined; // a database away at the first use: try again next time
      throw e;
    });
    return loaded;
  };
  async function make(): Promise<HostApp> {
    const { key, kid } = await load(db, env);
    const tokenEndpoint = `${env.issuer}/token`;
    const server = {
      issuer: env.issuer,
      authorization_endpoint: `${env.issuer}/authorize`,
      token_endpoint: tokenEndpoint,
      userinfo_endpoint: `${env.issuer}/userinfo`,
      jwks_uri: `${env.issuer}/.well-known/jwks.json`,
    };
    const config = new oidc.Configuration(
      server,
      NHS_APP_CLIENT_ID,
      { id_token_signed_response_alg: 'RS512' },
      oidc.PrivateKeyJwt({ key, kid }, {
        // NHS login wants the client assertion's aud to be the token endpoint, not the issuer.
        [oidc.modifyAssertion]: (_h: unknown, payload: Record<string, unknown>) => {
          payload.aud = tokenEndpoint;
        },
      }),
    );
    config[oidc.customFetch] = fetch as never;
    if (env.issuer.startsWith('http:')) oidc.allowInsecureRequests(config);
    return {
      config,
      redirectUri: callbackOf(env),
      sign: ({ code }) => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ code })
          .setProtectedHeader({ alg: 'RS512', kid })
          .setIssuer(NHS_APP_CLIENT_ID)
          .setJti(randomBytes(16).toString('hex'))
          .setIssuedAt(now)
          .setExpirationTime(now + ASSERTION_LIFETIME_S)
          .sign(key);
      },
    };
  }
}

export const NHS_APP_SCOPE = SCOPE;
