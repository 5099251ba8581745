/** The PostgreSQL pool survives its server ending connections (a restart, a failover, an administrator). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sql } from 'kysely';
import { openTestDatabase } from '../test-support/harness.ts';

test('a PostgreSQL connection ended while checked out fails its own work and the process goes on', async () => {
  const database = await openTestDatabase('postgres');
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    const name = (await sql<{ n: string }>`select current_database() as n`.execute(database.db)).rows[0]!.n;
    // A transaction holds its client between statements; the server ends every connection to this database meanwhile.
    const held = database.db.transaction().execute(async (tx) => {
      await sql`select 1`.execute(tx);
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
      await new Promise((r) => setTimeout(r, 200)); // the client learns of it while idle in the transaction
      await sql`select 1`.execute(tx);
    });
    await assert.rejects(held, 'the work on the lost connection fails');
    await database.ping(); // a new connection serves the next query
  } finally {
    await admin.end();
    await database.close();
  }
});

test('the clock skew against the database: near nothing for PostgreSQL on this machine, none for SQLite', async () => {
  const pgDb = await openTestDatabase('postgres');
  const sqliteDb = await openTestDatabase('sqlite');
  try {
    const skew = await pgDb.clockSkewMs();
    assert.ok(typeof skew === 'number' && Math.abs(skew) < 1000, `skew ${skew} ms`);
    assert.equal(await sqliteDb.clockSkewMs(), undefined);
  } finally {
    await pgDb.close();
    await sqliteDb.close();
  }
});
