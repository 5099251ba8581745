/** Team sign-in's second factor on both databases: a code is accepted once, also by two sign-ins at the same moment. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import type { Database } from '../storage/index.ts';
import { addTeamMember, authenticateTeam, completeSetup, setupDetails } from './team.ts';

const PASSWORD = 'team console passphrase';

for (const dialect of DIALECTS) {
  describe(`team sign-in (${dialect})`, () => {
    let database: Database;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    test('one code signs in once when two sign-ins from two addresses send it at the same moment', async () => {
      const { setupSecret } = await addTeamMember(database.db, { email: 'cli' }, 'twice@nhs.net', 'team_admin');
      const { totpSecret } = await setupDetails(database.db, setupSecret);
      await completeSetup(database.db, setupSecret, PASSWORD, await generate({ secret: totpSecret }));
      const code = await generate({ secret: totpSecret, epoch: Math.floor(Date.now() / 1000) + 30 });
      const outcomes = await Promise.allSettled(['203.0.113.1', '198.51.100.2'].map((address) =>
        authenticateTeam(database.db, 'twice@nhs.net', PASSWORD, code, address)));
      assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
    });
  });
}
