/**
 * A person's GP credential state (migration 0028), as the stand-in GP system sees it (identity/gp-system). The states
 * are gp-credentials.md's four reasons credentials stop working, and EMIS's Restricted account.
 */
import type { Db } from './db.ts';
import type { PersonRow } from './people.ts';

export const GP_STATES = ['current', 'moved_practice', 'system_changed', 'merged', 'revoked', 'restricted'] as const;
export type GpState = (typeof GP_STATES)[number];
export const isGpState = (v: unknown): v is GpState => typeof v === 'string' && (GP_STATES as readonly string[]).includes(v);

/** The person whose stored credentials these are, if any (the GP system's account look-up). */
export async function findPersonByGpCredentials(
  db: Db, env: string, c: { accountId: string; linkageKey: string; odsCode: string },
): Promise<PersonRow | undefined> {
  return db.selectFrom('person').selectAll()
    .where('env', '=', env).where('gp_user_id', '=', c.accountId).where('gp_linkage_key', '=', c.linkageKey)
    .where('gp_ods_code', '=', c.odsCode).where('im1', '=', 1)
    .executeTakeFirst();
}

/** Sets the state; `credentials` replaces the stored ones as well (NHS login's refreshed claims). */
export async function setGpState(
  db: Db, env: string, personId: string, state: GpState,
  credentials?: Partial<Pick<PersonRow, 'gp_user_id' | 'gp_linkage_key' | 'gp_ods_code'>>,
): Promise<void> {
  await db.updateTable('person').set({ ...credentials, gp_state: state, gp_state_at: Date.now() })
    .where('env', '=', env).where('id', '=', personId).execute();
}
