/** Browser sessions of the portal and console: left sessions are purged at their timeouts. Both databases. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import { findSession, purgeSessions, startSession } from './sessions.ts';

for (const dialect of DIALECTS) {
  describe(`web sessions (${dialect})`, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    test('sessions left past their idle or absolute timeout are purged; live ones stay', async () => {
      const db = database.db;
      const hour = 3600_000;
      const now = Date.now();
      const make = async (kind: 'portal' | 'console', createdAgo: number, seenAgo: number) => {
        const s = await startSession(db, kind, `u-${kind}-${createdAgo}-${seenAgo}`);
        await db
          .updateTable('web_session')
          .set({ created_at: now - createdAgo, last_seen_at: now - seenAgo })
          .where('user_id', '=', `u-${kind}-${createdAgo}-${seenAgo}`)
          .execute();
        return s.cookie;
      };
      const live = await make('portal', 3 * hour, 30 * 60_000); // portal: 2 h idle, 12 h absolute
      const idle = await make('portal', 3 * hour, 3 * hour);
      const old = await make('portal', 13 * hour, 60_000);
      const consoleLive = await make('console', 2 * hour, 10 * 60_000); // console: 15 min idle, 8 h absolute
      const consoleIdle = await make('console', 2 * hour, 20 * 60_000);
      await purgeSessions(db, now);
      const left = (await db.selectFrom('web_session').select('user_id').execute()).map((r) => r.user_id).sort();
      assert.deepEqual(left, [`u-console-${2 * hour}-${10 * 60_000}`, `u-portal-${3 * hour}-${30 * 60_000}`]);
      assert.ok(await findSession(db, 'portal', live));
      assert.ok(await findSession(db, 'console', consoleLive));
      for (const gone of [idle, old]) assert.equal(await findSession(db, 'portal', gone), undefined);
      assert.equal(await findSession(db, 'console', consoleIdle), undefined);
    });
  });
}
