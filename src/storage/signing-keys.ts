/** Each environment's signing keys (private JWKs), with their rotation state. */
import type { Db } from './db.ts';
import type { SigningKeyTable } from './schema.ts';

export function listSigningKeys(db: Db, env: string): Promise<SigningKeyTable[]> {
  return db.selectFrom('signing_key').selectAll().where('env', '=', env).orderBy('created_at').execute();
}

export async function insertSigningKey(db: Db, row: SigningKeyTable): Promise<void> {
  await db.insertInto('signing_key').values(row).onConflict((oc) => oc.columns(['env', 'kid']).doNothing()).execute();
}

export async function setSigningKeyState(db: Db, env: string, kid: string, state: SigningKeyTable['state']): Promise<void> {
  await db.updateTable('signing_key').set({ state, changed_at: Date.now() }).where('env', '=', env).where('kid', '=', kid).execute();
}

export async function deleteSigningKey(db: Db, env: string, kid: string): Promise<void> {
  await db.deleteFrom('signing_key').where('env', '=', env).where('kid', '=', kid).where('state', '=', 'retired').execute();
}
