/**
 * `client_user_metadata`: a string of up to 1024 characters a relying party stores per user
 * (NHS login interface spec, scope `client_metadata`, `PATCH /userinfo`).
 */
import { randomBytes } from 'node:crypto';
import type { Db } from '../storage/index.ts';

export const MAX_CLIENT_USER_METADATA = 1024;

export async function getClientUserMetadata(db: Db, env: string, clientId: string, sub: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('client_user_metadata')
    .select('value')
    .where('env', '=', env)
    .where('client_id', '=', clientId)
    .where('sub', '=', sub)
    .executeTakeFirst();
  return row?.value;
}

/** "" clears the value; "auto" stores a freshly generated one; anything else is stored as given. */
export async function setClientUserMetadata(db: Db, env: string, clientId: string, sub: string, value: string): Promise<void> {
  const where = db.deleteFrom('client_user_metadata').where('env', '=', env).where('client_id', '=', clientId).where('sub', '=', sub);
  if (value === '') {
    await where.execute();
    return;
  }
  const stored = value === 'auto' ? randomBytes(24).toString('base64url') : value;
  await db
    .insertInto('client_user_metadata')
    .values({ env, client_id: clientId, sub, value: stored })
    .onConflict((oc) => oc.columns(['env', 'client_id', 'sub']).doUpdateSet({ value: stored }))
    .execute();
}
