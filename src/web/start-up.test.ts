/**
 * Start-up on a new database is safe when instances start at the same moment (issue 12: two instances on an empty
 * PostgreSQL, one exited on a duplicate person; once the sandpit had two current signing keys). PostgreSQL only: several
 * instances share a PostgreSQL database, while a SQLite file has one server (node:sqlite is synchronous, so two in one
 * process would wait on each other's locks in one thread).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootTestApp, freshDatabaseUrl } from '../test-support/harness.ts';
import { createRp, login } from '../test-support/rp.ts';
import { countPeople, kvGet } from '../storage/index.ts';

{
  const dialect = 'postgres';
  test(`two instances starting at once on a new PostgreSQL database both start, ` +
    `with one current key and one cookie key set per environment`, async () => {
    const fresh = await freshDatabaseUrl(dialect);
    const apps = await Promise.all([bootTestApp({ DATABASE_URL: fresh.url }), bootTestApp({ DATABASE_URL: fresh.url })]);
    try {
      const db = apps[0].database.db;
      for (const env of ['sandpit', 'integration', 'live']) {
        const keys = await db.selectFrom('signing_key').select('state').where('env', '=', env).execute();
        assert.deepEqual(keys.map((k) => k.state), ['current'], `${env}: one key, current`);
      }
      assert.equal(await countPeople(db, 'sandpit'), 25, 'the sandpit pack, seeded once');
      for (const env of ['sandpit', 'integration', 'live']) assert.equal((await kvGet<string[]>(db, 'cookie-keys', env))?.length, 1);
      // What one instance signs and sets, the other accepts: a login begun on one finishes on the other.
      const rp = await createRp(apps[0], 'sandpit');
      const { tokens } = await login(apps[1], rp, {});
      assert.ok(tokens.id_token);
    } finally {
      await Promise.all(apps.map((a) => a.stop()));
      await fresh.drop();
    }
  });
}
