/**
 * Query templates for hot paths: Kysely builds and compiles a query once, with placeholder arguments;
 * each call reuses the compiled SQL (the same for every call on a dialect) with the real arguments.
 * This keeps the token endpoint from rebuilding the same handful of queries on every request.
 */
import type { CompiledQuery, Compilable, QueryResult } from 'kysely';
import type { Db } from './db.ts';

export function prepared<A extends readonly unknown[], R>(db: Db, build: (...args: A) => Compilable<R>, arity: A['length']) {
  let template: { compiled: CompiledQuery<R>; slots: number[] } | undefined;
  return (...args: A): Promise<QueryResult<R>> => {
    if (!template) {
      const placeholders = Array.from({ length: arity }, (_, i) => `\u0000arg${i}\u0000`);
      const compiled = build(...(placeholders as unknown as A)).compile();
      template = { compiled, slots: compiled.parameters.map((p) => placeholders.indexOf(p as string)) };
    }
    const { compiled, slots } = template;
    const parameters = slots.map((slot, i) => (slot >= 0 ? args[slot] : compiled.parameters[i]));
    return db.executeQuery({ ...compiled, parameters });
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
