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

/**
 * The key a request is pending under: per client and NHS number in the shared test environments, so that one
 * partner's request does not block another's for a week; per NHS number in live (brief §5 step 5).
 */
export function provisionPendingKey(env: string, clientId: string, nhsNumber: string): string {
  return env === 'live' ? `${env}:${nhsNumber}` : `${env}:${clientId}:${nhsNumber}`;
}

export function findProvisionByToken(db: Db, env: string, tokenHash: string): Promise<ProvisionRequestRow | undefined> {
  return db.selectFrom('provision_request').selectAll().where('env', '=', env).where('token_hash', '=', tokenHash).executeTakeFirst();
}

export function findProvision(db: Db, env: string, id: string): Promise<ProvisionRequestRow | undefined> {
  return db.selectFrom('provision_request').selectAll().where('env', '=', env).where('id', '=', id).executeTakeFirst();
}

/** Counts a wrong security code on the request; returns how many there have been. */
export async function countProvisionOtpFailure(db: Db, id: string): Promise<number> {
  await db.updateTable('provision_request').set((eb) => ({ otp_failures: eb('otp_failures', '+', 1) })).where('id', '=', id).execute();
  const row = await db.selectFrom('provision_request').select('otp_failures').where('id', '=', id).executeTakeFirst();
  return Number(row?.otp_failures ?? 0);
}

/**
 * Ends a pending request, as claimed or failed, and frees its NHS number for a new request. False when it was no longer
 * pending (another instance, or a second click, ended it first). `write` runs in the same transaction (the account).
 */
export async function endProvision(
  db: Db,
  row: ProvisionRequestRow,
  status: 'claimed' | 'failed',
  write?: (tx: Db) => Promise<void>,
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const res = await tx.updateTable('provision_request').set({ status, claimed_at: status === 'claimed' ? Date.now() : null })
      .where('id', '=', row.id).where('status', '=', 'pending').executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    if (write) await write(tx as unknown as Db);
    const key = provisionPendingKey(row.env, row.client_id, row.nhs_number);
    await tx.deleteFrom('kv').where('ns', '=', PENDING).where('key', '=', key).execute();
    return true;
  });
}

/** The name of the organisation that asked (the email and the claiming pages say who). */
export async function provisionerName(db: Db, organisationId: string | null): Promise<string | undefined> {
  if (!organisationId) return undefined;
  return (await db.selectFrom('organisation').select('name').where('id', '=', organisationId).executeTakeFirst())?.name;
}
