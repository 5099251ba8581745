/**
 * Reads the faces made in SQL of their own: who a session belongs to, an organisation's page, its history and runs.
 * Each is a question a page asks; none decides anything.
 */
import type { Db } from '../storage/index.ts';

/** The partner a portal session belongs to (undefined once the account is gone). */
export function partnerUser(db: Db, userId: string) {
  return db.selectFrom('partner_user').select(['id', 'name', 'email']).where('id', '=', userId).executeTakeFirst();
}

/** The team member a console session belongs to, with the role that decides what they may do. */
export function teamUser(db: Db, userId: string) {
  return db.selectFrom('team_user').select(['id', 'email', 'role']).where('id', '=', userId).executeTakeFirst();
}

export function organisationById(db: Db, orgId: string) {
  return db.selectFrom('organisation').selectAll().where('id', '=', orgId).executeTakeFirst();
}

export async function organisationExists(db: Db, orgId: string): Promise<boolean> {
  return Boolean(await db.selectFrom('organisation').select('id').where('id', '=', orgId).executeTakeFirst());
}

/** The organisation a client belongs to, by name (the console's client page links to it). */
export function organisationName(db: Db, orgId: string) {
  return db.selectFrom('organisation').select(['id', 'name', 'ods_code']).where('id', '=', orgId).executeTakeFirst();
}

/** Every audit entry about one subject (an organisation's id), newest first. */
export function auditOfSubject(db: Db, subject: string) {
  return db.selectFrom('audit').selectAll().where('subject', '=', subject).orderBy('seq', 'desc').execute();
}

/** An organisation's latest conformance runs, any client (the console's partner page). */
export function organisationRuns(db: Db, orgId: string, limit = 20) {
  return db.selectFrom('conformance_run').select(['id', 'env', 'client_id', 'status', 'created_at', 'report'])
    .where('organisation_id', '=', orgId).orderBy('created_at', 'desc').limit(limit).execute();
}

/** One client's latest conformance runs (the portal's client page). */
export function clientRuns(db: Db, env: string, clientId: string, limit = 5) {
  return db.selectFrom('conformance_run').select(['id', 'status', 'start_url', 'created_at'])
    .where('env', '=', env).where('client_id', '=', clientId).orderBy('created_at', 'desc').limit(limit).execute();
}

/** An organisation's requests for integration and live, newest first. */
export function environmentRequests(db: Db, orgId: string) {
  return db.selectFrom('environment_request').select(['id', 'env', 'status', 'created_at', 'decided_at'])
    .where('organisation_id', '=', orgId).orderBy('created_at', 'desc').execute();
}

/** An environment's own prepared demo accounts (no organisation's test users), as the interface reference lists them. */
export function demoAccounts(db: Db, env: string) {
  return db.selectFrom('person').select(['email', 'proofing_level', 'nhs_number', 'im1'])
    .where('env', '=', env).where('organisation_id', 'is', null).where('email', 'like', '%@demo.signin.nhs.uk').orderBy('email').execute();
}
