/**
 * One migration set for both dialects. Only portable column types are used (text, integer, bigint).
 * Append new migrations (to migrations/0011-on.ts); never edit one that has shipped.
 */
import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { UP_TO_0010 } from './migrations/0001-0010.ts';
import { FROM_0011 } from './migrations/0011-on.ts';

/** In order: Kysely runs them sorted by name. */
const migrations: Record<string, Migration> = { ...UP_TO_0010, ...FROM_0011 };

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrate(db: Kysely<any>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
}
