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
import {
  checkPair, getClient, insertClient, kvClaimOnce, kvGet, kvPut, oidcAdapterFactory, purgeExpired, type ClientRecord, type Database,
} from './index.ts';

/**
 * How to undo each migration from 0018 on, for tests that run one again on a database that has every migration:
 * Kysely runs migrations in order, so the ones after it are undone too. A migration added later needs its entry here.
 */
const UNDO: Record<string, (db: Database['db']) => Promise<unknown>> = {
  '0018_attempt_inflight': (db) => sql`alter table attempt_counter drop column inflight`.execute(db),
  '0019_one_running_conformance_run': (db) => db.schema.dropIndex('conformance_run_one_running').execute(),
  '0020_one_current_signing_key': async (db) => {
    for (const state of ['current', 'next']) await db.schema.dropIndex(`signing_key_one_${state}`).execute();
  },
  '0025_record_codes': async (db) => {
    await db.schema.alterTable('protocol_event').addColumn('reason', 'text').execute();
    for (const column of ['error', 'cause', 'description']) await db.schema.alterTable('protocol_event').dropColumn(column).execute();
  },
  '0033_fault_sequences': async (db) => {
    const rows = await db.selectFrom('client').select(['env', 'client_id', 'fault']).where('fault', 'is not', null).execute();
    for (const r of rows) {
      const { steps: [first], armedAt } = JSON.parse(r.fault!) as { steps: { kind: string; count: number | null }[]; armedAt: number };
      await db.updateTable('client').set({ fault: JSON.stringify({ kind: first!.kind, remaining: first!.count, armedAt }) })
        .where('env', '=', r.env).where('client_id', '=', r.client_id).execute();
    }
  },
  '0032_proxy_links': (db) => db.schema.dropTable('proxy_link').execute(),
  '0031_nhs_app': async (db) => {
    await db.schema.dropTable('host_app').execute();
    await db.schema.alterTable('client').dropColumn('nhs_app_url').execute();
  },
  '0030_passkeys': (db) => db.schema.dropTable('passkey').execute(),
  '0027_provisioning': async (db) => {
    await db.schema.dropTable('provision_request').execute();
    for (const column of ['provisioning', 'provisioning_ods']) await db.schema.alterTable('client').dropColumn(column).execute();
  },
  '0026_users_v2': async (db) => {
    await db.schema.dropIndex('person_nhs_number').execute();
    await db.schema.alterTable('client').dropColumn('users_v2').execute();
  },
  '0029_session_rules': async (db) => {
    for (const column of ['session_idle_s', 'session_absolute_s']) await db.schema.alterTable('client').dropColumn(column).execute();
  },
  '0028_gp_states': async (db) => {
    for (const column of ['gp_state', 'gp_state_at']) await db.schema.alterTable('person').dropColumn(column).execute();
  },
  '0024_attempt_check_until': (db) => db.schema.alterTable('attempt_counter').dropColumn('check_until').execute(),
  '0023_attempt_not_before': (db) => db.schema.alterTable('attempt_counter').dropColumn('not_before').execute(),
  '0021_conformance_run_lease': async (db) => {
    for (const column of ['lease_holder', 'lease_until']) await db.schema.alterTable('conformance_run').dropColumn(column).execute();
  },
  '0022_delivery_claims': async (db) => {
    await db.schema.dropIndex('outbox_due').execute();
    await db.schema.alterTable('outbox').dropColumn('next_attempt_at').execute();
    for (const table of ['outbox', 'notification']) {
      for (const column of ['claim', 'claimed_until']) await db.schema.alterTable(table).dropColumn(column).execute();
    }
  },
};

/** Undoes `name` and every migration after it, newest first, so that the next migrate() runs them again. */
async function rewindTo(db: Database['db'], name: string): Promise<void> {
  const done = await db
    .selectFrom('kysely_migration' as never)
    .select('name' as never)
    .where('name' as never, '>=', name as never)
    .execute();
  for (const { name: m } of (done as { name: string }[]).sort((a, b) => b.name.localeCompare(a.name))) {
    const undo = UNDO[m];
    if (!undo) throw new Error(`add how to undo migration ${m} to UNDO in storage.test.ts`);
    await undo(db);
    await db.deleteFrom('kysely_migration' as never).where('name' as never, '=', m as never).execute();
  }
}

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
    test('a database that ran 0011 before attempt_counter.inflight existed gets the column (0018)', async () => {
      await rewindTo(database.db, '0018_attempt_inflight');
      await migrate(database.db);
      const checked = await checkPair(database.db, 'upgraded', async () => ({ ok: false, value: undefined }));
      assert.equal(checked.refused, undefined);
      assert.equal(
        (
          await database.db
            .selectFrom('attempt_counter')
            .select(['count', 'inflight'])
            .where('key', '=', 'upgraded')
            .executeTakeFirstOrThrow()
        ).inflight,
        0,
      );
    });

    test('0019 ends all but the newest of runs already running side by side for a client, then holds one at a time', async () => {
      await rewindTo(database.db, '0019_one_running_conformance_run');
      const run = (id: string, clientId: string, at: number, status = 'running') => ({
        id,
        env: 'sandpit',
        client_id: clientId,
        organisation_id: null,
        start_url: 'https://svc.example/',
        options: '{}',
        status,
        created_by: 't',
        created_at: at,
        finished_at: null,
        report: null,
      });
      await database.db
        .insertInto('conformance_run')
        .values([run('old', 'c1', 1), run('new', 'c1', 2), run('other', 'c2', 1), run('done', 'c1', 0, 'passed')] as never)
        .execute();
      await database.db
        .insertInto('conformance_result')
        .values({
          run_id: 'old',
          test_id: 't',
          position: 0,
          status: 'pending',
          detail: null,
          evidence: null,
          screenshot: null,
          started_at: null,
          finished_at: null,
        })
        .execute();
      await migrate(database.db);
      const rows = await database.db
        .selectFrom('conformance_run')
        .select(['id', 'status'])
        .where('id', 'in', ['old', 'new', 'other', 'done'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        rows.map((r) => `${r.id}:${r.status}`),
        ['done:passed', 'new:running', 'old:error', 'other:running'],
      );
      assert.equal(
        (await database.db.selectFrom('conformance_result').select('status').where('run_id', '=', 'old').executeTakeFirstOrThrow()).status,
        'could_not_run',
      );
      await assert.rejects(
        database.db
          .insertInto('conformance_run')
          .values(run('again', 'c1', 3) as never)
          .execute(),
        'a second running run for c1 is refused by the database',
      );
      await database.db
        .insertInto('conformance_run')
        .values(run('finished', 'c1', 3, 'failed') as never)
        .execute();
      await database.db.deleteFrom('conformance_result').where('run_id', '=', 'old').execute();
      await database.db.deleteFrom('conformance_run').where('id', 'in', ['old', 'new', 'other', 'done', 'finished']).execute();
    });

    test('0020 keeps the oldest of two current keys signing (retiring the other) and one next key, then holds one of each', async () => {
      await rewindTo(database.db, '0020_one_current_signing_key');
      const key = (kid: string, state: string, at: number) => ({
        env: 'm20',
        kid,
        private_jwk: '{}',
        state,
        created_at: at,
        changed_at: null,
      });
      await database.db
        .insertInto('signing_key')
        .values([key('a', 'current', 1), key('b', 'current', 2), key('n1', 'next', 3), key('n2', 'next', 4)] as never)
        .execute();
      await migrate(database.db);
      const rows = await database.db.selectFrom('signing_key').select(['kid', 'state']).where('env', '=', 'm20').orderBy('kid').execute();
      assert.deepEqual(
        rows.map((r) => `${r.kid}:${r.state}`),
        ['a:current', 'b:retired', 'n1:next'],
      );
      await assert.rejects(
        database.db
          .insertInto('signing_key')
          .values(key('c', 'current', 5) as never)
          .execute(),
        'a second current key is refused',
      );
      await assert.rejects(
        database.db
          .insertInto('signing_key')
          .values(key('n3', 'next', 5) as never)
          .execute(),
        'a second next key is refused',
      );
      await database.db.deleteFrom('signing_key').where('env', '=', 'm20').execute();
    });

    test('0022 makes mail the SMTP server refused due again as the old retry loop counted it; other mail waits for nothing', async () => {
      await rewindTo(database.db, '0022_delivery_claims');
      const mail = (id: string, attempts: number, error: string | null, sent: number | null) => ({
        id,
        to_address: 'a@example.org',
        subject: 's',
        body: 'b',
        created_at: 1000,
        sent_at: sent,
        error,
        attempts,
      });
      await database.db
        .insertInto('outbox')
        .values([
          mail('refused', 2, 'busy', null),
          mail('given-up', 5, 'busy', null),
          mail('sent', 1, null, 2000),
          mail('no-smtp', 0, null, null),
        ] as never)
        .execute();
      await migrate(database.db);
      const rows = await database.db
        .selectFrom('outbox')
        .select(['id', 'next_attempt_at'])
        .where('id', 'in', ['refused', 'given-up', 'sent', 'no-smtp'])
        .orderBy('id')
        .execute();
      assert.deepEqual(
        rows.map((r) => `${r.id}:${r.next_attempt_at}`),
        ['given-up:null', 'no-smtp:null', 'refused:61000', 'sent:null'],
      );
      await database.db.deleteFrom('outbox').execute();
    });

    test('0033 carries a fault armed before it on as a sequence of one step', async () => {
      await rewindTo(database.db, '0033_fault_sequences');
      const client: ClientRecord = {
        env: 'm33', clientId: 'c33', name: 'c', redirectUris: ['https://rp.example/cb'], scopes: ['openid'], vtr: ['P9.Cp.Cd'],
        im1: false, ssoTo: [], status: 'active', createdAt: 1, organisationId: null, fault: null, usersV2: false, provisioning: false,
        provisioningOds: [],
      };
      await insertClient(database.db, client);
      const old = JSON.stringify({ kind: 'id_token_expired', remaining: 2, armedAt: 5000 });
      await database.db.updateTable('client').set({ fault: old }).where('client_id', '=', 'c33').execute();
      await migrate(database.db);
      assert.deepEqual((await getClient(database.db, 'm33', 'c33'))!.fault, {
        armedAt: 5000, steps: [{ kind: 'id_token_expired', count: 2, seconds: null, ms: null, fired: 0, startedAt: 5000 }],
      });
      await database.db.deleteFrom('client').where('env', '=', 'm33').execute();
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
