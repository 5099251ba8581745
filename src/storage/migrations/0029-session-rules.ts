/**
 * Migration 0029: a client's session rules (identity/session-rules.ts). NHS login's session management guidance (A, web
 * applications) asks for a full authentication after 30 minutes of inactivity and after 12 hours; the environments end
 * a client's refresh tokens on those limits. Null is the documented limit; the sandpit lets a partner shorten both.
 */
import type { Kysely, Migration } from 'kysely';

export const SESSION_RULES: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('client').addColumn('session_idle_s', 'integer').execute();
    await db.schema.alterTable('client').addColumn('session_absolute_s', 'integer').execute();
  },
};
