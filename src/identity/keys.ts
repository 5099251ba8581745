/**
 * Each environment's RS512 signing keys, persisted. Rotation is two steps so relying parties that cache
 * the JWKS never see a signature they cannot verify: `publishNext` adds a key to the JWKS without signing
 * with it; `switchToNext` makes it the signing key and keeps the old one published as retired.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { deleteSigningKey, insertSigningKey, listSigningKeys, promoteNextSigningKey, type Db } from '../storage/index.ts';

async function newKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS512', { modulusLength: 2048, extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = 'RS512';
  jwk.use = 'sig';
  return jwk;
}

/** The private JWKs for oidc-provider, signing key first (it signs with the first key that fits the alg). */
export async function loadSigningKeys(db: Db, env: string): Promise<JWK[]> {
  let rows = await listSigningKeys(db, env);
  if (!rows.some((r) => r.state === 'current')) {
    // Instances starting at once on a new database both get here: the database keeps one key (insertSigningKey),
    // and each instance signs with whichever it reads back.
    const jwk = await newKey();
    await insertSigningKey(db, {
      env,
      kid: jwk.kid!,
      private_jwk: JSON.stringify(jwk),
      state: 'current',
      created_at: Date.now(),
      changed_at: null,
    });
    rows = await listSigningKeys(db, env);
  }
  const order = { current: 0, next: 1, retired: 2 } as const;
  return rows.sort((a, b) => order[a.state] - order[b.state]).map((r) => JSON.parse(r.private_jwk) as JWK);
}

export async function publishNextKey(db: Db, env: string): Promise<string> {
  await loadSigningKeys(db, env); // makes the current key first if the server has never started on this database
  const next = async () => (await listSigningKeys(db, env)).find((r) => r.state === 'next')?.kid;
  const existing = await next();
  if (existing) return existing;
  const jwk = await newKey();
  await insertSigningKey(db, {
    env,
    kid: jwk.kid!,
    private_jwk: JSON.stringify(jwk),
    state: 'next',
    created_at: Date.now(),
    changed_at: null,
  });
  return (await next())!; // a publish at the same moment may have won: both answer with the key that is published
}

export class KeyRotationError extends Error {
  override name = 'KeyRotationError';
}

export async function switchToNextKey(db: Db, env: string): Promise<string> {
  const rows = await listSigningKeys(db, env);
  const next = rows.find((r) => r.state === 'next');
  if (!next)
    throw new KeyRotationError(
      `no published next key in ${env}: publish one first, and wait for relying parties to refresh their JWKS cache`,
    );
  // False when a switch at the same moment (another instance, another operator) promoted it first: the same outcome.
  await promoteNextSigningKey(db, env, next.kid);
  return next.kid;
}

/** A retired key stays published while ID tokens it signed can still be valid (their lifetime, 60 minutes). */
export const RETIRED_KEY_KEPT_MS = 60 * 60 * 1000;

/** Third step: removes retired keys from the JWKS once no unexpired token can carry their signature. */
export async function removeRetiredKeys(db: Db, env: string, now = Date.now()): Promise<string[]> {
  const retired = (await listSigningKeys(db, env)).filter((r) => r.state === 'retired');
  if (!retired.length) throw new KeyRotationError(`${env} has no retired keys to remove`);
  const early = retired.filter((r) => r.changed_at !== null && now - r.changed_at < RETIRED_KEY_KEPT_MS);
  if (early.length) {
    const at = new Date(Math.max(...early.map((r) => r.changed_at!)) + RETIRED_KEY_KEPT_MS).toISOString();
    throw new KeyRotationError(
      `ID tokens signed by ${early.map((r) => r.kid).join(', ')} may still ` +
        `be valid: remove ${early.length === 1 ? 'it' : 'them'} after ${at}`,
    );
  }
  for (const r of retired) await deleteSigningKey(db, env, r.kid);
  return retired.map((r) => r.kid);
}

export function publicJwk(jwk: JWK): JWK {
  const { kty, n, e, kid, alg, use } = jwk;
  return { kty, n, e, kid, alg, use } as JWK;
}
