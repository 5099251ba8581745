/** The console's words, as a team member reads them: it speaks to the team, of the partner, by name. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import type { Browser } from '../test-support/browser.ts';
import { signInToConsole } from '../test-support/team.ts';
import { readableText } from '../test-support/text.ts';
import { createOrganisation, submitApplication } from '../onboarding/index.ts';

const ANSWERS = {
  eligibility: { england: 'yes', patient_facing: 'yes', benefit: 'yes', commissioned: 'yes', free: 'yes' }, product_name: 'Clinic',
  description: 'Patients book and manage their clinic appointments online, at home.', sponsor: 'NHS Example ICB', vectors: ['P9.Cp.Cd'],
  scopes: [], contact_name: 'Ada', contact_email: 'ada@example.org', safety_officer_email: 'cso@example.org',
};

for (const dialect of DIALECTS) {
  describe(`console wording (${dialect})`, () => {
    let app: TestApp;
    let b: Browser;
    before(async () => {
      app = await startTestApp(dialect);
      b = (await signInToConsole(app, 'words@nhs.example', 'team_admin')).b;
    });
    after(() => app.stop());

    const gateRows = async (orgId: string, gate: string) => {
      const page = await b.get(`/console/partners/${orgId}`);
      const section = new RegExp(`<section[^>]*data-gate="${gate}"[\\s\\S]*?</section>`).exec(page.text)![0];
      return readableText(section);
    };

    test('a gate\'s unmet criteria say what the team is waiting for, of the partner, not what "you" must do', async () => {
      const org = await createOrganisation(app.database.db, 'someone', { name: 'Waiting Health' });
      await submitApplication(app.database.db, org.id, ANSWERS);
      const goLive = await gateRows(org.id, 'go_live');
      assert.match(goLive, /^Integration access was approved\nWaiting for the partner to request the integration environment\.$/m);
      assert.match(goLive, /^Waiting for the partner to upload the Data Security and Protection Toolkit/m);
      const integration = await gateRows(org.id, 'integration');
      assert.match(integration, /^The application is approved by the NHS login team\nThe application is waiting for the team's review \(the application gate\)\.$/m);
      assert.match(integration, /^The organisation has an ODS code\nWaiting for the partner to add the organisation's ODS code\.$/m);
      for (const text of [goLive, integration]) {
        assert.doesNotMatch(text, /\b(you|your)\b/i, 'no sentence speaks to the partner');
        assert.doesNotMatch(text, /first\./);
      }
    });

    test('a requested environment waits for the team\'s own decision', async () => {
      const org = await createOrganisation(app.database.db, 'someone', { name: 'Requested Health', odsCode: 'RQ123' });
      await app.database.db.insertInto('environment_request').values({
        id: `request-${dialect}`, organisation_id: org.id, env: 'integration', status: 'pending', requested_by: 'someone', created_at: Date.now(), decided_at: null, reason: null,
      }).execute();
      assert.match(await gateRows(org.id, 'go_live'), /^Integration access was approved\nThe partner has requested the integration environment: it waits for the team's decision/m);
    });

    test('a live partner is not tagged "Stuck", however long it has been live; one waiting as long for a gate is', async () => {
      const monthAgo = Date.now() - 30 * 24 * 3600 * 1000;
      const request = (org: string, env: 'integration' | 'live', status: 'approved' | 'pending') => app.database.db.insertInto('environment_request').values({
        id: `${env}-${org}`, organisation_id: org, env, status, requested_by: 'someone', created_at: monthAgo, decided_at: status === 'approved' ? monthAgo : null, reason: null,
      }).execute();
      const live = (await createOrganisation(app.database.db, 'someone', { name: 'Long Live Health', odsCode: 'LL123' })).id;
      await request(live, 'integration', 'approved');
      await request(live, 'live', 'approved');
      const waiting = (await createOrganisation(app.database.db, 'someone', { name: 'Long Wait Health', odsCode: 'LW123' })).id;
      await request(waiting, 'integration', 'pending');
      const page = await b.get('/console?view=table');
      const row = (org: string) => readableText(new RegExp(`<tr[^>]*data-organisation="${org}"[\\s\\S]*?</tr>`).exec(page.text)![0]);
      assert.match(row(live), /^Long Live Health\nLL123\nLive\nLive: support\n/);
      assert.doesNotMatch(row(live), /Stuck/);
      assert.match(row(waiting), /^Team Stuck$/m);
      const board = await b.get('/console');
      const card = readableText(new RegExp(`<div class="nhsuk-card[^>]*data-organisation="${live}"[\\s\\S]*?</div></div>`).exec(board.text)![0]);
      assert.doesNotMatch(card, /Stuck/, 'nor on the board');
      assert.doesNotMatch((await b.get('/console?view=table&stuck=yes')).text, /Long Live Health/, 'nor among the stuck');
    });
  });
}
