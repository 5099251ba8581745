/** Each environment's signing keys (private JWKs), with their rotation state. */
import type { Db } from './db.ts';
import type { SigningKeyTable } from './schema.ts';

export function listSigningKeys(db: Db, env: string): Promise<SigningKeyTable[]> {
  return db.selectFrom('signing_key').selectAll().where('env', '=', env).orderBy('created_at').execute();
}

/**
 * Adds a key unless the environment already has one in its state (one current, one next: migration 0020's indexes);
 * instances starting at once both try, one wins, and each then reads back the key that did.
 */
export async function insertSigningKey(db: Db, row: SigningKeyTable): Promise<void> {
  await db.insertInto('signing_key').values(row).onConflict((oc) => oc.doNothing()).execute();
}

/**
 * Rotation's switch, in one transaction: the current key retires and the next one signs, or neither happens.
 * False when `kid` is no longer waiting (another switch took it first).
 */
export async function promoteNextSigningKey(db: Db, env: string, kid: string): Promise<boolean> {
  const lost = new Error('lost the switch');
  try {
    await db.transaction().execute(async (tx) => {
      const now = Date.now();
      await tx
        .updateTable('signing_key')
        .set({ state: 'retired', changed_at: now })
        .where('env', '=', env)
        .where('state', '=', 'current')
        .execute();
      const promoted = await tx
        .updateTable('signing_key')
        .set({ state: 'current', changed_at: now })
        .where('env', '=', env)
        .where('kid', '=', kid)
        .where('state', '=', 'next')
        .executeTakeFirst();
      if (Number(promoted.numUpdatedRows) !== 1) throw lost; // rolls the retirement back: never no current key
    });
    return true;
  } catch (err) {
    if (err === lost) return false;
    throw err;
  }
}

export async function deleteSigningKey(db: Db, env: string, kid: string): Promise<void> {
  await db.deleteFrom('signing_key').where('env', '=', env).where('kid', '=', kid).where('state', '=', 'retired').execute();
}
