/**
 * Migration 0031: the NHS App as a host (issue 15 §4). A client's NHS App address, the page of the partner's service
 * the NHS App opens with `?assertedLoginIdentity=` (nhs-login-interface.md, "Single sign-on between services"); and,
 * per environment, the toolkit's stand-in NHS App: the client it signs in with and the private key it signs its
 * assertions with (RS512, like every client's). One row per environment, written once by whichever instance
 * first needs it (insert or nothing), so two instances never make two keys.
 */
import type { Kysely, Migration } from 'kysely';

export const NHS_APP: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('client').addColumn('nhs_app_url', 'text').execute();
    await db.schema.createTable('host_app')
      .addColumn('env', 'text', (c) => c.primaryKey())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('private_jwk', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
