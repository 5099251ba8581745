/**
 * A Kysely dialect over Node's built-in `node:sqlite` (no native addon to build).
 * SQLite allows one writer at a time and `DatabaseSync` is synchronous, so one connection is shared
 * behind a mutex: a transaction holds it from BEGIN to COMMIT, single queries hold it for one call and share
 * a transaction per event-loop turn (GroupCommit).
 */
import { DatabaseSync, type StatementSync, type SQLInputValue } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import {
  type CompiledQuery,
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
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  process.exit(0);
});
`;

/** First come, first served; `tryLock` takes a free lock without a promise or a turn of the event loop. */
class Mutex {
  #held = false;
  readonly #waiters: (() => void)[] = [];
  tryLock(): (() => void) | undefined {
    if (this.#held) return undefined;
    this.#held = true;
    return this.#releaser();
  }
  lock(): Promise<() => void> {
    const now = this.tryLock();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => this.#waiters.push(() => resolve(this.#releaser())));
  }
  /** Hands the lock to the next waiter, if any; a second call does nothing. */
  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#held = false;
    };
  }
}

function toParam(v: unknown): SQLInputValue {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === undefined) return null;
  if (v instanceof Date) return v.getTime();
  return v as SQLInputValue;
}

/**
 * Group commit. Every statement outside an explicit transaction used to be a transaction of its own, and a
 * commit (WAL frames, file locks) costs several times the statement. Now a write outside an explicit transaction
 * opens a shared transaction that later statements of the same event-loop turn join, committed once at the end
 * of the turn (setImmediate). No caller sees its result before that commit: a statement that ran inside the
 * shared transaction is answered when it commits, or fails with the commit's error. So durability is what it was
 * (a result is only ever observed committed); statements of one turn see each other's writes, which commit or
 * fail together. An explicit transaction commits the shared one first, then runs on its own. A `db.connection()`
 * session (one acquisition, many statements) gets its results as they run and fails at its end if any of the
 * shared transactions it ran in failed to commit.
 */
class GroupCommit {
  #open?: { done: Promise<void>; settle(err?: unknown): void };
  readonly #db: DatabaseSync;
  constructor(db: DatabaseSync) {
    this.#db = db;
  }
  /** The shared transaction to run in, opened for writes; undefined for a read when none is open. */
  join(write: boolean): Promise<void> | undefined {
    // A transaction the database rolled back is never trusted.
    if (this.#open && !this.#db.isTransaction) this.checkAborted(new Error('the shared transaction was rolled back'));
    if (!this.#open && write) {
      this.#db.exec('begin immediate');
      let settle!: (err?: unknown) => void;
      const done = new Promise<void>((resolve, reject) => (settle = (err) => (err === undefined ? resolve() : reject(err))));
      done.catch(() => undefined); // each caller gets the error from its own await
      this.#open = { done, settle };
      setImmediate(() => this.commit());
    }
    return this.#open?.done;
  }
  /** After a statement failed: if SQLite rolled the shared transaction back (I/O error, disk full), say so to all. */
  checkAborted(err: unknown): void {
    const open = this.#open;
    if (!open || this.#db.isTransaction) return;
    this.#open = undefined;
    open.settle(err);
  }
  commit(): void {
    const open = this.#open;
    if (!open) return;
    this.#open = undefined;
    try {
      this.#db.exec('commit');
      open.settle();
    } catch (err) {
      try {
        this.#db.exec('rollback');
      } catch {
        // nothing to roll back: the failed commit ended the transaction
      }
      open.settle(err ?? new Error('commit failed'));
    }
  }
}

/** The one database connection, shared by everything in this process. */
class SqliteCore {
  readonly db: DatabaseSync;
  readonly group: GroupCommit;
  readonly #cache = new Map<string, { stmt: StatementSync; reader: boolean }>();
  constructor(db: DatabaseSync) {
    this.db = db;
    this.group = new GroupCommit(db);
  }

  prepare(sql: string): { stmt: StatementSync; reader: boolean } {
    let entry = this.#cache.get(sql);
    if (!entry) {
      const stmt = this.db.prepare(sql);
      entry = { stmt, reader: stmt.columns().length > 0 };
      if (this.#cache.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
      this.#cache.set(sql, entry);
    }
    return entry;
  }

  /** The shared transaction a statement outside an explicit one runs in (a write opens it); see GroupCommit. */
  joinShared(sql: string): Promise<void> | undefined {
    return this.group.join(!sql.startsWith('select'));
  }

  /**
   * Runs a prepared statement: rows for a reader, changes for a writer. If the failure made SQLite roll the
   * shared transaction back, everyone in it is told.
   */
  run<R>(entry: { stmt: StatementSync; reader: boolean }, parameters: readonly unknown[]): QueryResult<R> {
    const params = parameters.map(toParam);
    try {
      if (entry.reader) return { rows: entry.stmt.all(...params) as R[] };
      const { changes, lastInsertRowid } = entry.stmt.run(...params);
      return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
    } catch (err) {
      this.group.checkAborted(err);
      throw err;
    }
  }
}

/**
 * One acquisition of the shared connection (one query, or a `db.connection()` session such as the migrator's,
 * which may span several shared transactions): remembers every shared transaction it ran in.
 */
class SqliteConnection implements DatabaseConnection {
  readonly core: SqliteCore;
  inTransaction = false;
  readonly committed = new Set<Promise<void>>();
  constructor(core: SqliteCore) {
    this.core = core;
  }

  #join(sql: string): void {
    if (this.inTransaction) return;
    const done = this.core.joinShared(sql);
    if (done) this.committed.add(done);
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const entry = this.core.prepare(compiled.sql);
    this.#join(compiled.sql);
    return this.core.run<R>(entry, compiled.parameters);
  }

  async *streamQuery<R>(compiled: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const entry = this.core.prepare(compiled.sql);
    this.#join(compiled.sql);
    // Read at once: a statement still stepping when the shared transaction commits would make the commit fail.
    for (const row of this.core.run<R>(entry, compiled.parameters).rows) {
      yield { rows: [row] };
    }
  }
}

class NodeSqliteDriver implements Driver {
  readonly #file: string;
  readonly #mutex = new Mutex();
  #core?: SqliteCore;
  #checkpointer?: Worker;
  #release?: () => void;

  constructor(file: string) {
    this.#file = file;
  }

  async init(): Promise<void> {
    const db = new DatabaseSync(this.#file);
    // WAL lets readers in other processes (the CLI) proceed while the server writes.
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;');
    if (this.#file !== ':memory:') {
      db.exec('PRAGMA wal_autocheckpoint = 0');
      this.#checkpointer = new Worker(CHECKPOINTER, { eval: true, workerData: { file: this.#file, every: CHECKPOINT_EVERY_MS } });
      this.#checkpointer.unref();
    }
    this.#core = new SqliteCore(db);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    this.#release = await this.#mutex.lock();
    return new SqliteConnection(this.#core!);
  }

  /**
   * One statement outside any explicit transaction, without Kysely's per-query machinery (the hot paths'
   * templates, prepared.ts): a query through Kysely allocates several kilobytes of promises and closures, a
   * token request runs nine. Same rules as a Kysely query: it waits for a transaction in progress, joins the
   * shared transaction, and is answered once that commits (a failed commit wins over the statement's error).
   */
  async executeSingle<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    const release = this.#mutex.tryLock() ?? (await this.#mutex.lock());
    const core = this.#core!;
    let committed: Promise<void> | undefined;
    let result: QueryResult<R>;
    try {
      const entry = core.prepare(sql);
      committed = core.joinShared(sql);
      result = core.run<R>(entry, parameters);
    } catch (err) {
      release();
      await committed;
      throw err;
    }
    release();
    await committed;
    return result;
  }

  async beginTransaction(c: DatabaseConnection): Promise<void> {
    const conn = c as SqliteConnection;
    conn.core.group.commit(); // the shared transaction's statements come first
    conn.core.db.exec('begin immediate');
    conn.inTransaction = true;
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    const conn = c as SqliteConnection;
    conn.inTransaction = false;
    conn.core.db.exec('commit');
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    const conn = c as SqliteConnection;
    conn.inTransaction = false;
    conn.core.db.exec('rollback');
  }
  async releaseConnection(c: DatabaseConnection): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    release?.();
    // Answered only once what its statements did (or read) is committed; a failed commit is never swallowed,
    // even when it follows a statement's own error.
    await Promise.all((c as SqliteConnection).committed);
  }
  async destroy(): Promise<void> {
    this.#core?.group.commit();
    if (this.#checkpointer) {
      const exited = new Promise((resolve) => this.#checkpointer!.once('exit', resolve));
      // Unref'd while running so it never keeps a process alive; ref'd now, or a process with nothing else to
      // do would end while awaiting this (a CLI command then exits 13, "unsettled top-level await").
      this.#checkpointer.ref();
      this.#checkpointer.postMessage('stop');
      await exited;
    }
    this.#core?.db.close();
  }
}

export class NodeSqliteDialect implements Dialect {
  readonly #file: string;
  #driver?: NodeSqliteDriver;
  constructor(file: string) {
    this.#file = file;
  }
  createDriver(): Driver {
    return (this.#driver = new NodeSqliteDriver(this.#file));
  }
  /** A single statement straight to the driver (see NodeSqliteDriver.executeSingle); Kysely opens it first. */
  executeSingle<R>(sql: string, parameters: readonly unknown[]): Promise<QueryResult<R>> {
    if (!this.#driver) throw new Error('the database is not open yet');
    return this.#driver.executeSingle(sql, parameters);
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
