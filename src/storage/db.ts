/** Opens the database named by the configuration and brings its schema up to date. */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { DatabaseConfig } from '../config/index.ts';
import { NodeSqliteDialect } from './sqlite-dialect.ts';
import { migrate } from './migrations.ts';
import { runTemplatesDirectly } from './prepared.ts';
import type { Schema } from './schema.ts';

export type Db = Kysely<Schema>;

export interface Database {
  db: Db;
  kind: DatabaseConfig['kind'];
  /** Cheap round trip used by /readyz. */
  ping(): Promise<void>;
  /**
   * How far this host's clock is from the database server's, in ms (positive: the database is ahead); undefined for
   * SQLite, which has no clock but the host's.
   */
  clockSkewMs(): Promise<number | undefined>;
  close(): Promise<void>;
}

// PostgreSQL returns bigint (int8) as strings; our bigints are epoch milliseconds, safely numbers.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export async function openDatabase(config: DatabaseConfig): Promise<Database> {
  let db: Db;
  if (config.kind === 'sqlite') {
    if (config.file !== ':memory:') fs.mkdirSync(path.dirname(config.file), { recursive: true });
    const dialect = new NodeSqliteDialect(config.file);
    db = new Kysely<Schema>({ dialect });
    runTemplatesDirectly(db, (text, parameters) => dialect.executeSingle(text, parameters));
  } else {
    // A connection attempt gives up after 5 s (the default waits for ever), so that while the database is away requests
    // and /readyz answer with an error instead of hanging.
    const pool = new pg.Pool({
      connectionString: config.url,
      max: 10,
      connectionTimeoutMillis: 5000,
      types: pgTypes as pg.CustomTypesConfig,
    });
    // A connection the server ends (restart, failover, an administrator) must not crash the process. The pool listens
    // for errors on idle clients only; a client checked out between two queries (a transaction, a Kysely connection)
    // that loses its server emits 'error' with no listener, which ended the process. Every client gets a listener for
    // its whole life: its query in flight still fails with the error, and the pool drops it when it is released.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  }
  await migrate(db);
  return {
    db,
    kind: config.kind,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async clockSkewMs() {
      if (config.kind === 'sqlite') return undefined;
      // Against the middle of the round trip, so that the query's own time does not count as skew.
      const sent = Date.now();
      const { rows } = await sql<{ ms: number }>`select (extract(epoch from clock_timestamp()) * 1000)::float8 as ms`.execute(db);
      return Math.round(rows[0]!.ms - (sent + Date.now()) / 2);
    },
    close: () => db.destroy(),
  };
}

/**
 * Whether a statement failed because it broke a unique key or index, on either database (SQLite's extended codes
 * SQLITE_CONSTRAINT_UNIQUE 2067 and SQLITE_CONSTRAINT_PRIMARYKEY 1555; PostgreSQL's SQLSTATE 23505).
 */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; errcode?: unknown } | undefined;
  return e?.code === '23505' || (e?.code === 'ERR_SQLITE_ERROR' && (e.errcode === 2067 || e.errcode === 1555));
}
