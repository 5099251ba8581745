/**
 * Client registration rules (NHS login interface spec §1 "clients", "client keys", redirect URIs).
 * The CLI, the portal and the console all register clients through `registerClient`; every rule fails
 * with its own code and a message naming the field, so forms can show it against that field.
 */
import { fetchPublicJson, OutboundError } from '../security/outbound.ts';
import { ToolkitError } from '../errors.ts';
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { getClient, insertClient, updateClient, type ClientRecord, type Db } from '../storage/index.ts';
import { CAPABILITIES, type EnvironmentName } from '../config/index.ts';
import { SCOPES } from './claims.ts';
import { SUPPORTED_VECTORS } from './vectors.ts';

export type RegistrationErrorCode =
  | 'invalid_name'
  | 'invalid_redirect_uri'
  | 'too_many_redirect_uris'
  | 'invalid_public_key'
  | 'weak_public_key'
  | 'duplicate_kid'
  | 'invalid_jwks_uri'
  | 'invalid_scope'
  | 'invalid_vtr';

/** Its codes are the toolkit's (src/errors.ts), all 400; the registration endpoint maps them to RFC 7591's. */
export class RegistrationError extends ToolkitError<RegistrationErrorCode> {
  override name = 'RegistrationError';
  declare readonly field: string;
  /** Every problem found in one registration (this one first), so a form can show them all at once. */
  problems: RegistrationError[] = [this];
  constructor(code: RegistrationErrorCode, field: string, message: string) {
    super(code, message, field);
  }
}

export const MAX_REDIRECT_URIS = 10;
const MIN_RSA_BITS = 2048;

export interface ClientRegistration {
  env: EnvironmentName;
  name: string;
  redirectUris: string[];
  scopes: string[];
  vtr: string[];
  publicKeyPem?: string | undefined;
  jwks?: unknown;
  jwksUri?: string | undefined;
  im1?: boolean | undefined;
  /** The partner organisation registering it (the portal); absent from the CLI. */
  organisationId?: string | undefined;
}

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
}

export function checkRedirectUri(env: EnvironmentName, raw: string, field = 'redirect_uri'): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RegistrationError('invalid_redirect_uri', field, `Redirect URI "${raw}" is not an absolute URL`);
  }
  if (raw.includes('*'))
    throw new RegistrationError(
      'invalid_redirect_uri',
      field,
      `Redirect URI "${raw}" contains a wildcard; NHS login matches redirect URIs exactly`,
    );
  if (url.search || raw.includes('?'))
    throw new RegistrationError('invalid_redirect_uri', field, `Redirect URI "${raw}" has a query string; NHS login does not allow one`);
  if (url.hash || raw.includes('#')) throw new RegistrationError('invalid_redirect_uri', field, `Redirect URI "${raw}" has a fragment`);
  if (url.protocol === 'https:') return raw;
  if (url.protocol === 'http:' && isLoopback(url)) {
    if (CAPABILITIES[env].localhostHttp) return raw;
    throw new RegistrationError(
      'invalid_redirect_uri',
      field,
      `Redirect URI "${raw}" uses http: only the sandpit allows http://localhost for local development`,
    );
  }
  throw new RegistrationError('invalid_redirect_uri', field, `Redirect URI "${raw}" must use https`);
}

function rsaBits(key: KeyObject): number {
  return key.asymmetricKeyDetails?.modulusLength ?? 0;
}

async function rsaJwk(key: KeyObject, field: string, kid?: string): Promise<JWK> {
  if (key.asymmetricKeyType !== 'rsa') {
    // Key types are said letter by letter (EC, DSA, ED25519, ML-DSA...): "an" before a letter said with a vowel first.
    const type = key.asymmetricKeyType?.toUpperCase();
    const named = type ? `${/^[AEFHILMNORSX]/.test(type) ? 'an' : 'a'} ${type} key, not an RSA key` : 'not an RSA key';
    throw new RegistrationError('invalid_public_key', field, `The key is ${named}: NHS login needs an RSA public key (RS512)`);
  }
  const bits = rsaBits(key);
  if (bits < MIN_RSA_BITS)
    throw new RegistrationError('weak_public_key', field, `The RSA key is ${bits} bits; it must be at least ${MIN_RSA_BITS} bits`);
  const jwk = key.export({ format: 'jwk' }) as JWK;
  if ('d' in jwk)
    throw new RegistrationError(
      'invalid_public_key',
      field,
      'That is a private key: give the public key only, and keep the private key secret',
    );
  return { kty: 'RSA', n: jwk.n, e: jwk.e, kid: kid ?? (await calculateJwkThumbprint(jwk)), alg: 'RS512', use: 'sig' } as JWK;
}

export async function jwkFromPem(pem: string, field = 'public_key'): Promise<JWK> {
  if (/PRIVATE KEY/.test(pem))
    throw new RegistrationError(
      'invalid_public_key',
      field,
      'That is a private key: give the public key only, and keep the private key secret',
    );
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new RegistrationError(
      'invalid_public_key',
      field,
      'The public key could not be read: give a PEM file starting "-----BEGIN PUBLIC KEY-----" (openssl rsa -pubout)',
    );
  }
  return rsaJwk(key, field);
}

export async function checkJwks(value: unknown, field = 'jwks'): Promise<{ keys: JWK[] }> {
  const keys = (value as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw new RegistrationError('invalid_public_key', field, 'The JWKS must be a JSON object with a non-empty "keys" array');
  const seen = new Set<string>();
  const out: JWK[] = [];
  for (const [i, k] of keys.entries()) {
    const kid = (k as JWK)?.kid;
    if (typeof kid !== 'string' || kid === '')
      throw new RegistrationError('invalid_public_key', field, `Key ${i + 1} in the JWKS has no "kid"`);
    if (seen.has(kid))
      throw new RegistrationError('duplicate_kid', field, `The JWKS has two keys with kid "${kid}"; each kid must be unique`);
    seen.add(kid);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: k as import('node:crypto').JsonWebKey, format: 'jwk' });
    } catch {
      throw new RegistrationError('invalid_public_key', field, `Key "${kid}" in the JWKS could not be read as a public key`);
    }
    out.push(await rsaJwk(key, field, kid));
  }
  return { keys: out };
}

/** How a JWKS URL is read: the real one refuses non-public addresses (security/outbound.ts). */
export type FetchJson = (url: string) => Promise<unknown>;

export async function fetchJwks(env: EnvironmentName, uri: string, fetchJson: FetchJson = fetchPublicJson): Promise<{ keys: JWK[] }> {
  const field = 'jwks_uri';
  try {
    checkRedirectUri(env, uri, field);
  } catch (e) {
    throw new RegistrationError('invalid_jwks_uri', field, (e as Error).message.replace('Redirect URI', 'JWKS URL'));
  }
  let body: unknown;
  try {
    body = await fetchJson(uri);
  } catch (e) {
    if (!(e instanceof OutboundError)) throw e;
    throw new RegistrationError('invalid_jwks_uri', field, `The JWKS URL could not be used: ${e.message}`);
  }
  return checkJwks(body, field);
}

export interface RegisteredClient extends ClientRecord {}

export async function validateRegistration(r: ClientRegistration, fetchJson?: FetchJson): Promise<ClientRecord> {
  // Each field is checked independently and every problem reported together (the first is the error's own).
  const problems: RegistrationError[] = [];
  const check = async <T>(run: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (e) {
      if (!(e instanceof RegistrationError)) throw e;
      problems.push(e);
      return undefined;
    }
  };
  const name = r.name.trim();
  await check(() => {
    if (!name || name.length > 100) throw new RegistrationError('invalid_name', 'name', 'Enter a client name of 1 to 100 characters');
  });
  const redirectUris = await check(() => {
    if (r.redirectUris.length === 0) throw new RegistrationError('invalid_redirect_uri', 'redirect_uri', 'Enter at least one redirect URI');
    if (r.redirectUris.length > MAX_REDIRECT_URIS) {
      throw new RegistrationError(
        'too_many_redirect_uris',
        'redirect_uri',
        `A client can have at most ${MAX_REDIRECT_URIS} redirect URIs; you gave ${r.redirectUris.length}`,
      );
    }
    return [...new Set(r.redirectUris.map((u) => checkRedirectUri(r.env, u)))];
  });
  const scopes = [...new Set(r.scopes)];
  if (!scopes.includes('openid')) scopes.unshift('openid');
  await check(() => {
    for (const s of scopes) {
      if (!(SCOPES as readonly string[]).includes(s))
        throw new RegistrationError('invalid_scope', 'scope', `"${s}" is not an NHS login scope (${SCOPES.join(', ')})`);
    }
    if (scopes.includes('gp_integration_credentials') && !r.im1) {
      throw new RegistrationError(
        'invalid_scope',
        'scope',
        'gp_integration_credentials is only for clients approved for IM1 (GP system) access',
      );
    }
  });
  await check(() => {
    if (r.vtr.length === 0) throw new RegistrationError('invalid_vtr', 'vtr', 'Choose at least one vector of trust');
    for (const v of r.vtr) {
      if (!(SUPPORTED_VECTORS as readonly string[]).includes(v)) {
        throw new RegistrationError(
          'invalid_vtr',
          'vtr',
          `"${v}" is not a vector of trust NHS login supports (${SUPPORTED_VECTORS.join(', ')})`,
        );
      }
    }
  });
  const jwks = await check(async () => {
    const sources = [r.publicKeyPem, r.jwks, r.jwksUri].filter((x) => x !== undefined && x !== '');
    if (sources.length !== 1)
      throw new RegistrationError('invalid_public_key', 'public_key', 'Give exactly one of: a public key (PEM), a JWKS, or a JWKS URL');
    if (r.publicKeyPem) return { keys: [await jwkFromPem(r.publicKeyPem)] };
    if (r.jwks !== undefined) return checkJwks(r.jwks);
    await fetchJwks(r.env, r.jwksUri!, fetchJson);
    return null;
  });
  if (problems.length) {
    problems[0]!.problems = problems;
    throw problems[0]!;
  }

  return {
    env: r.env,
    clientId: randomBytes(16).toString('hex'),
    name,
    redirectUris: redirectUris!,
    scopes,
    vtr: [...new Set(r.vtr)],
    ...(jwks ? { jwks: jwks as { keys: Record<string, unknown>[] } } : { jwksUri: r.jwksUri! }),
    im1: r.im1 === true,
    ssoTo: [],
    status: 'active',
    createdAt: Date.now(),
    organisationId: r.organisationId ?? null,
    fault: null,
    usersV2: false,
    provisioning: false,
    provisioningOds: [],
  };
}

export async function registerClient(db: Db, r: ClientRegistration, fetchJson?: FetchJson): Promise<ClientRecord> {
  const client = await validateRegistration(r, fetchJson);
  await insertClient(db, client);
  return client;
}

/**
 * A new public key for an existing client (the partner's own rotation, or after the team asked for one): the
 * same checks as at registration; the old key stops working at once, and a client waiting for a new key is
 * active again.
 */
export async function replaceClientKey(
  db: Db,
  env: EnvironmentName,
  clientId: string,
  key: { publicKeyPem?: string | undefined; jwksUri?: string | undefined },
  fetchJson?: FetchJson,
): Promise<void> {
  const client = await getClient(db, env, clientId);
  if (!client) throw new RegistrationError('invalid_public_key', 'public_key', `There is no client ${clientId} in ${env}`);
  if (Boolean(key.publicKeyPem) === Boolean(key.jwksUri))
    throw new RegistrationError('invalid_public_key', 'public_key', 'Give exactly one of: a public key (PEM) or a JWKS URL');
  const change = key.publicKeyPem
    ? { jwks: { keys: [(await jwkFromPem(key.publicKeyPem)) as Record<string, unknown>] } }
    : { jwksUri: key.jwksUri! };
  if (key.jwksUri) await fetchJwks(env, key.jwksUri, fetchJson);
  // The new key and, for a client waiting for one, its return to active: one write.
  await updateClient(db, env, clientId, { ...change, ...(client.status === 'rotate_key' ? { status: 'active' as const } : {}) });
}
