/**
 * Migration 0028: a person's GP credential state (identity/gp-system). The toolkit's stand-in GP system refuses the
 * credentials NHS login holds once a partner puts its test user into a state where they stopped working
 * (gp-credentials.md "GP integration credentials are no longer valid"). Everybody starts `current`.
 */
import type { Kysely, Migration } from 'kysely';

export const GP_STATES_MIGRATION: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('person').addColumn('gp_state', 'text', (c) => c.notNull().defaultTo('current')).execute();
    // When the state was last set or resolved (ms): shown to the partner, and the order of its changes.
    await db.schema.alterTable('person').addColumn('gp_state_at', 'bigint').execute();
  },
};
