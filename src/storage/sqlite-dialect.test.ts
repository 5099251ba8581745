/**
 * The node:sqlite dialect's group commit: statements of one event-loop turn share a transaction, and nobody is
 * answered before it commits. Checked from a second connection on the same file, as another process (the CLI)
 * would see it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, sql } from 'kysely';
import { NodeSqliteDialect } from './sqlite-dialect.ts';

describe('node:sqlite dialect: group commit', () => {
  let dir: string;
  let db: Kysely<any>;
  let dialect: NodeSqliteDialect;
  let other: DatabaseSync;
  const committedIds = () => (other.prepare('select id from t order by id').all() as { id: string }[]).map((r) => r.id);
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'group-commit-'));
    const file = path.join(dir, 'g.db');
    dialect = new NodeSqliteDialect(file);
    db = new Kysely<any>({ dialect });
    await sql`create table parent (id text primary key)`.execute(db);
    // A deferred foreign key is checked at COMMIT: the way to make a commit itself fail.
    await sql`create table t (id text primary key, parent text references parent (id) deferrable initially deferred)`.execute(db);
    // A statement that makes SQLite roll the whole transaction back (as an I/O error or a full disk would).
    await sql`create table doomed (id text)`.execute(db);
    await sql`create trigger doomed_insert before insert on doomed begin select raise(rollback, 'rolled back'); end`.execute(db);
    other = new DatabaseSync(file);
  });
  after(async () => {
    other.close();
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('writes of one turn are answered only once committed, and commit together', async () => {
    let seenAtAnswer: string[] | undefined;
    const first = db.insertInto('t').values({ id: 'a', parent: null }).execute().then(() => (seenAtAnswer = committedIds()));
    const second = db.insertInto('t').values({ id: 'b', parent: null }).execute();
    assert.deepEqual(committedIds(), [], 'nothing is visible to another connection before the commit');
    await Promise.all([first, second]);
    assert.deepEqual(seenAtAnswer, ['a', 'b'], 'the first caller is answered after both are committed');
  });

  test('a failed statement fails alone; the others of its turn commit', async () => {
    const results = await Promise.allSettled([
      db.insertInto('t').values({ id: 'c', parent: null }).execute(),
      db.insertInto('t').values({ id: 'a', parent: null }).execute(), // duplicate key
      db.insertInto('t').values({ id: 'd', parent: null }).execute(),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(committedIds(), ['a', 'b', 'c', 'd']);
  });

  test('a failed commit fails every statement of its turn and keeps none of them', async () => {
    const results = await Promise.allSettled([
      db.insertInto('t').values({ id: 'e', parent: null }).execute(),
      db.insertInto('t').values({ id: 'f', parent: 'no-such-parent' }).execute(),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.match(String((results[0] as PromiseRejectedResult).reason), /FOREIGN KEY/);
    assert.deepEqual(committedIds(), ['a', 'b', 'c', 'd'], 'neither write is kept');
    await db.insertInto('t').values({ id: 'g', parent: null }).execute();
    assert.deepEqual(committedIds(), ['a', 'b', 'c', 'd', 'g'], 'the next turn works');
  });

  test('an explicit transaction commits the turn\'s shared writes first, then commits or rolls back on its own', async () => {
    const shared = db.insertInto('t').values({ id: 'h', parent: null }).execute();
    await assert.rejects(
      db.transaction().execute(async (tx) => {
        assert.ok(committedIds().includes('h'), 'the shared write was committed before the transaction began');
        await tx.insertInto('t').values({ id: 'i', parent: null }).execute();
        throw new Error('roll back');
      }),
      /roll back/,
    );
    await shared;
    await db.transaction().execute((tx) => tx.insertInto('t').values({ id: 'j', parent: null }).execute());
    assert.deepEqual(committedIds(), ['a', 'b', 'c', 'd', 'g', 'h', 'j']);
  });

  test('a read during a turn with writes sees them and is answered after the commit', async () => {
    const write = db.insertInto('t').values({ id: 'k', parent: null }).execute();
    const read = db
      .selectFrom('t')
      .select('id')
      .where('id', '=', 'k')
      .execute()
      .then((rows) => ({ ids: rows.map((r) => r.id), committed: committedIds().includes('k') }));
    await write;
    assert.deepEqual(await read, { ids: ['k'], committed: true });
  });

  test('a connection() session over several turns fails if any of its commits failed (the migrator works this way)', async () => {
    await assert.rejects(
      db.connection().execute(async (c) => {
        await c.insertInto('t').values({ id: 'x', parent: 'no-such-parent' }).execute();
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
        await c.insertInto('t').values({ id: 'y', parent: null }).execute();
      }),
      /FOREIGN KEY/,
    );
    assert.ok(!committedIds().includes('x'));
  });

  test('a statement that rolls the shared transaction back fails it for all; later statements start a new one', async () => {
    const before = committedIds();
    const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: Error) => e.message);
    const first = outcome(db.insertInto('t').values({ id: 'l', parent: null }).execute());
    const streamed = outcome((async () => {
      for await (const _ of db.insertInto('doomed').values({ id: 'z' }).returning('id').stream()) void _;
    })());
    const later = outcome(db.insertInto('t').values({ id: 'm', parent: null }).execute());
    assert.deepEqual([await first, await streamed, await later], ['rolled back', 'rolled back', 'ok']);
    assert.deepEqual(committedIds(), [...before, 'm'], 'the rolled-back write is not kept; the later one is committed');
  });

  test('a statement sent straight to the driver (hot-path templates) keeps the same rules', async () => {
    const insert = 'insert into t (id, parent) values (?, ?)';
    // Waits for an explicit transaction in progress instead of running inside it (and being rolled back with it).
    let direct: Promise<unknown> | undefined;
    await assert.rejects(
      db.transaction().execute(async (tx) => {
        await tx.insertInto('t').values({ id: 'n', parent: null }).execute();
        direct = dialect.executeSingle(insert, ['o', null]);
        await new Promise((resolve) => setImmediate(resolve));
        throw new Error('roll back');
      }),
      /roll back/,
    );
    await direct;
    assert.ok(committedIds().includes('o') && !committedIds().includes('n'), 'the direct write ran after the transaction, on its own');
    // Answered only once committed, together with a Kysely write of the same turn.
    let seenAtAnswer: string[] | undefined;
    const first = dialect.executeSingle(insert, ['p', null]).then(() => (seenAtAnswer = committedIds()));
    const second = db.insertInto('t').values({ id: 'q', parent: null }).execute();
    assert.ok(!committedIds().includes('p'));
    await Promise.all([first, second]);
    assert.ok(seenAtAnswer?.includes('p') && seenAtAnswer.includes('q'));
    // A failed commit fails it too, even when its own statement succeeded; a statement's own error is its alone.
    const results = await Promise.allSettled([
      dialect.executeSingle(insert, ['r', null]),
      dialect.executeSingle(insert, ['s', 'no-such-parent']),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.ok(!committedIds().includes('r'));
    await assert.rejects(dialect.executeSingle(insert, ['p', null]), /UNIQUE/);
    const rows = await dialect.executeSingle<{ id: string }>('select id from t where id = ?', ['p']);
    assert.deepEqual(rows.rows.map((r) => r.id), ['p']);
  });
});
