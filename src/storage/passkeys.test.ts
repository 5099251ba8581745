/** Passkey storage on both databases: registration, listing, the counter's conditional update, removal. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import { addPasskey, findPasskey, listPasskeys, removePasskey, usePasskey, type Database } from './index.ts';

const key = (credentialId: string, personId = 'person-1', env = 'sandpit') => ({
  credentialId, env, personId, publicKey: 'pQECAyYgASFYIA', counter: 0, transports: ['internal', 'hybrid'], createdAt: 1_000,
});

for (const dialect of DIALECTS) {
  describe(`passkey storage (${dialect})`, () => {
    let database: Database;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    test('a registered passkey is found by its credential ID in its environment only, transports kept', async () => {
      assert.equal(await addPasskey(database.db, key('cred-a')), true);
      const found = await findPasskey(database.db, 'sandpit', 'cred-a');
      assert.deepEqual(found, { ...key('cred-a'), lastUsedAt: null });
      assert.equal(await findPasskey(database.db, 'integration', 'cred-a'), undefined);
    });

    test('a credential ID already stored is refused, even for another person', async () => {
      await addPasskey(database.db, key('cred-b'));
      assert.equal(await addPasskey(database.db, key('cred-b', 'person-2')), false);
      assert.equal((await findPasskey(database.db, 'sandpit', 'cred-b'))?.personId, 'person-1');
    });

    test("a person's passkeys are listed oldest first, nobody else's", async () => {
      await addPasskey(database.db, { ...key('cred-c2', 'person-3'), createdAt: 3_000 });
      await addPasskey(database.db, { ...key('cred-c1', 'person-3'), createdAt: 2_000 });
      await addPasskey(database.db, key('cred-c3', 'person-4'));
      assert.deepEqual((await listPasskeys(database.db, 'sandpit', 'person-3')).map((p) => p.credentialId), ['cred-c1', 'cred-c2']);
    });

    test('the counter moves only from the value the assertion was checked against', async () => {
      await addPasskey(database.db, { ...key('cred-d'), counter: 5 });
      assert.equal(await usePasskey(database.db, 'sandpit', 'cred-d', 5, 6, 9_000), true);
      assert.equal(await usePasskey(database.db, 'sandpit', 'cred-d', 5, 6, 9_001), false, 'a second use of the same count');
      const p = await findPasskey(database.db, 'sandpit', 'cred-d');
      assert.equal(p?.counter, 6);
      assert.equal(p?.lastUsedAt, 9_000);
    });

    test('a passkey is removed only by its own person', async () => {
      await addPasskey(database.db, key('cred-e'));
      assert.equal(await removePasskey(database.db, 'sandpit', 'person-2', 'cred-e'), false);
      assert.equal(await removePasskey(database.db, 'sandpit', 'person-1', 'cred-e'), true);
      assert.equal(await findPasskey(database.db, 'sandpit', 'cred-e'), undefined);
      assert.equal(await usePasskey(database.db, 'sandpit', 'cred-e', 0, 1, 1), false, 'a removed passkey signs nobody in');
    });
  });
}
