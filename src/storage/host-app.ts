/** The toolkit's stand-in NHS App, one per environment (identity/nhs-app, migration 0031): its client id and key. */
import type { Db } from './db.ts';
import type { HostAppTable } from './schema.ts';

/**
 * The environment's stand-in NHS App, made by `make` if there is none yet. Two instances asking at once on an empty
 * database both insert-or-nothing and then read the one row that won, so there is only ever one key.
 */
export async function ensureHostApp(
  db: Db,
  env: string,
  make: () => Promise<Omit<HostAppTable, 'env' | 'created_at'>>,
): Promise<HostAppTable> {
  const found = await db.selectFrom('host_app').selectAll().where('env', '=', env).executeTakeFirst();
  if (found) return found;
  const made = await make();
  await db.insertInto('host_app').values({ env, ...made, created_at: Date.now() })
    .onConflict((oc) => oc.column('env').doNothing()).execute();
  return db.selectFrom('host_app').selectAll().where('env', '=', env).executeTakeFirstOrThrow();
}
