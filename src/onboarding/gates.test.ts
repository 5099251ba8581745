/**
 * Gate logic on both databases: criteria computed from data, recorded criteria, reasoned decisions, overrides
 * that need a justification and are audited; the go-live criterion trusts only full-plan reports signed here;
 * notifications by email and chat webhook, retried and recorded; client suspension and key rotation.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { CompactSign, generateKeyPair } from 'jose';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { createRp, login } from '../test-support/rp.ts';
import { buildReport, CATALOGUE } from '../conformance/index.ts';
import { signReport } from '../conformance/report.ts';
import {
  addComment,
  createOrganisation,
  decideGate,
  gateView,
  outbox,
  readiness,
  recordCriterion,
  requestEnvironment,
  setClientStatus,
  submitApplication,
  uploadDocument,
  verifyAudit,
  type NotifyDeps,
} from './index.ts';

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
const PDF = Buffer.from('%PDF-1.4\n%test\n');

for (const dialect of DIALECTS) {
  describe(`gates, notifications and client administration (${dialect})`, () => {
    let app: TestApp;
    let d: NotifyDeps;
    let webhook: http.Server;
    const received: string[] = [];
    let failNext = 0;
    let slowMs = 0;
    before(async () => {
      webhook = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c));
        req.on('end', async () => {
          if (slowMs) await new Promise((r) => setTimeout(r, slowMs));
          if (failNext > 0) {
            failNext--;
            res.statusCode = 500;
          } else received.push(body);
          res.end();
        });
      }).listen(0, '127.0.0.1');
      await new Promise((r) => webhook.once('listening', r));
      const chatWebhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hook`;
      app = await startTestApp(dialect, { CHAT_WEBHOOK_URL: chatWebhookUrl });
      d = { db: app.database.db, mailer: app.mailer, publicUrl: 'http://localhost:3000', chatWebhookUrl };
      await app.database.db
        .insertInto('team_user')
        .values({
          id: 'dm',
          email: 'dm@nhs.example',
          role: 'delivery_manager',
          password_hash: 'x',
          totp_secret: null,
          totp_last_step: null,
          created_at: 0,
        })
        .execute();
    });
    after(async () => {
      await app.stop();
      webhook.close();
    });
    const dm = { email: 'dm@nhs.example' };
    const partnerOrg = async (name: string) => {
      const org = await createOrganisation(app.database.db, `owner-${name}`, { name, odsCode: 'A1B2C' });
      await app.database.db
        .insertInto('partner_user')
        .values({
          id: `owner-${name}`,
          email: `${name.toLowerCase()}@example.org`,
          name,
          password_hash: 'x',
          email_confirmed_at: 1,
          created_at: 1,
        })
        .execute();
      return org.id;
    };

    test('application gate: computed and recorded criteria; approval needs the record, overrides need a justification', async () => {
      const org = await partnerOrg('Applicant');
      let view = await gateView(app.database.db, org, 'application');
      assert.equal(view.awaiting, false);
      await assert.rejects(decideGate(d, dm, org, 'application', 'approve', 'fine'), /Only a submitted application/);
      await submitApplication(app.database.db, org, { ...ANSWERS, eligibility: { ...ANSWERS.eligibility, free: 'no' } }).catch(
        () => undefined,
      );
      await app.database.db.updateTable('application').set({ status: 'submitted' }).where('organisation_id', '=', org).execute();
      view = await gateView(app.database.db, org, 'application');
      assert.deepEqual(view.computed.map((c) => [c.id, c.met]), [['submitted', true], ['eligible', false]]);
      await assert.rejects(decideGate(d, dm, org, 'application', 'approve', 'ok'), /not met: write why/);
      await assert.rejects(
        decideGate(d, dm, org, 'application', 'approve', 'ok', { eligible: 'Free for NHS patients; the charge is for private users only' }),
        /Record first/,
      );
      await recordCriterion(app.database.db, dm, org, 'application', 'pib_review', true, 'PIB 3 June');
      await assert.rejects(recordCriterion(app.database.db, dm, org, 'application', 'made_up', true, ''), /no such criterion/);
      await decideGate(d, dm, org, 'application', 'approve', 'Approved by the PIB', {
        eligible: 'Free for NHS patients; the charge is for private users only',
      });
      assert.equal((await gateView(app.database.db, org, 'application')).status, 'approved');
      const audit = await app.database.db.selectFrom('audit').select(['action', 'details']).where('subject', '=', org).execute();
      assert.ok(
        audit.some((a) => a.action === 'gate.override' && /private users/.test(a.details)),
        'the override is audited with its justification',
      );
      assert.ok(audit.some((a) => a.action === 'gate.application.approve'));
      assert.equal((await verifyAudit(app.database.db)).ok, true);
      const mail = await outbox(app.database.db);
      assert.ok(mail.some((m) => m.to_address === 'applicant@example.org' && /approved/.test(m.subject)), 'the partner is told');
      assert.ok(mail.some((m) => m.to_address === 'dm@nhs.example' && /approved/.test(m.subject)), 'and the team');
    });

    test('chat webhook: delivered after the request, retried after failures, failed after five attempts, never dropped', async () => {
      const org = await partnerOrg('Chatty');
      await app.deliveries.idle(); // the earlier tests' notifications are delivered first
      failNext = 1;
      await addComment(d, org, 'partner', 'chatty@example.org', 'Can we start on the sandpit?');
      await app.deliveries.idle(); // the comment woke this instance's worker, which posts outside the request
      let rows = await app.database.db.selectFrom('notification').selectAll().where('payload', 'like', '%sandpit%').execute();
      assert.deepEqual([rows[0]!.status, rows[0]!.attempts], ['pending', 1], 'the first attempt failed and is kept');
      await app.deliveries.run(Date.now() + 16_000);
      rows = await app.database.db.selectFrom('notification').selectAll().where('payload', 'like', '%sandpit%').execute();
      assert.deepEqual([rows[0]!.status, rows[0]!.attempts], ['sent', 2]);
      const body = received
        .map((b) => JSON.parse(b) as { text: string; idempotency_key: string })
        .find((b) => b.text.includes('Can we start on the sandpit?'));
      assert.ok(body, 'Slack-compatible {text}');
      assert.equal(body.idempotency_key, rows[0]!.id, 'with the notification id as its idempotency key');
      failNext = 100;
      await addComment(d, org, 'team', 'dm@nhs.example', 'Yes, go ahead');
      await app.deliveries.idle();
      for (let i = 1; i <= 5; i++) await app.deliveries.run(Date.now() + 2 ** i * 60_000);
      rows = await app.database.db.selectFrom('notification').selectAll().where('payload', 'like', '%go ahead%').execute();
      assert.deepEqual([rows[0]!.status, rows[0]!.attempts], ['failed', 5]);
      assert.equal(rows[0]!.last_error, 'HTTP 500');
      failNext = 0;
      assert.ok(
        (await outbox(app.database.db, 'chatty@example.org')).some((m) => /Yes, go ahead/.test(m.body)),
        "the partner is emailed the team's message",
      );
    });

    test('a slow chat receiver does not slow the request that sends a message', async () => {
      const org = await partnerOrg('Patient');
      slowMs = 1500;
      try {
        const started = Date.now();
        await addComment(d, org, 'partner', 'patient@example.org', 'Anyone there?');
        assert.ok(Date.now() - started < 1000, `answered in ${Date.now() - started} ms`);
        await app.deliveries.idle();
        assert.ok(received.some((b) => b.includes('Anyone there?')), 'and the message is posted all the same');
      } finally {
        slowMs = 0;
      }
    });

    describe('the go-live conformance criterion: only a full-plan passing report signed by this toolkit counts', () => {
      let org: string;
      let rp: Awaited<ReturnType<typeof createRp>>;
      const full = CATALOGUE.filter((t) => !t.id.startsWith('im1-')).map((t) => t.id);
      const met = async () => (await readiness(app.database.db, org, 'go_live')).find((c) => c.id === 'conformance')!.met;
      const insertRun = async (id: string, tests: string[], sign: (r: ReturnType<typeof buildReport>) => Promise<string>) => {
        const run = {
          id,
          env: 'integration',
          client_id: rp.client.clientId,
          organisation_id: org,
          start_url: 'https://svc.example.org/',
          options: '{}',
          status: 'passed' as const,
          created_by: 'x',
          created_at: 1,
          finished_at: 2,
          report: null,
          lease_holder: null,
          lease_until: null,
        };
        const results = tests.map((t, i) => ({
          run_id: id,
          test_id: t,
          position: i,
          status: 'pass' as const,
          detail: '',
          evidence: null,
          screenshot: null,
          started_at: 1,
          finished_at: 2,
        }));
        await app.database.db
          .insertInto('conformance_run')
          .values({ ...run, report: await sign(buildReport(run, results)) })
          .execute();
      };
      // A partner with everything for go-live but the conformance report: approved application and integration, documents.
      before(async () => {
        org = await partnerOrg('Golive');
        await submitApplication(app.database.db, org, ANSWERS);
        await app.database.db.updateTable('application').set({ status: 'approved' }).where('organisation_id', '=', org).execute();
        await app.database.db
          .insertInto('environment_request')
          .values({
            id: `int-${org}`,
            organisation_id: org,
            env: 'integration',
            status: 'approved',
            requested_by: 'x',
            created_at: 1,
            decided_at: 2,
            reason: 'ok',
          })
          .execute();
        for (const kind of ['dspt', 'scal', 'connection_agreement', 'dcb0129', 'pen_test'])
          await uploadDocument(app.database.db, org, 'x', kind, `${kind}.pdf`, PDF);
        rp = await createRp(app, 'integration', { organisationId: org, vtr: ['P9.Cp.Cd'] });
      });
      // Each test's runs are its own.
      afterEach(() => app.database.db.deleteFrom('conformance_run').where('organisation_id', '=', org).execute());

      test('with no conformance report it is unmet, and a request for live is refused', async () => {
        assert.equal(await met(), false);
        await assert.rejects(requestEnvironment(app.database.db, org, 'x', 'live'), /Not yet: a passing conformance report/);
      });

      test('a passing report of a partial plan does not count', async () => {
        await insertRun('partial', ['login-p9'], (r) => signReport(app.database.db, r));
        assert.equal(await met(), false, 'a partial plan does not count');
      });

      test('a full-plan report not signed by this toolkit does not count', async () => {
        const { privateKey } = await generateKeyPair('RS512');
        await insertRun('forged', full, async (r) =>
          new CompactSign(new TextEncoder().encode(JSON.stringify(r))).setProtectedHeader({ alg: 'RS512', kid: 'forged' }).sign(privateKey),
        );
        assert.equal(await met(), false, 'a report not signed by this toolkit does not count');
      });

      test('a full-plan passing report signed by this toolkit meets it', async () => {
        await insertRun('real', full, (r) => signReport(app.database.db, r));
        assert.equal(await met(), true);
      });

      test('with it met, live is requested and the go-live gate approved', async () => {
        await insertRun('real', full, (r) => signReport(app.database.db, r));
        await requestEnvironment(app.database.db, org, 'x', 'live');
        for (const c of ['scal_reviewed', 'connection_agreement', 'pib_go_live'])
          await recordCriterion(app.database.db, dm, org, 'go_live', c, true, '');
        await decideGate(d, dm, org, 'go_live', 'approve', 'Conformance passed; documents in order');
        assert.equal((await gateView(app.database.db, org, 'go_live')).status, 'approved');
      });
    });

    test('suspension stops a client at once (authorize, token, existing tokens); key rotation stops its token requests', async () => {
      const org = await partnerOrg('Suspended');
      const rp = await createRp(app, 'sandpit', { organisationId: org });
      const before = await login(app, rp, {});
      await assert.rejects(setClientStatus(d, dm.email, 'sandpit', rp.client.clientId, 'suspended', ''), /Give the reason/);
      await setClientStatus(d, dm.email, 'sandpit', rp.client.clientId, 'suspended', 'Security incident under investigation');
      const ui = await app.fetch(`${rp.issuer}/userinfo`, { headers: { authorization: `Bearer ${before.tokens.access_token}` } });
      assert.equal(ui.status, 401, 'its tokens stop working');
      assert.deepEqual(Object.keys((await ui.json()) as object).sort(), ['error', 'error_description'], 'no claims are sent');
      await assert.rejects(login(app, rp, {}));
      const refresh = await app.fetch(rp.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: before.tokens.refresh_token!,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await rp.assertion(),
        }).toString(),
      });
      assert.match(await refresh.text(), /suspended/);
      await setClientStatus(d, dm.email, 'sandpit', rp.client.clientId, 'active', 'Resolved');
      assert.ok((await login(app, rp, {})).claims.sub, 'reinstated');
      await setClientStatus(d, dm.email, 'sandpit', rp.client.clientId, 'rotate_key', 'Your key was published in a public repository');
      await assert.rejects(login(app, rp, {}), (e: Error & { cause?: { error_description?: string } }) =>
        /new public key/.test(e.cause?.error_description ?? ''),
      );
      const { replaceClientKey } = await import('../identity/index.ts');
      const { exportSPKI } = await import('jose');
      const fresh = await generateKeyPair('RS512', { extractable: true });
      await replaceClientKey(app.database.db, 'sandpit', rp.client.clientId, { publicKeyPem: await exportSPKI(fresh.publicKey) });
      const status = (
        await app.database.db.selectFrom('client').select('status').where('client_id', '=', rp.client.clientId).executeTakeFirstOrThrow()
      ).status;
      assert.equal(status, 'active', 'a new key makes it active again');
      await assert.rejects(login(app, rp, {}), 'the old key no longer works');
      assert.ok((await outbox(app.database.db, 'suspended@example.org')).some((m) => /Register a new public key/.test(m.subject)));
    });

    const approvedApplication = async (name: string) => {
      const org = await partnerOrg(name);
      await submitApplication(app.database.db, org, ANSWERS);
      await recordCriterion(app.database.db, dm, org, 'application', 'pib_review', true, 'PIB 4 June');
      await decideGate(d, dm, org, 'application', 'approve', 'Eligible and sponsored');
      return org;
    };

    test('a decision email: the partner\'s copy speaks to the partner, the team\'s names the partner and who decided', async () => {
      const org = await approvedApplication('Titled');
      const [partner] = await outbox(app.database.db, 'titled@example.org');
      assert.equal(partner!.subject, 'Your NHS login application has been approved');
      const team = (await outbox(app.database.db, 'dm@nhs.example')).find((m) => m.subject.startsWith('Titled'));
      assert.equal(team?.subject, 'Titled: application approved');
      assert.equal(
        team.body,
        `Titled: application approved by dm@nhs.example.\n\nReason: Eligible and ` +
          `sponsored\n\nIn the console: http://localhost:3000/console/partners/${org}#gates\n`,
      );
    });

    test('the team\'s chat hears a decision in the team\'s words', async () => {
      await approvedApplication('Chatted');
      await app.deliveries.idle();
      await app.deliveries.run(Date.now() + 60_000);
      const text = received.map((b) => (JSON.parse(b) as { text: string }).text).find((t) => t.includes('(Chatted)'));
      assert.match(text ?? '', /^\*Chatted: application approved\* \(Chatted\)\nChatted: application approved by dm@nhs\.example\./);
    });

    test('a client suspended: the team\'s copy names the partner\'s client, the partner\'s says "your"', async () => {
      const org = await partnerOrg('Paused');
      const rp = await createRp(app, 'sandpit', { organisationId: org });
      await setClientStatus(d, dm.email, 'sandpit', rp.client.clientId, 'suspended', 'Unexpected traffic');
      assert.equal((await outbox(app.database.db, 'paused@example.org'))[0]!.subject, 'Your NHS login client is suspended');
      const team = (await outbox(app.database.db, 'dm@nhs.example')).find((m) => m.subject.startsWith('Paused'));
      assert.equal(team?.subject, `Paused's client ${rp.client.name} (sandpit) suspended`);
      assert.match(team.body, /by dm@nhs\.example\.\n\nReason: Unexpected traffic\n/);
    });
  });
}
