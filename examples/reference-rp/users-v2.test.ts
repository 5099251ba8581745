/** The reference relying party's Users Endpoint V2 call, against the toolkit's sandpit in-process, on both databases. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { DIALECTS, startTestApp, type TestApp } from '../../src/test-support/harness.ts';
import { registerClient } from '../../src/identity/index.ts';
import { updateClient, type ClientRecord } from '../../src/storage/index.ts';
import { usersRetrieveScope } from '../../src/identity/users-v2/scope.ts';
import { lookUpUsers, type UsersV2Options } from './users-v2.ts';

for (const dialect of DIALECTS) {
  describe(`reference RP: Users Endpoint V2 (${dialect})`, () => {
    let app: TestApp;
    let client: ClientRecord;
    let options: UsersV2Options;
    before(async () => {
      app = await startTestApp(dialect);
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      client = await registerClient(app.database.db, {
        env: 'sandpit', name: 'Reference RP', redirectUris: ['https://rp.example.org/callback'], scopes: ['openid', 'profile'],
        vtr: ['P9.Cp.Cd'], publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      });
      options = {
        issuer: app.config.environments.find((e) => e.name === 'sandpit')!.issuer,
        clientId: client.clientId,
        privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        kid: (client.jwks!.keys[0] as { kid: string }).kid,
        scope: `${usersRetrieveScope('sandpit')} profile`,
        fetch: app.fetch as typeof fetch,
      };
    });
    after(() => app.stop());

    test('before the team approves the client, the token request says unauthorized_client', async () => {
      const r = await lookUpUsers(options, 'nhsnumber eq "9686368973"');
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'unauthorized_client');
    });

    test('approved, it finds the test user by NHS number', async () => {
      await updateClient(app.database.db, 'sandpit', client.clientId, { usersV2: true });
      const r = await lookUpUsers(options, 'nhsnumber eq "9686368973"');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.totalResults, 1);
      const user = (r.body.Resources as { name: { familyName: string } }[])[0]!;
      assert.equal(user.name.familyName, 'MILLAR');
    });
  });
}
