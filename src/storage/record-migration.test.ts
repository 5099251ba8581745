/**
 * Migration 0025 on both databases: protocol record rows written before it (a `reason` text) read as codes after it,
 * and so do the copies of them that journey checklist ticks keep.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import type { Database } from './index.ts';
import { fromLegacyReason, RECORD_CODES } from './migrations/0025-record-codes.ts';

const OLD = [
  {
    id: 'replay',
    kind: 'token',
    outcome: 'error',
    reason: 'invalid_client: client authentication failed',
    details: { detail: 'client assertion tokens must only be used once' },
  },
  {
    id: 'scope',
    kind: 'authorize',
    outcome: 'error',
    reason: 'invalid_scope: profile and basic_demographics cannot be requested together',
    details: {},
  },
  { id: 'password', kind: 'sign_in', outcome: 'error', reason: 'wrong_password', details: null },
  { id: 'fault', kind: 'fault', outcome: 'ok', reason: 'id_token_wrong_aud', details: { route: 'token' } },
  { id: 'bare', kind: 'token', outcome: 'error', reason: '', details: null },
  { id: 'odd', kind: 'userinfo', outcome: 'error', reason: 'something else entirely', details: null },
  { id: 'fine', kind: 'token', outcome: 'ok', reason: null, details: { grant_type: 'authorization_code' } },
];

test('an old reason splits into its code, its cause and its description', () => {
  assert.deepEqual(fromLegacyReason('token', 'invalid_client: client authentication failed', 'client assertion aud was "x"'), {
    error: 'invalid_client',
    cause: 'assertion_audience',
    description: 'client authentication failed',
  });
  assert.deepEqual(fromLegacyReason('otp', 'wrong_otp', undefined), { error: 'wrong_otp', cause: null, description: null });
  assert.deepEqual(fromLegacyReason('fault', 'token_server_error', undefined), {
    error: null,
    cause: null,
    description: null,
    fault: 'token_server_error',
  });
  assert.deepEqual(fromLegacyReason('token', 'made_up: words', undefined), {
    error: 'unclassified',
    cause: null,
    description: 'made_up: words',
  });
});

for (const dialect of DIALECTS) {
  describe(`migration 0025, the record's codes (${dialect})`, () => {
    let database: Database & { close(): Promise<void> };
    before(async () => {
      database = await openTestDatabase(dialect);
      // The table as it was before 0025, with rows as they were then written.
      const db = database.db as unknown as Kysely<any>;
      for (const column of ['error', 'cause', 'description'])
        await db.schema.alterTable('protocol_event').dropColumn(column).execute();
      await db.schema.alterTable('protocol_event').addColumn('reason', 'text').execute();
      const row = (o: (typeof OLD)[number]) => ({
        id: o.id,
        env: 'sandpit',
        client_id: 'c1',
        at: 1,
        kind: o.kind,
        outcome: o.outcome,
        reason: o.reason,
        correlation_id: null,
        person: null,
        details: o.details ? JSON.stringify(o.details) : null,
      });
      await db.insertInto('protocol_event').values(OLD.map(row)).execute();
      await db
        .insertInto('evidence_tick')
        .values({ env: 'sandpit', client_id: 'c1', item_id: 'invalid-scope', ticked_at: 1, evidence: JSON.stringify([row(OLD[1]!)]) })
        .execute();
      await RECORD_CODES.up(db);
    });
    after(() => database.close());

    test('old rows read as codes, causes and descriptions', async () => {
      const rows = await database.db.selectFrom('protocol_event').selectAll().orderBy('id').execute();
      const by = Object.fromEntries(rows.map((r) => [r.id, r]));
      assert.equal('reason' in rows[0]!, false, 'the reason column is gone');
      assert.deepEqual(
        [by.replay!.error, by.replay!.cause, by.replay!.description],
        ['invalid_client', 'assertion_replayed', 'client authentication failed'],
      );
      assert.deepEqual(
        [by.scope!.error, by.scope!.cause, by.scope!.description],
        ['invalid_scope', null, 'profile and basic_demographics cannot be requested together'],
      );
      assert.deepEqual([by.password!.error, by.password!.description], ['wrong_password', null]);
      assert.deepEqual([by.bare!.error, by.odd!.error, by.odd!.description], ['server_error', 'unclassified', 'something else entirely']);
      const fine = [by.fine!.error, by.fine!.details];
      assert.deepEqual(fine, [null, JSON.stringify({ grant_type: 'authorization_code' })], 'a success is untouched');
    });

    test('a fault\'s name moves into its details', async () => {
      const fault = await database.db.selectFrom('protocol_event').selectAll().where('id', '=', 'fault').executeTakeFirstOrThrow();
      assert.equal(fault.error, null);
      assert.deepEqual(JSON.parse(fault.details!), { route: 'token', fault: 'id_token_wrong_aud' });
    });

    test('the copies of old rows a checklist tick keeps are rewritten too', async () => {
      const tick = await database.db.selectFrom('evidence_tick').select('evidence').executeTakeFirstOrThrow();
      const [copy] = JSON.parse(tick.evidence) as Record<string, unknown>[];
      assert.equal(copy!.reason, undefined);
      assert.equal(copy!.error, 'invalid_scope');
    });
  });
}
