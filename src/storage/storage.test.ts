/**
 * The storage port on both databases: the oidc-provider adapter (expiry, lookups, consume, grant revocation,
 * replay markers), expiring kv records and single-use claims, attempt counters, purging, and the node:sqlite
 * dialect's transactions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import { migrate } from './migrations.ts';
import { beginAttempt, checkAttempt, clearFailures, countRequest, endAttempt, isLocked, kvClaimOnce, kvGet, kvPut, oidcAdapterFactory, purgeExpired, type Database } from './index.ts';

for (const dialect of DIALECTS) {
  describe(`storage (${dialect})`, () => {
    let database: Database;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    test('adapter: upsert, find, findByUid, expiry and destroy, scoped by environment', async () => {
      const adapter = oidcAdapterFactory(database.db, 'sandpit');
      const other = oidcAdapterFactory(database.db, 'integration');
      const sessions = adapter('Session');
      await sessions.upsert('s1', { uid: 'u1', accountId: 'p1' } as never, 60);
      assert.equal((await sessions.find('s1'))?.accountId, 'p1');
      assert.equal((await sessions.findByUid('u1'))?.accountId, 'p1');
      assert.equal(await other('Session').find('s1'), undefined, 'another environment does not see it');
      await sessions.upsert('s1', { uid: 'u1', accountId: 'p2' } as never, 60);
      assert.equal((await sessions.find('s1'))?.accountId, 'p2', 'upsert replaces');
      await sessions.upsert('gone', { uid: 'u2' } as never, -1);
      assert.equal(await sessions.find('gone'), undefined, 'expired rows are not found');
      await sessions.destroy('s1');
      assert.equal(await sessions.find('s1'), undefined);
    });

    test('adapter: consume marks once; a second consume is invalid_grant and revokes the grant', async () => {
      const adapter = oidcAdapterFactory(database.db, 'sandpit');
      const codes = adapter('AuthorizationCode');
      const tokens = adapter('AccessToken');
      await codes.upsert('c1', { grantId: 'g1' } as never, 600);
      await tokens.upsert('a1', { grantId: 'g1' } as never, 300);
      await tokens.upsert('a2', { grantId: 'g2' } as never, 300);
      await codes.consume('c1');
      assert.ok((await codes.find('c1'))?.consumed, 'consumed is reported in seconds');
      await assert.rejects(codes.consume('c1'), (e: Error & { error?: string }) => e.error === 'invalid_grant');
      assert.equal(await tokens.find('a1'), undefined, 'the grant was revoked');
      assert.ok(await tokens.find('a2'), 'other grants are untouched');
      await tokens.revokeByGrantId('g2');
      assert.equal(await tokens.find('a2'), undefined);
    });

    test('adapter: a replay marker is claimed by exactly one of many concurrent finders', async () => {
      const replay = oidcAdapterFactory(database.db, 'sandpit')('ReplayDetection');
      const found = await Promise.all(Array.from({ length: 8 }, () => replay.find('jti-1')));
      assert.equal(found.filter((f) => f === undefined).length, 1);
    });

    test('kv: expiring records and single-use claims', async () => {
      await kvPut(database.db, 'ns', 'k', { a: 1 }, 60_000);
      assert.deepEqual(await kvGet(database.db, 'ns', 'k'), { a: 1 });
      await kvPut(database.db, 'ns', 'old', 1, 1);
      await new Promise((r) => setTimeout(r, 5));
      assert.equal(await kvGet(database.db, 'ns', 'old'), undefined);
      const claims = await Promise.all(Array.from({ length: 6 }, () => kvClaimOnce(database.db, 'once', 'x', 60_000)));
      assert.equal(claims.filter(Boolean).length, 1);
    });

    test('a check that throws is ended, not left under way, and counts no failure; a refused key does not run the check', async () => {
      const state = async () => {
        const row = await database.db.selectFrom('attempt_counter').select(['count', 'inflight']).where('key', '=', 'k3').executeTakeFirstOrThrow();
        return { count: Number(row.count), inflight: Number(row.inflight) };
      };
      for (let i = 0; i < 6; i++) await assert.rejects(checkAttempt(database.db, 'k3', 5, async () => { throw new Error('busy'); }), /busy/);
      assert.deepEqual(await state(), { count: 0, inflight: 0 });
      const failed = await checkAttempt(database.db, 'k3', 5, async () => ({ outcome: 'failed' as const, value: 'wrong' }));
      assert.deepEqual(failed, { value: 'wrong', left: 4 });
      for (let i = 0; i < 4; i++) await checkAttempt(database.db, 'k3', 5, async () => ({ outcome: 'failed' as const, value: 'wrong' }));
      let ran = false;
      const refused = await checkAttempt(database.db, 'k3', 5, async () => ({ outcome: 'succeeded' as const, value: (ran = true) }));
      assert.deepEqual([refused.refused?.locked, ran], [true, false]);
    });

    test('lockout: at most max checks failed or under way, even in parallel; busy is not locked; rate limits count', async () => {
      const begun = await Promise.all(Array.from({ length: 9 }, () => beginAttempt(database.db, 'k1', 5)));
      assert.equal(begun.filter((r) => r.allowed).length, 5, 'five checks at once at most');
      assert.ok(begun.filter((r) => !r.allowed).every((r) => !r.locked), 'the rest are busy, not locked');
      await Promise.all(begun.filter((r) => r.allowed).map(() => endAttempt(database.db, 'k1', 'succeeded')));
      assert.equal((await beginAttempt(database.db, 'k1', 5)).allowed, true, 'correct sign-ins at once lock nobody out');
      await endAttempt(database.db, 'k1', 'released');
      for (let i = 0; i < 5; i++) {
        const a = await beginAttempt(database.db, 'k2', 5);
        assert.deepEqual([a.allowed, a.left], [true, 4 - i]);
        await endAttempt(database.db, 'k2', 'failed');
      }
      assert.deepEqual(await beginAttempt(database.db, 'k2', 5), { allowed: false, locked: true, left: 0 });
      assert.ok(await isLocked(database.db, 'k2', 5));
      await clearFailures(database.db, 'k2');
      assert.equal(await isLocked(database.db, 'k2', 5), false);
      const counted = await Promise.all(Array.from({ length: 5 }, () => countRequest(database.db, 'r1', 3)));
      assert.equal(counted.filter(Boolean).length, 3);
    });

    test('purgeExpired removes expired rows only', async () => {
      const sessions = oidcAdapterFactory(database.db, 'live')('Session');
      await sessions.upsert('keep', { uid: 'k' } as never, 600);
      await sessions.upsert('drop', { uid: 'd' } as never, 1);
      await kvPut(database.db, 'p', 'drop', 1, 1);
      await new Promise((r) => setTimeout(r, 1100));
      await purgeExpired(database.db);
      const left = await database.db.selectFrom('oidc_model').select('id').where('env', '=', 'live').execute();
      assert.deepEqual(left.map((r) => r.id), ['keep']);
      assert.equal((await database.db.selectFrom('kv').select('key').where('ns', '=', 'p').execute()).length, 0);
    });

    /** Migrations run in order: to run one again, the ones after it are undone too (0021 here; 0019 by each test). */
    const undoFrom0021 = async () => {
      await sql`alter table conformance_run drop column lease_holder`.execute(database.db);
      await sql`alter table conformance_run drop column lease_until`.execute(database.db);
      await database.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '0021_conformance_run_lease' as never).execute();
    };

    test('a database that ran 0011 before attempt_counter.inflight existed gets the column (0018)', async () => {
      await sql`alter table attempt_counter drop column inflight`.execute(database.db);
      // Migrations run in order: the ones after 0018 are undone too, so that they run again after it.
      await undoFrom0021();
      await database.db.schema.dropIndex('conformance_run_one_running').execute();
      await database.db.deleteFrom('kysely_migration' as never).where('name' as never, 'in', ['0018_attempt_inflight', '0019_one_running_conformance_run'] as never).execute();
      await migrate(database.db);
      const attempt = await beginAttempt(database.db, 'upgraded');
      assert.equal(attempt.allowed, true);
      await endAttempt(database.db, 'upgraded', 'failed');
      assert.equal((await database.db.selectFrom('attempt_counter').select(['count', 'inflight']).where('key', '=', 'upgraded').executeTakeFirstOrThrow()).inflight, 0);
    });

    test('0019 ends all but the newest of runs already running side by side for a client, then holds one at a time', async () => {
      await undoFrom0021();
      await database.db.schema.dropIndex('conformance_run_one_running').execute();
      await database.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '0019_one_running_conformance_run' as never).execute();
      const run = (id: string, clientId: string, at: number, status = 'running') => ({ id, env: 'sandpit', client_id: clientId, organisation_id: null, start_url: 'https://svc.example/', options: '{}', status, created_by: 't', created_at: at, finished_at: null, report: null });
      await database.db.insertInto('conformance_run').values([run('old', 'c1', 1), run('new', 'c1', 2), run('other', 'c2', 1), run('done', 'c1', 0, 'passed')] as never).execute();
      await database.db.insertInto('conformance_result').values({ run_id: 'old', test_id: 't', position: 0, status: 'pending', detail: null, evidence: null, screenshot: null, started_at: null, finished_at: null }).execute();
      await migrate(database.db);
      const rows = await database.db.selectFrom('conformance_run').select(['id', 'status']).where('id', 'in', ['old', 'new', 'other', 'done']).orderBy('id').execute();
      assert.deepEqual(rows.map((r) => `${r.id}:${r.status}`), ['done:passed', 'new:running', 'old:error', 'other:running']);
      assert.equal((await database.db.selectFrom('conformance_result').select('status').where('run_id', '=', 'old').executeTakeFirstOrThrow()).status, 'could_not_run');
      await assert.rejects(database.db.insertInto('conformance_run').values(run('again', 'c1', 3) as never).execute(), 'a second running run for c1 is refused by the database');
      await database.db.insertInto('conformance_run').values(run('finished', 'c1', 3, 'failed') as never).execute();
      await database.db.deleteFrom('conformance_result').where('run_id', '=', 'old').execute();
      await database.db.deleteFrom('conformance_run').where('id', 'in', ['old', 'new', 'other', 'done', 'finished']).execute();
    });

    test('transactions commit together or not at all', async () => {
      await assert.rejects(database.db.transaction().execute(async (tx) => {
        await tx.insertInto('kv').values({ ns: 'tx', key: 'a', value: '1', expires_at: null }).execute();
        throw new Error('abort');
      }));
      assert.equal(await kvGet(database.db, 'tx', 'a'), undefined, 'rolled back');
      await database.db.transaction().execute(async (tx) => {
        await tx.insertInto('kv').values({ ns: 'tx', key: 'b', value: '2', expires_at: null }).execute();
      });
      assert.equal(await kvGet(database.db, 'tx', 'b'), 2);
    });
  });
}
