/** The audit chain on both databases: an edited, deleted or reordered entry is detected, and where. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import type { Database } from '../storage/index.ts';
import { appendAudit, verifyAudit } from './audit.ts';

for (const dialect of DIALECTS) {
  describe(`audit chain (${dialect})`, () => {
    let database: Database;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());
    const fresh = async () => {
      await database.db.deleteFrom('audit').execute();
      for (let i = 1; i <= 5; i++)
        await appendAudit(database.db, {
          actor: `dm${i}`,
          action: 'gate.application.approve',
          subject: `org${i}`,
          details: { reason: `r${i}` },
        });
      assert.equal((await verifyAudit(database.db)).ok, true);
    };

    test('appends under concurrency keep one unbroken chain', async () => {
      await database.db.deleteFrom('audit').execute();
      await Promise.all(Array.from({ length: 10 }, (_, i) => appendAudit(database.db, { actor: 'x', action: 'a', subject: String(i) })));
      const v = await verifyAudit(database.db);
      assert.deepEqual([v.ok, v.entries], [true, 10]);
    });

    test('an append that fails for another reason than the race for the next entry is not tried again', async () => {
      let tries = 0;
      const counted = new Proxy(database.db, {
        get: (target, key, receiver) =>
          key === 'transaction'
            ? () => {
                tries++;
                return target.transaction();
              }
            : Reflect.get(target, key, receiver),
      });
      await assert.rejects(appendAudit(counted, { actor: 'x', action: 'a', subject: 's', details: { n: 1n } }), /BigInt/);
      assert.equal(tries, 1);
    });

    test('an edited entry', async () => {
      await fresh();
      await database.db.updateTable('audit').set({ details: '{"reason":"changed"}' }).where('seq', '=', 3).execute();
      assert.deepEqual(await verifyAudit(database.db), { ok: false, entries: 5, brokenAt: 3, problem: 'its contents were changed' });
    });

    test('a deleted entry', async () => {
      await fresh();
      await database.db.deleteFrom('audit').where('seq', '=', 2).execute();
      const v = await verifyAudit(database.db);
      assert.deepEqual([v.ok, v.brokenAt], [false, 3]);
    });

    test('entries cut off the end: a valid shorter chain, caught only with a head kept elsewhere', async () => {
      await fresh();
      const { head } = await verifyAudit(database.db);
      assert.match(head ?? '', /^5:[0-9a-f]{64}$/);
      assert.equal((await verifyAudit(database.db, head)).ok, true);
      await database.db.deleteFrom('audit').where('seq', '>=', 4).execute();
      assert.equal((await verifyAudit(database.db)).ok, true, 'the chain alone cannot tell');
      assert.deepEqual(await verifyAudit(database.db, head), {
        ok: false,
        entries: 3,
        brokenAt: 5,
        problem: `the recorded head ${head} is no longer in the trail: entries were removed from its end`,
      });
      await appendAudit(database.db, { actor: 'x', action: 'a', subject: 'again' });
      await appendAudit(database.db, { actor: 'x', action: 'a', subject: 'again' });
      const v = await verifyAudit(database.db, head);
      assert.deepEqual([v.ok, v.brokenAt], [false, 5], 'rewritten entries do not match the recorded head');
    });

    test('reordered entries', async () => {
      await fresh();
      const [two, four] = await Promise.all(
        [2, 4].map((s) => database.db.selectFrom('audit').selectAll().where('seq', '=', s).executeTakeFirstOrThrow()),
      );
      await database.db.deleteFrom('audit').where('seq', 'in', [2, 4]).execute();
      await database.db.insertInto('audit').values([{ ...two!, seq: 4 }, { ...four!, seq: 2 }]).execute();
      const v = await verifyAudit(database.db);
      assert.deepEqual([v.ok, v.brokenAt], [false, 2]);
    });

    test('a trail longer than one read (1,000 entries) is walked whole: an ' +
      'edit past the first thousand is found, the head anchors', async () => {
      await database.db.deleteFrom('audit').execute();
      for (let i = 1; i <= 1005; i++) await appendAudit(database.db, { actor: 'x', action: 'a', subject: String(i) });
      const whole = await verifyAudit(database.db);
      assert.deepEqual([whole.ok, whole.entries], [true, 1005]);
      assert.match(whole.head!, /^1005:/);
      assert.equal((await verifyAudit(database.db, whole.head)).ok, true);
      await database.db.updateTable('audit').set({ subject: 'changed' }).where('seq', '=', 1003).execute();
      assert.deepEqual(await verifyAudit(database.db), { ok: false, entries: 1005, brokenAt: 1003, problem: 'its contents were changed' });
    });
  });
}
