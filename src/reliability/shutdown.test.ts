/** SIGTERM under load: the instance finishes what it has accepted, answers it, and exits 0 (a rolling restart). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, freshDatabaseUrl } from '../test-support/harness.ts';
import { stopInstance } from '../test-support/instances.ts';
import { loadedInstance } from '../test-support/traffic.ts';

for (const dialect of DIALECTS) {
  test(`SIGTERM under load (${dialect}) cuts no request and exits 0`, async (t) => {
    const fresh = await freshDatabaseUrl(dialect);
    const { instance, database, traffic } = await loadedInstance(fresh.url, 8);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      const code = await stopInstance(instance, 'SIGTERM');
      await traffic.stop();
      t.diagnostic(
        `${traffic.tokens.length} tokens and ${traffic.clients.length} clients answered; after the ` +
          `signal ${traffic.failed.refused} refused, ${traffic.failed.cut} cut; ${traffic.samples.join(' | ')}`,
      );
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
