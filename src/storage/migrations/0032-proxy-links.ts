/**
 * Migration 0032: proxy links a partner makes between its own integration test users (issue 15 §4, "manage health
 * services for others"): in the stand-in NHS App the proxy may open a service for the patient, and the assertion then
 * names the patient. One row per link; adding a link twice is one link.
 */
import type { Kysely, Migration } from 'kysely';

export const PROXY_LINKS: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('proxy_link')
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('proxy_id', 'text', (c) => c.notNull())
      .addColumn('patient_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('proxy_link_pk', ['env', 'proxy_id', 'patient_id'])
      .execute();
  },
};
