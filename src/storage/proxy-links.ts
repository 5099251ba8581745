/** Proxy links between test users (migration 0032): who may act for whom in the stand-in NHS App. */
import type { Db } from './db.ts';

/** Links `proxyId` to act for `patientId`; a link already there stays as it is (two requests at once make one). */
export async function addProxyLink(db: Db, env: string, proxyId: string, patientId: string): Promise<void> {
  await db.insertInto('proxy_link').values({ env, proxy_id: proxyId, patient_id: patientId, created_at: Date.now() })
    .onConflict((oc) => oc.columns(['env', 'proxy_id', 'patient_id']).doNothing()).execute();
}

export async function removeProxyLink(db: Db, env: string, proxyId: string, patientId: string): Promise<void> {
  await db.deleteFrom('proxy_link').where('env', '=', env).where('proxy_id', '=', proxyId).where('patient_id', '=', patientId).execute();
}

/** The people `proxyId` acts for, oldest link first. */
export async function proxyPatientIds(db: Db, env: string, proxyId: string): Promise<string[]> {
  const rows = await db.selectFrom('proxy_link').select('patient_id').where('env', '=', env).where('proxy_id', '=', proxyId)
    .orderBy('created_at').execute();
  return rows.map((r) => r.patient_id);
}

/** The links of any of `proxyIds`, oldest first. */
export async function proxyLinksOf(db: Db, env: string, proxyIds: string[]): Promise<{ proxy_id: string; patient_id: string }[]> {
  if (!proxyIds.length) return [];
  return db.selectFrom('proxy_link').select(['proxy_id', 'patient_id']).where('env', '=', env).where('proxy_id', 'in', proxyIds)
    .orderBy('created_at').execute();
}
