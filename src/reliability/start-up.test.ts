/**
 * Two toolkit processes started at the same moment on an empty PostgreSQL database, 20 times: both start every time,
 * and each environment has one current signing key (issue 12: one exited on a duplicate person 4 times in 4; once
 * the sandpit had two current keys). In-process, src/web/start-up.test.ts checks the same per boot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { freshDatabaseUrl } from '../test-support/harness.ts';
import { ready, spawnInstance, stopInstance } from '../test-support/instances.ts';

const TRIES = Number(process.env.START_UP_TRIES ?? 20);

test(`two instances starting at once on an empty PostgreSQL database both start, ${TRIES} times in ${TRIES}`, async (t) => {
  const failures: string[] = [];
  for (let i = 0; i < TRIES; i++) {
    const t0 = Date.now();
    const fresh = await freshDatabaseUrl('postgres');
    const instances = await Promise.all([0, 1].map(() => spawnInstance({ env: { DATABASE_URL: fresh.url } })));
    try {
      const started = await Promise.allSettled(instances.map((x) => ready(x, 60_000)));
      for (const s of started) if (s.status === 'rejected') failures.push(`try ${i + 1}: ${String(s.reason).slice(0, 500)}`);
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      const { rows } = await client.query<{ env: string; n: string }>(
        "select env, count(*) as n from signing_key where state = 'current' group by env order by env",
      );
      await client.end();
      const current = rows.map((r) => `${r.env}:${r.n}`).join(' ');
      if (current !== 'integration:1 live:1 sandpit:1') failures.push(`try ${i + 1}: current keys ${current}`);
    } finally {
      await Promise.all(instances.map((x) => stopInstance(x, 'SIGKILL')));
      await fresh.drop();
    }
    t.diagnostic(`try ${i + 1}: ${Date.now() - t0} ms`);
  }
  t.diagnostic(`${TRIES - failures.length} of ${TRIES} tries started both instances with one current key per environment`);
  assert.deepEqual(failures, []);
});
