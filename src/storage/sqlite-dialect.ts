/**
 * A Kysely dialect over Node's built-in `node:sqlite` (no native addon to build).
 * SQLite allows one writer at a time and `DatabaseSync` is synchronous, so one connection is shared
 * behind a mutex: a transaction holds it from BEGIN to COMMIT, single queries hold it for one call.
 */
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';

const STATEMENT_CACHE_SIZE = 200;
const CHECKPOINT_EVERY_MS = 500;

/**
 * In WAL mode with synchronous=NORMAL a commit does not fsync; a checkpoint does. SQLite's automatic
 * checkpoint runs inside whichever commit crosses the threshold, which would stall the event loop for an
 * fsync in the middle of a request. A second connection on a worker thread checkpoints instead (PASSIVE:
 * it never blocks the writer).
 */
const CHECKPOINTER = `
const { DatabaseSync } = require('node:sqlite');
const { workerData, parentPort } = require('node:worker_threads');
const db = new DatabaseSync(workerData.file);
db.exec('PRAGMA busy_timeout = 1000');
const timer = setInterval(() => { try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {} }, workerData.every);
parentPort.on('message', () => { clearInterval(timer); try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {} db.close(); process.exit(0); });
`;

class Mutex {
  #tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const acquired = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return acquired;
  }
}

function toParam(v: unknown): SQLInputValue {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  return v as SQLInputValue;
}

class SqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, { stmt: StatementSync; reader: boolean }>();
  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  #prepare(sql: string): { stmt: StatementSync; reader: boolean } {
    let entry = this.#cache.get(sql);
    if (!entry) {
      const stmt = this.#db.prepare(sql);
      entry = { stmt, reader: stmt.columns().length > 0 };
      if (this.#cache.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
      this.#cache.set(sql, entry);
    }
    return entry;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const { stmt, reader } = this.#prepare(compiled.sql);
    const params = compiled.parameters.map(toParam);
    if (reader) {
      return { rows: stmt.all(...params) as R[] };
    }
    const { changes, lastInsertRowid } = stmt.run(...params);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const { stmt } = this.#prepare(compiled.sql);
    for (const row of stmt.iterate(...compiled.parameters.map(toParam))) {
      yield { rows: [row as R] };
    }
  }
}

class NodeSqliteDriver implements Driver {
  readonly #file: string;
  readonly #mutex = new Mutex();
  #db?: DatabaseSync;
  #connection?: SqliteConnection;
  #checkpointer?: Worker;
  #release?: () => void;

  constructor(file: string) {
    this.#file = file;
  }

  async init(): Promise<void> {
    this.#db = new DatabaseSync(this.#file);
    // WAL lets readers in other processes (the CLI) proceed while the server writes.
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
    if (this.#file !== ':memory:') {
      this.#db.exec('PRAGMA wal_autocheckpoint = 0');
      this.#checkpointer = new Worker(CHECKPOINTER, { eval: true, workerData: { file: this.#file, every: CHECKPOINT_EVERY_MS } });
      this.#checkpointer.unref();
    }
    this.#connection = new SqliteConnection(this.#db);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    this.#release = await this.#mutex.lock();
    return this.#connection!;
  }

  async beginTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('rollback'));
  }
  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }
  async destroy(): Promise<void> {
    if (this.#checkpointer) {
      const exited = new Promise((resolve) => this.#checkpointer!.once('exit', resolve));
      this.#checkpointer.postMessage('stop');
      await exited;
    }
    this.#db?.close();
  }
}

export class NodeSqliteDialect implements Dialect {
  readonly #file: string;
  constructor(file: string) {
    this.#file = file;
  }
  createDriver(): Driver {
    return new NodeSqliteDriver(this.#file);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}
