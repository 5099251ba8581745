/**
 * The partner's dashboard shows the team's decisions (issue 13 #7): its stage, each gate's state with the latest
 * decision, its reason and date, and what is needed next with a link to where it is done; the application page says
 * what was decided instead of "the team will review it". Decisions are made as the console makes them (decideGate).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { partnerIn } from '../test-support/partner.ts';
import type { Browser } from '../test-support/browser.ts';
import { createOrganisation, decideGate, notifyDeps, recordCriterion, submitApplication } from '../onboarding/index.ts';

const ANSWERS = {
  eligibility: { england: 'yes', patient_facing: 'yes', benefit: 'yes', commissioned: 'yes', free: 'yes' },
  product_name: 'Clinic',
  description: 'Patients book and manage their clinic appointments online, at home.',
  sponsor: 'NHS Example ICB',
  vectors: ['P9.Cp.Cd'],
  scopes: ['profile'],
  scope_reasons: { profile: 'To match the record' },
  contact_name: 'Ada',
  contact_email: 'ada@example.org',
  safety_officer_email: 'cso@example.org',
};
const dm = { email: 'dm@nhs.example' };
/** The text of the element with this id, tags dropped and spaces collapsed. */
function textOf(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  assert.ok(start > 0, `#${id} is on the page`);
  const tag = html.lastIndexOf('<', start);
  const name = /^<(\w+)/.exec(html.slice(tag))![1]!;
  let depth = 0;
  const re = new RegExp(`<(/?)${name}\\b[^>]*>`, 'g');
  re.lastIndex = tag;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0)
      return html
        .slice(tag, m.index)
        .replace(/<[^>]+>/g, ' ')
        .replace(/&#39;/g, "'")
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&')
        .replace(/\s+/g, ' ')
        .trim();
  }
  throw new Error(`#${id} is not closed`);
}

for (const dialect of DIALECTS) {
  describe(`the partner's status panel (${dialect})`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp(dialect);
      await app.database.db
        .insertInto('team_user')
        .values({
          id: 'dm',
          email: dm.email,
          role: 'delivery_manager',
          password_hash: 'x',
          totp_secret: null,
          totp_last_step: null,
          created_at: 0,
        })
        .execute();
    });
    after(() => app.stop());
    const partner = async (name: string): Promise<{ b: Browser; orgId: string }> => {
      const org = await createOrganisation(app.database.db, `founder-${name}`, { name, odsCode: 'A1B2C' });
      return { b: await partnerIn(app, org.id, `${name.toLowerCase()}@example.org`, 'partner_admin'), orgId: org.id };
    };
    const decide = (orgId: string, gate: string, decision: string, reason: string) =>
      decideGate(notifyDeps({ db: app.database.db, mailer: app.mailer, config: app.config }), dm, orgId, gate, decision, reason);

    test('before applying: stage Apply, nothing decided, and the application is what is needed, linked', async () => {
      const { b, orgId } = await partner('Starter');
      const home = (await b.get('/portal')).text;
      assert.match(textOf(home, `stage-${orgId}`), /Stage: Apply Not started/);
      assert.match(textOf(home, `gates-${orgId}`), /Application \(Partner Integration Board\) Not started/);
      assert.match(textOf(home, `missing-${orgId}`), /The application is submitted Complete and submit your application. Incomplete/);
      assert.match(
        home,
        new RegExp(`href="/portal/organisations/${orgId}/application"[^>]*>\\s*The application is submitted`),
        'linked to the application',
      );
    });

    test('approved: the dashboard shows the decision, its reason and date, the new stage and what comes next', async () => {
      const { b, orgId } = await partner('Approved');
      await submitApplication(app.database.db, orgId, ANSWERS);
      let home = (await b.get('/portal')).text;
      assert.match(textOf(home, `gates-${orgId}`), /Application \(Partner Integration Board\) Waiting for a decision submitted \d{4}-/);
      assert.match(textOf(home, `next-${orgId}`), /The NHS login team is deciding on your application. Nothing is needed from you now/);
      await recordCriterion(app.database.db, dm, orgId, 'application', 'pib_review', true, '');
      await decide(orgId, 'application', 'approve', 'Eligible, and sponsored by the ICB');
      home = (await b.get('/portal')).text;
      assert.match(textOf(home, `stage-${orgId}`), /Stage: Discovery Exploring the sandpit/);
      assert.match(
        textOf(home, `gates-${orgId}`),
        new RegExp(
          String.raw`Application \(Partner Integration Board\) Approved submitted .* Approved on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\. ` +
            'The NHS login team said: “Eligible, and sponsored by the ICB”',
        ),
      );
      assert.match(textOf(home, `gates-${orgId}`), /Integration environment access Not started/);
      const next = textOf(home, `next-${orgId}`);
      assert.match(next, /Before you can request the integration environment/);
      assert.match(
        home,
        new RegExp(
          `href="/portal/organisations/${orgId}/documents"[^>]*>\\s*Data Security and Protection Toolkit \\(DSPT\\) evidence uploaded`,
        ),
      );
      assert.match(
        home,
        new RegExp(`href="/portal/organisations/${orgId}/clients/new"[^>]*>\\s*A sandpit client has completed every journey`),
      );
      assert.doesNotMatch(next, /application/i, 'the application is no longer asked for');
      const application = (await b.get(`/portal/organisations/${orgId}/application`)).text;
      assert.doesNotMatch(application, /will review it/);
      assert.match(
        textOf(application, 'approved'),
        /approved your application on .*\. The team said: “Eligible, and sponsored by the ICB”/,
      );
    });

    test('rejected with a reason: the dashboard and the application page say so, and why', async () => {
      const { b, orgId } = await partner('Refused');
      await submitApplication(app.database.db, orgId, ANSWERS);
      await decide(orgId, 'application', 'reject', 'The service is not commissioned by an NHS body');
      const home = (await b.get('/portal')).text;
      assert.match(
        textOf(home, `gates-${orgId}`),
        /Not approved .*Not approved on .*The NHS login team said: “The service is not commissioned by an NHS body”/,
      );
      assert.match(textOf(home, `next-${orgId}`), /Your application was not approved. You can ask the NHS login team about it in messages/);
      const application = (await b.get(`/portal/organisations/${orgId}/application`)).text;
      assert.doesNotMatch(application, /will review it/);
      assert.match(
        textOf(application, 'rejected'),
        /did not approve your application on .*\. The team said: “The service is not commissioned by an NHS body”/,
      );
    });

    test('changes requested: the application form shows what the team asked for', async () => {
      const { b, orgId } = await partner('Changes');
      await submitApplication(app.database.db, orgId, ANSWERS);
      await decide(orgId, 'application', 'request_changes', 'Say which clinics use the service');
      assert.match(
        textOf((await b.get('/portal')).text, `gates-${orgId}`),
        /Changes requested .*Changes requested on .*“Say which clinics use the service”/,
      );
      assert.match(
        textOf((await b.get('/portal')).text, `missing-${orgId}`),
        /Make the changes the NHS login team asked for, then submit your application again/,
      );
      const form = (await b.get(`/portal/organisations/${orgId}/application`)).text;
      assert.match(
        textOf(form, 'changes-requested'),
        /The NHS login team asked for changes .*“Say which clinics use the service” Make the changes below/,
      );
    });

    test('an integration request turned down: its row shows the decision, and a new request shows it as earlier', async () => {
      const { b, orgId } = await partner('Integrator');
      await submitApplication(app.database.db, orgId, ANSWERS);
      await recordCriterion(app.database.db, dm, orgId, 'application', 'pib_review', true, '');
      await decide(orgId, 'application', 'approve', 'Fine');
      const request = {
        organisation_id: orgId,
        env: 'integration' as const,
        status: 'pending' as const,
        requested_by: 'x',
        decided_at: null,
      };
      await app.database.db
        .insertInto('environment_request')
        .values({ ...request, id: `first-${dialect}`, created_at: Date.now() - 1000 })
        .execute();
      await decide(orgId, 'integration', 'reject', 'The demonstration call showed no clinical safety case');
      let gates = textOf((await b.get('/portal')).text, `gates-${orgId}`);
      assert.match(
        gates,
        new RegExp(
          'Integration environment access Not approved requested .* Not approved on .*' +
            '“The demonstration call showed no clinical safety case”',
        ),
      );
      await app.database.db
        .insertInto('environment_request')
        .values({ ...request, id: `second-${dialect}`, created_at: Date.now() })
        .execute();
      const home = (await b.get('/portal')).text;
      gates = textOf(home, `gates-${orgId}`);
      assert.match(
        gates,
        /Integration environment access Waiting for a decision requested .* Earlier: Not approved on .*no clinical safety case/,
      );
      assert.match(
        textOf(home, `next-${orgId}`),
        /deciding on your integration request.*Before deciding, the team will: Product demonstration call held/,
      );
    });
  });
}
