/** Provision Account's accepted requests (identity/provision), and the claim that makes one pending per person. */
import type { Db } from './db.ts';
import { kvClaimOnce, kvGet } from './kv.ts';
import type { ProvisionRequestTable } from './schema.ts';

export type ProvisionRequestRow = ProvisionRequestTable;

const PENDING = 'provision-pending';

/** Whether a request for this pending key (identity/provision: per client and NHS number, or per NHS number) is pending. */
export async function provisionPending(db: Db, pendingKey: string): Promise<boolean> {
  return (await kvGet(db, PENDING, pendingKey)) !== undefined;
}

/**
 * Stores an accepted request, unless another is pending under its key: the key is claimed in the same transaction, so
 * two instances answering at once cannot both accept (P§3.3.3 T11 11003). False when the key was already claimed.
 */
export async function insertProvisionRequest(db: Db, pendingKey: string, row: ProvisionRequestRow): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    if (!(await kvClaimOnce(tx as unknown as Db, PENDING, pendingKey, row.expires_at - row.created_at))) return false;
    await tx.insertInto('provision_request').values(row).execute();
    return true;
  });
}
