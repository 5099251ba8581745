/**
 * The conformance plan's idle test (plan.ts `session-idle`), for sandpit clients with a shortened idle limit: after the
 * limit without activity, opening the service's page again must start a full authentication at NHS login by itself. The
 * reference relying party, given the client's limit, passes; a service that keeps its sessions fails. One minute of waiting,
 * both runs at once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { runPlanOn, type PlanRun } from '../test-support/conformance.ts';
import { setSessionRules } from '../identity/index.ts';
import { createReferenceRp } from '../../examples/reference-rp/rp.ts';
import { createBrokenRp } from './fixtures/broken-rp.ts';
import { planFor, type EngineDeps } from './index.ts';

const PLAN = ['login-p9', 'session-idle'];

describe('conformance: the session idle limit (sqlite)', () => {
  let app: TestApp & { origin: string };
  let deps: EngineDeps;
  /** A service with its own client, whose idle limit is one minute, run on the plan above: each test's status and detail. */
  const runFor = (make: PlanRun['make']) => runPlanOn(app, deps, {
    plan: PLAN, make,
    prepare: (clientId) => setSessionRules(app.database.db, 'sandpit', clientId, { idleMinutes: 1, absoluteMinutes: null }),
  });
  before(async () => {
    app = await startListeningApp('sqlite');
    deps = { config: app.config, db: app.database.db, events: app.events };
  });
  after(() => app.stop());

  test('only clients with a shortened idle limit have the idle test', () => {
    assert.ok(!planFor({ env: 'sandpit', im1: false }).some((t) => t.id === 'session-idle'));
    assert.ok(planFor({ env: 'sandpit', im1: false, sessionIdleS: 60 }).some((t) => t.id === 'session-idle'));
  });

  test('the reference RP with the client\'s limit passes; a service that keeps its sessions fails', async () => {
    const [reference, broken] = await Promise.all([
      runFor((o) => createReferenceRp({ ...o, scope: 'openid profile email', vtr: ['P9.Cp.Cd'], allowHttp: true,
        sessionLimits: { idleMs: 60_000, absoluteMs: 120_000 } })),
      runFor((o) => createBrokenRp({ ...o, defects: [] })),
    ]);
    for (const id of PLAN) assert.equal(reference[id]?.status, 'pass', `${id}: ${reference[id]?.detail}`);
    assert.match(reference['session-idle']!.detail, /sent the person to NHS login to sign in again/);
    assert.equal(broken['login-p9']?.status, 'pass');
    assert.equal(broken['session-idle']?.status, 'fail');
    assert.match(broken['session-idle']!.detail, /still showed its signed-in page/);
  });
});
