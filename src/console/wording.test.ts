/** The console's words, as a team member reads them: it speaks to the team, of the partner, by name. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import type { Browser } from '../test-support/browser.ts';
import { signInToConsole } from '../test-support/team.ts';
import { readableText } from '../test-support/text.ts';
import {
  assignDeliveryManager,
  createOrganisation,
  decideGate,
  recordCriterion,
  setClientStatus,
  submitApplication,
} from '../onboarding/index.ts';
import { createRp } from '../test-support/rp.ts';

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
      auditDb = app.database.db;
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
      assert.match(
        integration,
        /^The application is approved by the NHS login team\nThe application is waiting for the team's review \(the application gate\)\.$/m,
      );
      assert.match(integration, /^The organisation has an ODS code\nWaiting for the partner to add the organisation's ODS code\.$/m);
      for (const text of [goLive, integration]) {
        assert.doesNotMatch(text, /\b(you|your)\b/i, 'no sentence speaks to the partner');
        assert.doesNotMatch(text, /first\./);
      }
    });

    test('a requested environment waits for the team\'s own decision', async () => {
      const org = await createOrganisation(app.database.db, 'someone', { name: 'Requested Health', odsCode: 'RQ123' });
      await app.database.db
        .insertInto('environment_request')
        .values({
          id: `request-${dialect}`,
          organisation_id: org.id,
          env: 'integration',
          status: 'pending',
          requested_by: 'someone',
          created_at: Date.now(),
          decided_at: null,
          reason: null,
        })
        .execute();
      assert.match(
        await gateRows(org.id, 'go_live'),
        /^Integration access was approved\nThe partner has requested the integration environment: it waits for the team's decision/m,
      );
    });

    test('a live partner is not tagged "Stuck", however long it has been live; one waiting as long for a gate is', async () => {
      const monthAgo = Date.now() - 30 * 24 * 3600 * 1000;
      const request = (org: string, env: 'integration' | 'live', status: 'approved' | 'pending') =>
        app.database.db
          .insertInto('environment_request')
          .values({
            id: `${env}-${org}`,
            organisation_id: org,
            env,
            status,
            requested_by: 'someone',
            created_at: monthAgo,
            decided_at: status === 'approved' ? monthAgo : null,
            reason: null,
          })
          .execute();
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
      const card = readableText(
        new RegExp(`<div class="nhsuk-card[^>]*data-organisation="${live}"[\\s\\S]*?</div></div>`).exec(board.text)![0],
      );
      assert.doesNotMatch(card, /Stuck/, 'nor on the board');
      assert.doesNotMatch((await b.get('/console?view=table&stuck=yes')).text, /Long Live Health/, 'nor among the stuck');
    });

    const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
    // A row's cells as read on a wide screen (the headings repeated in each cell show on narrow ones only).
    const auditRow = (html: string, seq: number) => readableText(new RegExp(`<tr[^>]*data-seq="${seq}"[\\s\\S]*?</tr>`).exec(html)![0]
      .replace(/<span class="nhsuk-table__heading"[^>]*>[^<]*<\/span>/g, ''));

    test('the audit trail names the organisation, the client and the delivery manager, and says what was done in words', async () => {
      const db = app.database.db;
      const org = (await createOrganisation(db, 'someone', { name: 'Named Health', odsCode: 'NH123' })).id;
      const manager = (await db.selectFrom('team_user').select('id').where('email', '=', 'words@nhs.example').executeTakeFirstOrThrow()).id;
      const assigned = await audited(() => assignDeliveryManager(db, { email: 'words@nhs.example' }, org, manager));
      const rp = await createRp(app, 'sandpit', { organisationId: org, name: 'Named booking service' });
      const suspended = await audited(() =>
        setClientStatus(
          { db, mailer: app.mailer, publicUrl: 'http://localhost:3000' },
          'words@nhs.example',
          'sandpit',
          rp.client.clientId,
          'suspended',
          'Unexpected traffic',
        ),
      );
      const page = await b.get('/console/audit');
      assert.equal(
        auditRow(page.text, assigned),
        `${assigned}\n${auditDate(page.text, assigned)}\nwords@nhs.example\nAssigned a delivery ` +
          `manager\nDelivery manager: words@nhs.example\npartner.delivery_manager\nNamed Health`,
      );
      assert.equal(
        auditRow(page.text, suspended).split('\n').slice(3).join('\n'),
        'Suspended a client\nReason: Unexpected traffic\nIt was working\nclient.suspend\nNamed booking service (sandpit client)',
      );
      for (const seq of [assigned, suspended]) {
        assert.doesNotMatch(auditRow(page.text, seq), UUID, 'no id where a name belongs');
        assert.doesNotMatch(auditRow(page.text, seq), /[{}"]/, 'no JSON');
      }
      assert.match(page.text, new RegExp(`<a href="/console/partners/${org}">Named Health</a>`), 'the name links to the partner');
    });

    test('a partner\'s history reads as sentences: the decision, its reason, each criterion recorded by name', async () => {
      const db = app.database.db;
      const org = (await createOrganisation(db, 'someone', { name: 'Decided Health', odsCode: 'DH123' })).id;
      await submitApplication(db, org, ANSWERS);
      await recordCriterion(db, { email: 'words@nhs.example' }, org, 'application', 'pib_review', true, 'PIB 3 June');
      await decideGate(
        { db, mailer: app.mailer, publicUrl: 'http://localhost:3000' },
        { email: 'words@nhs.example' },
        org,
        'application',
        'approve',
        'Eligible and sponsored',
      );
      const history = readableText(
        /<table[^>]*id="history"[\s\S]*?<\/table>/.exec((await b.get(`/console/partners/${org}`)).text)![0],
      ).split('\n');
      assert.deepEqual(history.slice(1, 5), [
        'words@nhs.example',
        'Approved the application',
        'Reason: Eligible and sponsored',
        'gate.application.approve',
      ]);
      assert.deepEqual(history.slice(6, 11), [
        'words@nhs.example',
        'Recorded a gate check',
        'Application review call held and the Partner Integration Board agrees: met, at the application gate',
        'Note: PIB 3 June',
        'gate.criterion',
      ]);
    });
  });
}

const latestSeq = async (db: TestApp['database']['db']) =>
  Number((await db.selectFrom('audit').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow()).seq);
let auditDb: TestApp['database']['db'];
/** Runs an audited change and returns the sequence number of its entry. */
async function audited(run: () => Promise<unknown>): Promise<number> {
  await run();
  return latestSeq(auditDb);
}
const auditDate = (html: string, seq: number) =>
  /(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)<\/td>/.exec(new RegExp(`<tr[^>]*data-seq="${seq}"[\\s\\S]*?</tr>`).exec(html)![0])![1];
