/**
 * Runs belong to the process executing them (lease.ts): a run whose process is killed is ended by another
 * instance within the lease, freeing its client; a healthy run longer than its lease is never ended by another
 * instance's sweep; a holder that lost its run records nothing more. Both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DIALECTS, startListeningApp, type TestApp } from '../test-support/harness.ts';
import { registerClient } from '../identity/index.ts';
import { createRun, createRunScheduler, endLapsedRuns, executeRun, getRun, RunLost, verifyReport, type EngineDeps } from './index.ts';
import { LEASE, SWEEP_EVERY_MS } from './lease.ts';

const publicKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
const TOOLKIT_BIN = path.join(import.meta.dirname, '..', '..', 'bin', 'toolkit.js');
/** A lease short enough for a run to outlive it several times, with renewals enough to ride out a loaded machine's stalls. */
const SHORT = { ms: 2500, renewEveryMs: 250 };

/** A service whose start page answers after `delayMs` (never, if undefined) with a page that has no NHS login button. */
async function slowService(delayMs: number | undefined) {
  const server = http.createServer((_req, res) => {
    if (delayMs !== undefined) setTimeout(() => res.end('<!doctype html><title>Slow</title><p>No button here</p>'), delayMs).unref();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return { url: `http://localhost:${(server.address() as AddressInfo).port}/`, close };
}

const until = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
};

for (const dialect of DIALECTS) {
  describe(`conformance run leases (${dialect})`, () => {
    let app: TestApp & { origin: string };
    let deps: EngineDeps;
    const newClient = async () => (await registerClient(app.database.db, {
      env: 'sandpit', name: 'Svc', redirectUris: ['http://localhost:9/cb'], scopes: ['openid'], vtr: ['P9.Cp.Cd'], publicKeyPem,
    })).clientId;
    /** One test, against `startUrl`, for a new client unless one is given. */
    const input = async (startUrl: string, clientId?: string) =>
      ({ env: 'sandpit', clientId: clientId ?? await newClient(), startUrl, createdBy: 't', only: ['login-p9'] });
    /** The run once its executor has claimed it and its test is under way. */
    const claimed = (runId: string) => until('the run to be claimed and under way', async () => {
      const r = await getRun(app.database.db, runId);
      return r?.run.lease_holder && r.results[0]?.status === 'running' ? r.run : undefined;
    }, 30_000);
    before(async () => {
      // The first run in a process loads playwright-core, which holds the event loop for seconds on a loaded
      // machine: longer than the short leases below. Loaded here, it is not counted against them.
      await import('playwright-core');
      app = await startListeningApp(dialect);
      deps = { config: app.config, db: app.database.db, events: app.events };
    });
    after(() => app.stop());

    test('a run whose process is killed is ended by this instance within the lease; its client is free', { timeout: 90_000 }, async () => {
      const service = await slowService(undefined);
      const clientId = await newClient();
      const database = app.config.database.kind === 'sqlite' ? `sqlite:${app.config.database.file}` : app.config.database.url;
      // The CLI: its own process on the same database, holding the run's lease; killed mid-run.
      const args = ['conformance', 'run', '--client', clientId, '--start-url', service.url, '--only', 'login-p9'];
      const cli = spawn(process.execPath, [TOOLKIT_BIN, ...args], {
        env: { ...process.env, DATABASE_URL: database, PUBLIC_URL: app.origin, LOG_LEVEL: 'silent' }, stdio: 'ignore',
      });
      try {
        const recorded = async () =>
          (await app.database.db.selectFrom('conformance_run').select('id').where('client_id', '=', clientId).executeTakeFirst())?.id;
        const runId = await until('the CLI to record its run', recorded, 30_000);
        const held = await claimed(runId);
        assert.ok(held.lease_holder!.includes(`:${cli.pid}:`), 'the CLI process holds it');
        cli.kill('SIGKILL');
        const killedAt = Date.now();
        const ended = await until('another instance to end the run', async () => {
          const r = await getRun(app.database.db, runId);
          return r && r.run.status !== 'running' ? r : undefined;
        }, LEASE.ms + SWEEP_EVERY_MS + 15_000, 250);
        const took = Date.now() - killedAt;
        assert.ok(took <= LEASE.ms + SWEEP_EVERY_MS + 2000, `ended ${took} ms after the kill`);
        assert.equal(ended.run.status, 'error');
        assert.match(ended.results[0]!.detail!, /no longer renewed its lease/);
        assert.equal((await verifyReport(app.database.db, ended.run.report!)).run.status, 'error', 'with a signed report');
        assert.ok(await createRun(deps, await input(service.url, clientId)), 'the client is free');
      } finally {
        cli.kill('SIGKILL');
        service.close();
      }
    });

    test('a healthy run longer than its lease is never ended by another instance sweeping', { timeout: 60_000 }, async () => {
      const service = await slowService(6000);
      const other = createRunScheduler({ ...deps, lease: SHORT }, { error: () => undefined }, { sweepEveryMs: 100 });
      try {
        const a = { ...deps, lease: SHORT };
        const id = await createRun(a, await input(service.url));
        const started = Date.now();
        assert.equal(await executeRun(a, id), 'failed');
        assert.ok(Date.now() - started > 2 * SHORT.ms, 'the run outlived its lease twice over');
        const { results } = (await getRun(app.database.db, id))!;
        assert.match(results[0]!.detail!, /no NHS login button/, 'its own result, not another instance\'s');
      } finally {
        await other.close();
        service.close();
      }
    });

    test('a holder whose run another instance ended records nothing more, not even a test it ends later', { timeout: 60_000 }, async () => {
      // The page answers after the sweep; the holder's next heartbeat would be long after: it finds out only when it writes.
      const service = await slowService(2500);
      const a = { ...deps, lease: { ms: 60_000, renewEveryMs: 30_000 } };
      try {
        const id = await createRun(a, await input(service.url));
        const running = executeRun(a, id);
        running.catch(() => undefined);
        await claimed(id);
        // As if the holder had stalled past its lease (a paused process): another instance sweeps the run.
        await app.database.db.updateTable('conformance_run').set({ lease_until: 0 }).where('id', '=', id).execute();
        assert.ok((await endLapsedRuns(deps)).includes(id));
        await assert.rejects(running, RunLost);
        const { run, results } = (await getRun(app.database.db, id))!;
        assert.equal(run.status, 'error');
        assert.match(results[0]!.detail!, /The run stopped: the toolkit process running it stopped/, 'the sweeper\'s result stands');
        assert.equal((await verifyReport(app.database.db, run.report!)).tests[0]!.detail, results[0]!.detail, 'as its signed report says');
      } finally {
        service.close();
      }
    });
  });
}
