/** A test relying party: a registered client with its own RSA key, driving openid-client against the app. */
import * as oidc from 'openid-client';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { randomBytes } from 'node:crypto';
import { registerClient, type ClientRegistration } from '../identity/index.ts';
import type { ClientRecord } from '../storage/index.ts';
import type { EnvironmentName } from '../config/index.ts';
import type { TestApp } from './harness.ts';
import { Browser } from './browser.ts';

export const REDIRECT_URI = 'https://rp.example.org/callback';

export interface TestRp {
  client: ClientRecord;
  privateKey: CryptoKey;
  kid: string;
  issuer: string;
  tokenEndpoint: string;
  config: oidc.Configuration;
  /** Signs a client assertion, with optional changes to test the token endpoint's checks (`iat: null` leaves it out). */
  assertion(changes?: {
    aud?: string; iss?: string; sub?: string; exp?: number; iat?: number | null; jti?: string;
    alg?: 'RS512' | 'RS256' | 'PS512' | 'HS512' | 'none'; otherKey?: boolean;
  }): Promise<string>;
}

export async function createRp(app: TestApp, env: EnvironmentName, reg: Partial<ClientRegistration> = {}): Promise<TestRp> {
  const { privateKey, publicKey } = await generateKeyPair('RS512', { modulusLength: 2048, extractable: true });
  const client = await registerClient(app.database.db, {
    env,
    name: 'Test service',
    redirectUris: [REDIRECT_URI],
    scopes: ['openid', 'profile', 'email', 'phone', 'profile_extended', 'gp_registration_details', 'client_metadata'],
    vtr: ['P0.Cp.Cd', 'P5.Cp.Cd', 'P9.Cp.Cd'],
    publicKeyPem: await exportSPKI(publicKey),
    ...reg,
  });
  const kid = (client.jwks!.keys[0] as { kid: string }).kid;
  const issuer = app.config.environments.find((e) => e.name === env)!.issuer;
  const tokenEndpoint = `${issuer}/token`;
  const config = await oidc.discovery(
    new URL(issuer),
    client.clientId,
    { id_token_signed_response_alg: 'RS512' },
    oidc.PrivateKeyJwt({ key: privateKey, kid }, {
      // NHS login expects the client assertion's aud to be the token endpoint (openid-client uses the issuer).
      [oidc.modifyAssertion]: (_h: unknown, payload: Record<string, unknown>) => {
        payload.aud = tokenEndpoint;
      },
    }),
    { execute: [oidc.allowInsecureRequests], [oidc.customFetch]: app.fetch as never },
  );
  config[oidc.customFetch] = app.fetch as never;
  return {
    client,
    privateKey,
    kid,
    issuer,
    tokenEndpoint,
    config,
    async assertion(c = {}) {
      const alg = c.alg ?? 'RS512';
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: c.iss ?? client.clientId, sub: c.sub ?? client.clientId, aud: c.aud ?? tokenEndpoint,
        iat: c.iat === null ? undefined : (c.iat ?? now), exp: c.exp ?? now + 60, jti: c.jti ?? randomBytes(12).toString('hex'),
      };
      if (alg === 'none') {
        const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
        return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
      }
      // The client's own registered key under another algorithm (or another key altogether), so that only
      // the algorithm (or only the key) is wrong.
      const key: CryptoKey | Uint8Array = c.otherKey
        ? (await generateKeyPair('RS512')).privateKey
        : alg === 'HS512' ? new TextEncoder().encode(client.clientId.repeat(4))
        : alg === 'RS512' ? privateKey
        : await importPKCS8(await exportPKCS8(privateKey), alg);
      return new SignJWT(claims).setProtectedHeader({ alg, kid }).sign(key);
    },
  };
}

export interface LoginOptions {
  email?: string;
  password?: string;
  otp?: string;
  scope?: string;
  vtr?: string[];
  prompt?: string;
  extra?: Record<string, string>;
  browser?: Browser;
  /** Decline at the consent step (and confirm). */
  decline?: boolean;
  /** Stop when this step's page is reached. */
  stopAt?: string;
}

export function authorizationUrl(rp: TestRp, o: LoginOptions & { state: string; nonce: string }): string {
  const params: Record<string, string> = {
    redirect_uri: REDIRECT_URI,
    scope: o.scope ?? 'openid profile email',
    state: o.state,
    nonce: o.nonce,
    ...(o.vtr ? { vtr: JSON.stringify(o.vtr) } : {}),
    ...(o.prompt ? { prompt: o.prompt } : {}),
    ...o.extra,
  };
  return oidc.buildAuthorizationUrl(rp.config, params).href;
}

/** Runs the sign-in journey to the redirect back to the relying party; returns the callback URL. */
export async function signIn(app: TestApp, rp: TestRp, o: LoginOptions = {}) {
  const browser = o.browser ?? new Browser(app.fetch, new URL(app.config.publicUrl).origin);
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const { page, steps } = await throughJourney(browser, await browser.get(authorizationUrl(rp, { ...o, state, nonce })), o);
  return { browser, page, steps, state, nonce, callback: page.status === 0 ? new URL(page.url) : undefined };
}

/** From a journey page, through the journey's steps as `o` says, to the first page that is not one (or `o.stopAt`). */
export async function throughJourney(browser: Browser, first: Awaited<ReturnType<Browser['get']>>, o: LoginOptions = {}) {
  let page = first;
  const steps: string[] = [];
  for (let i = 0; i < 10 && page.status !== 0; i++) {
    const step = new URL(page.url).pathname.split('/').pop()!;
    steps.push(step);
    if (step === o.stopAt) break;
    if (step === 'sign-in')
      page = await browser.post(page.url, { email: o.email ?? 'testuserlive@demo.signin.nhs.uk', password: o.password ?? 'Passw0rd$1' });
    else if (step === 'otp') page = await browser.post(page.url, { otp: o.otp ?? '190696' });
    else if (step === 'consent') {
      if (o.decline) {
        page = await browser.post(page.url.replace(/consent$/, 'decline'), {});
        page = await browser.post(page.url.replace(/decline$/, 'decline/confirm'), {});
      } else page = await browser.post(page.url, {});
    } else break;
    if (page.status >= 400) break;
  }
  return { page, steps };
}

/** Signs in and exchanges the code: the full happy path an RP performs. */
export async function login(app: TestApp, rp: TestRp, o: LoginOptions = {}) {
  const r = await signIn(app, rp, o);
  if (!r.callback) throw new Error(`journey stopped at ${r.page.url} (${r.page.status}): ${r.page.text.slice(0, 300)}`);
  const tokens = await oidc.authorizationCodeGrant(rp.config, r.callback, {
    expectedState: r.state,
    expectedNonce: r.nonce,
    idTokenExpected: true,
  });
  return { ...r, tokens, claims: tokens.claims()! };
}

export { exportJWK };
