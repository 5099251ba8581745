/** A partner's own test users: one environment each, at most MAX_TEST_USERS per organisation, on both databases. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import { insertPerson, type Database } from '../storage/index.ts';
import { loadPeopleData } from '../identity/people/index.ts';
import { createOrganisation } from './organisations.ts';
import { createTestUser, listTestUsers, MAX_TEST_USERS, ownTestUser } from './test-users.ts';

const people = loadPeopleData();
const input = { nhsNumber: '9686368973', level: 'P9', otpDisabled: false, phonePdsMatched: true };

for (const dialect of DIALECTS) {
  describe(`own test users (${dialect})`, () => {
    let database: Database & { close(): Promise<void> };
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    test('the same NHS number makes one user in each environment, each found by its id alone', async () => {
      const org = (await createOrganisation(database.db, 'owner', { name: 'Both Ltd' })).id;
      const sandpit = await createTestUser(database.db, people, org, { ...input, env: 'sandpit' });
      const integration = await createTestUser(database.db, people, org, input);
      assert.deepEqual([(await ownTestUser(database.db, org, sandpit.id)).env, (await ownTestUser(database.db, org, integration.id)).env],
        ['sandpit', 'integration']);
      await assert.rejects(ownTestUser(database.db, 'another-org', sandpit.id), { code: 'not_found' });
    });

    test(`an organisation with ${MAX_TEST_USERS} test users is refused another, in either environment`, async () => {
      const org = (await createOrganisation(database.db, 'owner', { name: 'Full Ltd' })).id;
      const first = await createTestUser(database.db, people, org, input);
      for (let i = 1; i < MAX_TEST_USERS; i++)
        await insertPerson(database.db, { ...first, env: i % 2 ? 'sandpit' : 'integration', id: `full-${i}`, email: `${i}@full.example` });
      assert.equal((await listTestUsers(database.db, org)).length, MAX_TEST_USERS);
      await assert.rejects(createTestUser(database.db, people, org, { ...input, env: 'sandpit' }), { code: 'invalid_choice' });
    });
  });
}
