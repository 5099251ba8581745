/**
 * Query templates for hot paths: Kysely builds and compiles a query once, with placeholder arguments;
 * each call reuses the compiled SQL (the same for every call on a dialect) with the real arguments.
 * This keeps the token endpoint from rebuilding the same handful of queries on every request.
 */
import type { CompiledQuery, Compilable, QueryResult } from 'kysely';
import type { Db } from './db.ts';

type Direct = (sql: string, parameters: readonly unknown[]) => Promise<QueryResult<unknown>>;
const direct = new WeakMap<Db, Direct>();

/**
 * Lets this database's templates skip Kysely's per-query machinery (the SQLite driver's single-statement
 * path). Only the root handle is registered: templates built on a transaction still run inside it.
 */
export function runTemplatesDirectly(db: Db, run: Direct): void {
  direct.set(db, run);
}

export function prepared<A extends readonly unknown[], R>(db: Db, build: (...args: A) => Compilable<R>, arity: A['length']) {
  let template: { compiled: CompiledQuery<R>; slots: number[]; run: Direct | undefined } | undefined;
  return (...args: A): Promise<QueryResult<R>> => {
    if (!template) {
      const placeholders = Array.from({ length: arity }, (_, i) => `\u0000arg${i}\u0000`);
      const compiled = build(...(placeholders as unknown as A)).compile();
      template = { compiled, slots: compiled.parameters.map((p) => placeholders.indexOf(p as string)), run: direct.get(db) };
    }
    const { compiled, slots, run } = template;
    const parameters = slots.map((slot, i) => (slot >= 0 ? args[slot] : compiled.parameters[i]));
    return run ? (run(compiled.sql, parameters) as Promise<QueryResult<R>>) : db.executeQuery({ ...compiled, parameters });
  };
}

/** One set of templates per database handle, built on first use. */
export function perDatabase<T>(make: (db: Db) => T): (db: Db) => T {
  const cache = new WeakMap<Db, T>();
  return (db) => {
    let v = cache.get(db);
    if (!v) cache.set(db, (v = make(db)));
    return v;
  };
}
