/**
 * The protocol record's sink on both databases: what anyone can send (a `state` with NUL) is stored, and does not
 * take the entries of other requests written in the same insert with it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import { createEventSink, type Database } from './index.ts';

for (const dialect of DIALECTS) {
  describe(`protocol record (${dialect})`, () => {
    let database: Database;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    test('an entry quoting NUL is stored, and so is every other entry of its insert', async () => {
      const errors: unknown[] = [];
      const sink = createEventSink(database.db, (err) => errors.push(err));
      sink.record({
        env: 'sandpit',
        kind: 'authorize',
        outcome: 'error',
        error: 'invalid_request',
        description: 'a\0b',
        correlationId: 'a\0b',
        details: { state: 'a\0b' },
      });
      sink.record({ env: 'sandpit', kind: 'authorize', outcome: 'ok', correlationId: 'neighbour' });
      await sink.flush();
      const rows = await database.db
        .selectFrom('protocol_event')
        .select(['correlation_id', 'description', 'details'])
        .orderBy('correlation_id')
        .execute();
      assert.deepEqual(errors, []);
      assert.deepEqual(rows.map((r) => r.correlation_id), ['a\uFFFDb', 'neighbour']);
      assert.ok(!rows[0]!.details!.includes('\\u0000'), 'nor NUL in the details');
      assert.equal(rows[0]!.description, 'a\uFFFDb', 'nor in the description');
    });
  });
}
