/**
 * Passkeys (WebAuthn credentials) people registered, and the signature counter each assertion moves on
 * (migration 0030). The ceremonies themselves are @simplewebauthn/server's, in the identity domain.
 */
import type { Db } from './db.ts';
import type { PasskeyTable } from './schema.ts';

export interface Passkey {
  credentialId: string;
  env: string;
  personId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  createdAt: number;
  lastUsedAt: number | null;
}

function fromRow(r: PasskeyTable): Passkey {
  let transports: unknown;
  try {
    transports = JSON.parse(r.transports);
  } catch {
    transports = [];
  }
  return {
    credentialId: r.credential_id,
    env: r.env,
    personId: r.person_id,
    publicKey: r.public_key,
    counter: Number(r.counter),
    transports: Array.isArray(transports) ? transports.filter((t): t is string => typeof t === 'string') : [],
    createdAt: Number(r.created_at),
    lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
  };
}

/**
 * Stores a verified registration. False when the credential ID is already stored (for anybody): an authenticator
 * registered twice, or a replayed registration response, is refused rather than moved to another person.
 */
export async function addPasskey(db: Db, p: Omit<Passkey, 'lastUsedAt'>): Promise<boolean> {
  const res = await db
    .insertInto('passkey')
    .values({
      credential_id: p.credentialId,
      env: p.env,
      person_id: p.personId,
      public_key: p.publicKey,
      counter: p.counter,
      transports: JSON.stringify(p.transports),
      created_at: p.createdAt,
      last_used_at: null,
    })
    .onConflict((oc) => oc.column('credential_id').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** A person's passkeys in this environment, oldest first (the settings page lists them). */
export async function listPasskeys(db: Db, env: string, personId: string): Promise<Passkey[]> {
  const rows = await db.selectFrom('passkey').selectAll().where('env', '=', env).where('person_id', '=', personId)
    .orderBy('created_at').orderBy('credential_id').execute();
  return rows.map(fromRow);
}

/** The passkey an assertion names, in this environment only (a sandpit passkey does not sign in to integration). */
export async function findPasskey(db: Db, env: string, credentialId: string): Promise<Passkey | undefined> {
  const row = await db.selectFrom('passkey').selectAll().where('env', '=', env).where('credential_id', '=', credentialId)
    .executeTakeFirst();
  return row ? fromRow(row) : undefined;
}

/**
 * Records a verified assertion: the counter moves from `seen` (what the verification was checked against) to `next`,
 * in one conditional update, so that of two instances verifying the same cloned-counter assertion at once only one
 * succeeds (WebAuthn L3 §7.2 step 21). False when the stored counter is no longer `seen` or the passkey was removed.
 */
export async function usePasskey(db: Db, env: string, credentialId: string, seen: number, next: number, at: number): Promise<boolean> {
  const res = await db.updateTable('passkey').set({ counter: next, last_used_at: at })
    .where('env', '=', env).where('credential_id', '=', credentialId).where('counter', '=', seen).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Removes one of the person's passkeys; false when it is not theirs (or not there). */
export async function removePasskey(db: Db, env: string, personId: string, credentialId: string): Promise<boolean> {
  const res = await db.deleteFrom('passkey').where('env', '=', env).where('person_id', '=', personId)
    .where('credential_id', '=', credentialId).executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}
