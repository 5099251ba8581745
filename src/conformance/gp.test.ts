/**
 * The conformance plan's GP credentials tests (plan.ts `im1-gp-*`): an IM1 service that opens a session at the GP system
 * stand-in with the gp_integration_credentials of each test's own (identity/gp-system/run-credentials.ts). A service that
 * restarts the login once and then tells the person, and that sends a Restricted account back to NHS login with
 * prompt=login, passes; each defect fails exactly its test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { runPlanOn } from '../test-support/conformance.ts';
import { createBrokenRp, DEFECTS, type Defect } from './fixtures/broken-rp.ts';
import { planFor, type EngineDeps } from './index.ts';

const PLAN = ['login-p9', 'im1-linked', 'im1-gp-refused', 'im1-gp-restricted'];
const GP_DEFECTS = (Object.keys(DEFECTS) as Defect[]).filter((d) => DEFECTS[d].every((id) => id.startsWith('im1-gp-')));

describe('conformance: GP credentials that stop working (sqlite)', () => {
  let app: TestApp & { origin: string };
  let deps: EngineDeps;
  /** An IM1 service with its own client, with `defects`, run on the GP plan: each test's status and detail. */
  const runFor = (defects: Defect[]) => runPlanOn(app, deps, {
    plan: PLAN,
    client: { name: 'IM1 service under test', im1: true, scopes: ['openid', 'profile', 'gp_integration_credentials'] },
    make: (o) => createBrokenRp({ ...o, defects, gpSystem: `${app.origin}/sandpit/gp-system/session` }),
  });
  before(async () => {
    app = await startListeningApp('sqlite');
    deps = { config: app.config, db: app.database.db, events: app.events };
  });
  after(() => app.stop());

  test('only IM1 clients have the GP tests', () => {
    assert.ok(!planFor({ env: 'sandpit', im1: false }).some((t) => t.id.startsWith('im1-gp-')));
    assert.equal(planFor({ env: 'sandpit', im1: true }).filter((t) => t.id.startsWith('im1-gp-')).length, 2);
  });

  test('a service that restarts once, then tells the person, and sends Restricted back with prompt=login passes', async () => {
    const r = await runFor([]);
    for (const id of PLAN) assert.equal(r[id]?.status, 'pass', `${id}: ${r[id]?.detail}`);
    assert.match(r['im1-gp-refused']!.detail, /^2 logins, 2 refused GP sessions/);
  });

  for (const defect of GP_DEFECTS) {
    test(`${defect} alone fails exactly ${DEFECTS[defect].join(', ')}`, async () => {
      const r = await runFor([defect]);
      const failed = Object.entries(r).filter(([, v]) => v.status !== 'pass').map(([id, v]) => `${id}: ${v.status}`);
      assert.deepEqual(failed, DEFECTS[defect].map((id) => `${id}: fail`), JSON.stringify(r, null, 1));
      const detail = r[DEFECTS[defect][0]]!.detail;
      if (defect === 'loops_on_gp_credentials') assert.match(detail, /loops on "retrieve GP credentials"/);
      if (defect === 'ignores_restricted') assert.match(detail, /did not send the person back to NHS login/);
      if (defect === 'restricted_without_prompt_login') assert.match(detail, /without prompt=login/);
    });
  }
});
