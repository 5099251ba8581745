/**
 * kill -9 under load, on both databases: what the toolkit answered before it died is all there when it starts again:
 * every token a client received still works, every client the API registered exists, and every answered token
 * request has its entry in the protocol record (issue 12: 39 entries lost on SQLite, 11 on PostgreSQL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, freshDatabaseUrl } from '../test-support/harness.ts';
import { startInstance, stopInstance } from '../test-support/instances.ts';
import { loadedInstance, lost } from '../test-support/traffic.ts';

for (const dialect of DIALECTS) {
  test(`kill -9 under load (${dialect}) loses no acknowledged token, client or protocol record entry`, async (t) => {
    const fresh = await freshDatabaseUrl(dialect);
    const { env, port, instance: first, database, client, traffic } = await loadedInstance(fresh.url, 6);
    let instance = first;
    try {
      await new Promise((r) => setTimeout(r, 2500));
      instance.process.kill('SIGKILL');
      await instance.exited;
      await traffic.stop();
      assert.ok(
        traffic.tokens.length > 20 && traffic.clients.length > 3,
        `load was running (${traffic.tokens.length} tokens, ${traffic.clients.length} clients)`,
      );
      t.diagnostic(`killed after ${traffic.tokens.length} tokens and ${traffic.clients.length} clients answered`);
      instance = await startInstance({ env, port });
      assert.deepEqual(
        await lost(database.db, instance.origin, client, traffic),
        { tokens: 0, clients: 0, entries: 0 },
        'acknowledged, then lost',
      );
    } finally {
      await stopInstance(instance, 'SIGKILL');
      await database.close();
      await fresh.drop();
    }
  });
}
