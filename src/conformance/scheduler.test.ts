/** Limits on conformance runs hold when requests arrive at once: one run per client, a few per server. Both databases. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { registerClient } from '../identity/index.ts';
import { createRun, createRunScheduler, RunRefused, type EngineDeps } from './index.ts';

const publicKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const client = (app: TestApp) =>
  registerClient(app.database.db, {
    env: 'sandpit',
    name: 'Svc',
    redirectUris: ['https://svc.example/cb'],
    scopes: ['openid'],
    vtr: ['P9.Cp.Cd'],
    publicKeyPem,
  });
// Nothing answers here: a run started for it ends quickly with its test unable to run.
const input = (clientId: string) => ({
  env: 'sandpit' as const,
  clientId,
  startUrl: 'https://svc.invalid/',
  createdBy: 't',
  only: ['login-p9'],
});

const outcomes = async (attempts: Promise<string>[]) => {
  const settled = await Promise.allSettled(attempts);
  for (const s of settled) if (s.status === 'rejected' && !(s.reason instanceof RunRefused)) throw s.reason;
  return {
    started: settled.filter((s) => s.status === 'fulfilled').length,
    refused: settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason.message)),
  };
};

for (const dialect of DIALECTS) {
  describe(`conformance run limits under concurrent requests (${dialect})`, () => {
    let app: TestApp;
    let deps: EngineDeps;
    before(async () => {
      app = await startTestApp(dialect);
      deps = { config: app.config, db: app.database.db, events: app.events };
    });
    after(() => app.stop());

    test('five requests at once for one client start one run; the others are told one is in progress', async () => {
      const { clientId } = await client(app);
      const r = await outcomes(Array.from({ length: 5 }, () => createRun(deps, input(clientId))));
      assert.equal(r.started, 1);
      assert.equal(r.refused.length, 4);
      for (const m of r.refused) assert.match(m, /in progress/);
      const rows = await app.database.db.selectFrom('conformance_run').select('id').where('client_id', '=', clientId).execute();
      assert.equal(rows.length, 1, 'one run recorded');
    });

    test('six requests at once for six clients start no more runs than the server allows', async () => {
      const clients = await Promise.all(Array.from({ length: 6 }, () => client(app)));
      const scheduler = createRunScheduler(deps, { error: () => undefined }, { maxActive: 2 });
      try {
        const r = await outcomes(clients.map((c) => scheduler.start(input(c.clientId))));
        assert.equal(r.started, 2);
        for (const m of r.refused) assert.match(m, /already running 2 conformance runs/);
      } finally {
        await scheduler.close();
      }
    });
  });
}
