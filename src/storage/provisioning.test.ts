/**
 * Provision Account's pending rule in the database (P§3.3.3 T11 11003): of two requests stored at once under one key,
 * as two instances would, exactly one is accepted; ending it frees the key. On both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import { endProvision, insertProvisionRequest, provisionPending, provisionPendingKey, type Database,
  type ProvisionRequestRow } from './index.ts';

const row = (nhs: string): ProvisionRequestRow => {
  const now = Date.now();
  return {
    id: randomUUID(), env: 'sandpit', client_id: 'c1', organisation_id: null, ods_code: 'A00002', nhs_number: nhs,
    email: 'p@example.org', birthdate: '1935-02-26', phone_number: '+447700900123', kind: 'create', person_id: null,
    token_hash: randomUUID(), status: 'pending', otp_failures: 0, created_at: now, expires_at: now + 60_000, claimed_at: null,
  };
};

for (const dialect of DIALECTS) {
  describe(`provision requests (${dialect})`, () => {
    let database: Database & { close(): Promise<void> };
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    test('two requests stored at once under one key: one is accepted, one refused, and one row is kept', async () => {
      const key = provisionPendingKey('sandpit', 'c1', '9686367403');
      const stored = await Promise.all([insertProvisionRequest(database.db, key, row('9686367403')),
        insertProvisionRequest(database.db, key, row('9686367403'))]);
      assert.deepEqual(stored.sort(), [false, true]);
      const rows = await database.db.selectFrom('provision_request').select('id').where('nhs_number', '=', '9686367403').execute();
      assert.equal(rows.length, 1);
    });

    test('a request ended (claimed or failed) frees its NHS number for a new one', async () => {
      const r = row('9686367411');
      const key = provisionPendingKey('sandpit', 'c1', r.nhs_number);
      assert.equal(await insertProvisionRequest(database.db, key, r), true);
      assert.equal(await provisionPending(database.db, key), true);
      assert.equal(await endProvision(database.db, r, 'failed'), true);
      assert.equal(await provisionPending(database.db, key), false);
      assert.equal(await endProvision(database.db, r, 'claimed'), false, 'ended once only');
    });
  });
}
