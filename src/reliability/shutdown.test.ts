/** SIGTERM under load: the instance finishes what it has accepted, answers it, and exits 0 (a rolling restart). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/index.ts';
import { openDatabase } from '../storage/index.ts';
import { DIALECTS, freshDatabaseUrl } from '../test-support/harness.ts';
import { startInstance, stopInstance } from '../test-support/instances.ts';
import { freePort } from '../test-support/ports.ts';
import { apiToken, sandpitClient, startTraffic } from '../test-support/traffic.ts';

for (const dialect of DIALECTS) {
  test(`SIGTERM under load (${dialect}) cuts no request and exits 0`, async (t) => {
    const fresh = await freshDatabaseUrl(dialect);
    const port = await freePort();
    const env = { DATABASE_URL: fresh.url, PUBLIC_URL: `http://localhost:${port}` };
    const instance = await startInstance({ env, port });
    const database = await openDatabase(loadConfig(env).database);
    try {
      const client = await sandpitClient(database.db, env.PUBLIC_URL);
      const traffic = startTraffic(client, [instance.origin], { api: await apiToken(database.db), workers: 8 });
      await new Promise((r) => setTimeout(r, 1500));
      const code = await stopInstance(instance, 'SIGTERM');
      await traffic.stop();
      t.diagnostic(`${traffic.tokens.length} tokens and ${traffic.clients.length} clients answered; after the signal ${traffic.failed.refused} refused, ${traffic.failed.cut} cut; ${traffic.samples.join(' | ')}`);
      assert.equal(code, 0);
      assert.ok(traffic.tokens.length > 10, 'load was running');
      assert.equal(traffic.failed.cut, 0, 'every request the instance accepted was answered');
      assert.equal(traffic.failed.status, 0, 'and answered as a healthy toolkit answers');
    } finally {
      await stopInstance(instance, 'SIGKILL');
      await database.close();
      await fresh.drop();
    }
  });
}
