/**
 * Signing-key rotation without breaking relying parties: publish the next key (JWKS shows both, tokens still
 * signed with the current one), then switch (tokens signed with the new key, the old one still published).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { bootTestApp, DIALECTS, openTestDatabase, type TestApp } from '../test-support/harness.ts';
import { createRp, login } from '../test-support/rp.ts';
import { publishNextKey, switchToNextKey } from './keys.ts';

const boot = (file: string) => bootTestApp({ DATABASE_URL: `sqlite:${file}` });

test('publish next, then switch: relying parties can always verify', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-keys-')), 'db.sqlite');
  let app = await boot(file);
  const kidOf = async (a: TestApp) => decodeProtectedHeader((await login(a, await createRp(a, 'sandpit'), {})).tokens.id_token!).kid;
  const jwksKids = async (a: TestApp) =>
    ((await (await a.fetch('http://localhost:3000/sandpit/.well-known/jwks.json')).json()) as { keys: { kid: string }[] }).keys.map(
      (k) => k.kid,
    );
  const first = await kidOf(app);
  assert.deepEqual(await jwksKids(app), [first]);

  const next = await publishNextKey(app.database.db, 'sandpit');
  const sandpit = app.identity.environments.find((e) => e.config.name === 'sandpit')!;
  assert.equal(await sandpit.refreshKeys(), true, 'a running instance reloads the keys');
  assert.equal(await sandpit.refreshKeys(), false, 'and only when they changed');
  assert.deepEqual(await jwksKids(app), [first, next], 'next key published without a restart');
  await app.stop();
  app = await boot(file);
  assert.deepEqual(await jwksKids(app), [first, next], 'next key published');
  assert.equal(await kidOf(app), first, 'still signing with the current key');

  await switchToNextKey(app.database.db, 'sandpit');
  await app.stop();
  app = await boot(file);
  assert.equal(await kidOf(app), next, 'signing with the new key');
  assert.deepEqual(await jwksKids(app), [next, first], 'old key still published for tokens already issued');
  await assert.rejects(switchToNextKey(app.database.db, 'sandpit'), /no published next key/);
  await app.stop();
});

for (const dialect of DIALECTS) {
  test(`publishes and switches at the same moment (${dialect}) leave one ` +
    `current key, one next at most, and the old one retired`, async () => {
    const database = await openTestDatabase(dialect);
    try {
      const db = database.db;
      const states = async () => (await db.selectFrom('signing_key').select(['kid', 'state']).where('env', '=', 'race').execute());
      const published = await Promise.all([publishNextKey(db, 'race'), publishNextKey(db, 'race'), publishNextKey(db, 'race')]);
      assert.equal(new Set(published).size, 1, 'every publish answers with the one key published');
      assert.deepEqual((await states()).map((r) => r.state).sort(), ['current', 'next']);
      const [first] = (await states()).filter((r) => r.state === 'current');
      // A switch that reads the keys after the other one committed finds no next key and says so; one that read them
      // before answers with the key the other promoted.
      const switched = await Promise.allSettled([switchToNextKey(db, 'race'), switchToNextKey(db, 'race')]);
      for (const s of switched) {
        if (s.status === 'fulfilled') assert.equal(s.value, published[0]);
        else assert.match(String(s.reason), /no published next key/);
      }
      assert.ok(switched.some((s) => s.status === 'fulfilled'));
      const after = await states();
      assert.deepEqual(after.filter((r) => r.state === 'current').map((r) => r.kid), [published[0]]);
      assert.deepEqual(after.filter((r) => r.state === 'retired').map((r) => r.kid), [first!.kid]);
    } finally {
      await database.close();
    }
  });
}
