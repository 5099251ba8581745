/**
 * Sign-in throttling on both databases (storage/lockout.ts): a pair of account and address waits after repeated
 * failures, with the wait doubling; parallel checks of one pair run one at a time; ceilings count failures only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import { checkPair, countFailure, countRequest, FREE_FAILURES, overCeiling, waitText, type Database } from './index.ts';
import { pairKey, throttledNetwork } from './lockout.ts';

const wrong = async () => ({ ok: false, value: 'wrong' });
const right = async () => ({ ok: true, value: 'right' });

for (const dialect of DIALECTS) {
  describe(`sign-in throttling (${dialect})`, () => {
    let database: Database;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    test('a pair has five free failures, then waits, the wait doubling with each further failure', async () => {
      const lefts: number[] = [];
      for (let i = 0; i < FREE_FAILURES; i++) {
        const c = await checkPair(database.db, 'p1', wrong);
        assert.equal(c.refused, undefined);
        lefts.push(c.refused ? -1 : c.left);
      }
      assert.deepEqual(lefts, [4, 3, 2, 1, 0]);
      const sixth = await checkPair(database.db, 'p1', wrong);
      assert.ok(!sixth.refused && sixth.waitMs === 30_000, 'the sixth failure starts a 30 s wait');
      const refused = await checkPair(database.db, 'p1', right);
      assert.equal(refused.refused?.reason, 'wait', 'even the right password waits');
      // The wait over, the next failure doubles it.
      await database.db.updateTable('attempt_counter').set({ not_before: Date.now() - 1 }).where('key', '=', 'p1').execute();
      const seventh = await checkPair(database.db, 'p1', wrong);
      assert.ok(!seventh.refused && seventh.waitMs === 60_000);
    });

    test('a success forgets the pair\'s failures; other pairs are not affected', async () => {
      for (let i = 0; i < 6; i++) await checkPair(database.db, 'p2', wrong);
      assert.equal((await checkPair(database.db, 'p3', right)).refused, undefined, 'the same account from another address');
      await database.db.updateTable('attempt_counter').set({ not_before: Date.now() - 1 }).where('key', '=', 'p2').execute();
      assert.equal((await checkPair(database.db, 'p2', right)).refused, undefined);
      const after = await checkPair(database.db, 'p2', wrong);
      assert.ok(!after.refused && after.left === FREE_FAILURES - 1, 'counting starts again');
    });

    test('checks of one pair at once run one at a time: the others are busy, not counted', async () => {
      let running = 0;
      let most = 0;
      const slow = async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 50));
        running--;
        return { ok: false, value: undefined };
      };
      const results = await Promise.all(Array.from({ length: 6 }, () => checkPair(database.db, 'p4', slow)));
      assert.equal(most, 1);
      assert.ok(results.filter((r) => r.refused?.reason === 'busy').length >= 1);
      const failures = (await database.db.selectFrom('attempt_counter').select('count').where('key', '=', 'p4').executeTakeFirstOrThrow())
        .count;
      assert.equal(Number(failures), results.filter((r) => !r.refused).length);
    });

    test('a check that throws is released, not left under way, and counts no failure', async () => {
      await assert.rejects(
        checkPair(database.db, 'p5', async () => {
          throw new Error('gate busy');
        }),
        /gate busy/,
      );
      const row = await database.db
        .selectFrom('attempt_counter')
        .select(['count', 'inflight'])
        .where('key', '=', 'p5')
        .executeTakeFirstOrThrow();
      assert.deepEqual([Number(row.count), Number(row.inflight)], [0, 0]);
    });

    test('a check whose process died holds its pair for half a minute, not for the window', async () => {
      const now = Date.now();
      await database.db
        .insertInto('attempt_counter')
        .values({ key: 'p6', count: 0, inflight: 1, expires_at: now + 60_000, not_before: null, check_until: now - 1 })
        .execute();
      assert.equal((await checkPair(database.db, 'p6', right)).refused, undefined);
    });

    test('checks of a pair marked concurrent overlap (a published test account): none is busy', async () => {
      const slow = async () => {
        await new Promise((r) => setTimeout(r, 50));
        return { ok: true, value: undefined };
      };
      const results = await Promise.all(Array.from({ length: 4 }, () => checkPair(database.db, 'p7', slow, { concurrent: true })));
      assert.deepEqual(results.map((r) => r.refused), [undefined, undefined, undefined, undefined]);
    });

    test('a check that proves nothing either way counts no failure and forgets none', async () => {
      await checkPair(database.db, 'p8', wrong);
      const neutral = await checkPair(database.db, 'p8', async () => ({ ok: false, value: 'set-up code', uncounted: true }));
      assert.ok(!neutral.refused && neutral.uncounted && neutral.value === 'set-up code');
      const row = await database.db
        .selectFrom('attempt_counter')
        .select(['count', 'inflight'])
        .where('key', '=', 'p8')
        .executeTakeFirstOrThrow();
      assert.deepEqual([Number(row.count), Number(row.inflight)], [1, 0], 'the earlier failure is still counted, this one is not');
    });

    test('ceilings count failures; rate limits count requests', async () => {
      for (let i = 0; i < 3; i++) await countFailure(database.db, 'c1');
      assert.equal(await overCeiling(database.db, 'c1', 3), true);
      assert.equal(await overCeiling(database.db, 'c1', 4), false);
      const counted = await Promise.all(Array.from({ length: 5 }, () => countRequest(database.db, 'r1', 3)));
      assert.equal(counted.filter(Boolean).length, 3);
    });
  });
}

test('waits read as people say them', () => {
  assert.deepEqual(
    [waitText(500), waitText(30_000), waitText(60_000), waitText(61_000), waitText(15 * 60_000)],
    ['1 second', '30 seconds', '1 minute', '2 minutes', '15 minutes'],
  );
});

test('a pair key is never an account key, whatever the email holds', () => {
  assert.notEqual(pairKey('portal:password:victim@nhs.net', '203.0.113.7'), 'portal:password:victim@nhs.net:203.0.113.7');
  assert.notEqual(pairKey('a:b', 'c'), pairKey('a', 'b:c'));
});

test('an IPv6 address is throttled by its /64, an IPv4-mapped one as IPv4', () => {
  assert.equal(throttledNetwork('2001:db8:0:1:aaaa::1'), '2001:db8:0:1::/64');
  assert.equal(throttledNetwork('2001:0db8:0000:0001:ffff:ffff:ffff:ffff'), '2001:db8:0:1::/64');
  assert.equal(throttledNetwork('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(throttledNetwork('::1'), '0:0:0:0::/64');
  assert.equal(throttledNetwork('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(throttledNetwork('::ffff:203.0.113.9'), '203.0.113.9');
  assert.equal(throttledNetwork('203.0.113.9'), '203.0.113.9');
});
