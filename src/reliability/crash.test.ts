/**
 * kill -9 under load, on both databases: what the toolkit answered before it died is all there when it starts again:
 * every token a client received still works, every client the API registered exists, and every answered token
 * request has its entry in the protocol record (issue 12: 39 entries lost on SQLite, 11 on PostgreSQL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/index.ts';
import { openDatabase } from '../storage/index.ts';
import { DIALECTS, freshDatabaseUrl } from '../test-support/harness.ts';
import { startInstance, stopInstance } from '../test-support/instances.ts';
import { freePort } from '../test-support/ports.ts';
import { apiToken, lostTokens, sandpitClient, startTraffic } from '../test-support/traffic.ts';

for (const dialect of DIALECTS) {
  test(`kill -9 under load (${dialect}) loses no acknowledged token, client or protocol record entry`, async (t) => {
    const fresh = await freshDatabaseUrl(dialect);
    const port = await freePort();
    const env = { DATABASE_URL: fresh.url, PUBLIC_URL: `http://localhost:${port}` };
    let instance = await startInstance({ env, port });
    const database = await openDatabase(loadConfig(env).database);
    try {
      const client = await sandpitClient(database.db, env.PUBLIC_URL);
      const traffic = startTraffic(client, [instance.origin], { api: await apiToken(database.db), workers: 6 });
      await new Promise((r) => setTimeout(r, 2500));
      instance.process.kill('SIGKILL');
      await instance.exited;
      await traffic.stop();
      assert.ok(traffic.tokens.length > 20 && traffic.clients.length > 3, `load was running (${traffic.tokens.length} tokens, ${traffic.clients.length} clients)`);

      t.diagnostic(`killed after ${traffic.tokens.length} tokens and ${traffic.clients.length} clients answered`);
      instance = await startInstance({ env, port });
      assert.deepEqual(await lostTokens(instance.origin, traffic.tokens), [], 'every acknowledged token still works');
      const clients = await database.db.selectFrom('client').select('client_id').where('client_id', 'in', traffic.clients).execute();
      assert.equal(clients.length, traffic.clients.length, 'every acknowledged client is registered');
      const entries = await database.db.selectFrom('protocol_event').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('client_id', '=', client.clientId).where('kind', '=', 'token').where('outcome', '=', 'ok').executeTakeFirstOrThrow();
      assert.ok(Number(entries.n) >= traffic.tokens.length, `${entries.n} token entries for ${traffic.tokens.length} tokens answered`);
    } finally {
      await stopInstance(instance, 'SIGKILL');
      await database.close();
      await fresh.drop();
    }
  });
}
