/** The console's front door and first pages, on both databases: set-up link, password + TOTP, pipeline, audit chain. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser, csrfOf, fromAddress, type Page } from '../test-support/browser.ts';
import { createOrganisation, createTeamAdmin, submitApplication, verifyAudit } from '../onboarding/index.ts';
import { main } from '../cli/main.ts';
import { signInToConsole } from '../test-support/team.ts';
import { randomUUID } from 'node:crypto';

const ORIGIN = 'http://localhost:3000';

for (const dialect of DIALECTS) {
  describe(`team console (${dialect})`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp(dialect, { TRUST_PROXY: 'true' }); // so that a test can sign in from another address
    });
    after(() => app.stop());

    describe('a team admin set up by link, signing in with a password and a TOTP code', () => {
      let b: Browser;
      let setupSecret: string;
      let signedOut: Page;
      let shortPassword: Page;
      let setupDone: Page;
      let reusedCode: Page;
      let wrongPassword: Page;
      let home: Page;
      const signIn = async (password: string, code: string) => {
        const form = await b.get('/console/sign-in');
        return b.post('/console/sign-in', new URLSearchParams({ _csrf: csrfOf(form), email: 'dm@nhs.example', password, code }));
      };
      // The set-up, a code used twice, a wrong password, then the sign-in: the audit trail's entries come from these.
      before(async () => {
        b = new Browser(app.fetch, ORIGIN);
        signedOut = await b.get('/console');
        ({ setupSecret } = await createTeamAdmin(app.database.db, 'dm@nhs.example'));
        const setup = await b.get(`/console/setup/${setupSecret}`);
        const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(setup.text)![1]!.replaceAll(' ', '');
        shortPassword = await b.post(
          setup.url,
          new URLSearchParams({ _csrf: csrfOf(setup), password: 'short', code: await generate({ secret }) }),
        );
        const firstCode = await generate({ secret });
        setupDone = await b.post(
          setup.url,
          new URLSearchParams({ _csrf: csrfOf(setup), password: 'team console passphrase', code: firstCode }),
        );
        reusedCode = await signIn('team console passphrase', firstCode);
        wrongPassword = await signIn('wrong password here', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
        const org = await createOrganisation(app.database.db, 'someone', { name: 'Waiting Health', odsCode: 'ABC12' });
        await submitApplication(app.database.db, org.id, { eligibility: {} }).catch(() => undefined);
        home = await signIn('team console passphrase', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
      });

      test('signed out, the console sends you to sign in', () => {
        assert.ok(signedOut.url.endsWith('/console/sign-in'), 'signed out goes to sign-in');
      });

      test('the set-up form asks for a password of at least 12 characters', () => {
        assert.equal(shortPassword.status, 400);
        assert.match(shortPassword.text, /at least 12 characters/);
      });

      test('the set-up link leads to sign-in, and works once', async () => {
        assert.equal(new URL(setupDone.url).pathname, '/console/sign-in');
        assert.equal((await b.get(`/console/setup/${setupSecret}`)).status, 400, 'the set-up link works once');
      });

      test('a TOTP code already used is refused at sign-in', () => {
        assert.equal(reusedCode.status, 401, 'a code already used is refused');
      });

      test('a wrong password is refused at sign-in, with a fresh code', () => {
        assert.equal(wrongPassword.status, 401);
      });

      test('signed in, the pipeline shows a waiting partner with its application in draft', () => {
        assert.ok(home.url.endsWith('/console'), home.url);
        assert.match(home.text, /Waiting Health/);
        assert.match(home.text, /Application in draft/);
      });

      test('the outbox page says when no SMTP server is configured', async () => {
        const mail = await b.get('/console/outbox');
        assert.match(mail.text, /No SMTP server is configured/);
      });

      test('the audit page shows an intact chain with the set-up and sign-in entries', async () => {
        const audit = await b.get('/console/audit');
        assert.match(audit.text.replaceAll('<wbr>', ''), /The chain of \d+ entries is intact[\s\S]*id="audit-head">\d+:[0-9a-f]{64}</);
        for (const action of ['team.create_admin', 'team.setup_complete', 'console.sign_in_failed', 'console.sign_in'])
          assert.match(audit.text, new RegExp(action.replace('.', '\\.')));
      });

      test('the audit trail downloads as CSV', async () => {
        const csv = await app.fetch(`${ORIGIN}/console/audit?format=csv`, {
          headers: { cookie: b.cookieHeader(new URL(`${ORIGIN}/console/audit`)) },
        });
        assert.match(await csv.text(), /^seq,at,actor,action/);
      });
    });

    test('one answer for a wrong password or a wrong code; guessing makes its address wait, never the admin elsewhere', async () => {
      const { setupSecret } = await createTeamAdmin(app.database.db, 'guarded@nhs.example');
      const b = new Browser(app.fetch, ORIGIN);
      const setup = await b.get(`/console/setup/${setupSecret}`);
      const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(setup.text)![1]!.replaceAll(' ', '');
      await b.post(
        setup.url,
        new URLSearchParams({ _csrf: csrfOf(setup), password: 'team console passphrase', code: await generate({ secret }) }),
      );
      const signIn = async (from: string, password: string, code: string) => {
        const browser = new Browser(fromAddress(app.fetch, from), ORIGIN);
        const form = await browser.get('/console/sign-in');
        return browser.post('/console/sign-in', new URLSearchParams({ _csrf: csrfOf(form), email: 'guarded@nhs.example', password, code }));
      };
      const wrongPassword = await signIn('203.0.113.9', 'not the passphrase', await generate({ secret }));
      const wrongCode = await signIn('203.0.113.9', 'team console passphrase', '000000');
      const message = (p: Page) =>
        /<div class="nhsuk-error-summary__body">[\s\S]*?<\/div>/.exec(p.text)?.[0].replace(/\d+ more tr(y|ies)/, '');
      assert.equal(message(wrongPassword), message(wrongCode), 'the same words whichever factor was wrong');
      let page = wrongCode;
      for (let i = 0; i < 4; i++) page = await signIn('203.0.113.9', 'not the passphrase', '000000');
      assert.equal(page.status, 429, 'the sixth failure from one address starts a wait');
      assert.match(page.text, /wait 30 seconds/);
      page = await signIn('198.51.100.3', 'team console passphrase', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
      assert.ok(page.url.endsWith('/console'), `the admin signs in from another address (${page.url})`);
    });

    test('past ten wrong codes after the right password, only a browser the account signed in from before may sign in', async () => {
      const { setupSecret } = await createTeamAdmin(app.database.db, 'braked@nhs.example');
      const known = new Browser(fromAddress(app.fetch, '192.0.2.10'), ORIGIN);
      const setup = await known.get(`/console/setup/${setupSecret}`);
      const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(setup.text)![1]!.replaceAll(' ', '');
      const PASS = 'team console passphrase';
      await known.post(setup.url, new URLSearchParams({ _csrf: csrfOf(setup), password: PASS, code: await generate({ secret }) }));
      const next = () => generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 });
      const signIn = async (browser: Browser, password: string, code: string) => {
        const form = await browser.get('/console/sign-in');
        return browser.post('/console/sign-in', new URLSearchParams({ _csrf: csrfOf(form), email: 'braked@nhs.example', password, code }));
      };
      assert.ok((await signIn(known, PASS, await next())).url.endsWith('/console'), 'signed in once from this browser');
      // Each code works once: let the next sign-ins use the same one (this test is about the brake, not reuse).
      const reuse = () => app.database.db.updateTable('team_user').set({ totp_last_step: null }).where('email', '=', 'braked@nhs.example')
        .execute();
      await reuse();
      const stranger = (n: number) => new Browser(fromAddress(app.fetch, `203.0.113.${n}`), ORIGIN);
      for (let i = 0; i < 10; i++) assert.equal((await signIn(stranger(i), PASS, '000000')).status, 401, 'one wrong code from each');
      const braked = await signIn(stranger(50), PASS, await next());
      assert.equal(braked.status, 429, 'the right code from a new browser is refused');
      assert.match(braked.text, /too many wrong codes for this account\. Sign in from a browser you have signed in from before/);
      const noPassword = await signIn(stranger(51), 'not the passphrase', await next());
      assert.equal(noPassword.status, 401);
      assert.doesNotMatch(noPassword.text, /wrong codes/, 'told only to whoever has the password');
      await reuse();
      const back = await signIn(known, PASS, await next());
      assert.ok(back.url.endsWith('/console'), `the known browser signs in (${back.url})`);
    });

    describe('the application gate, decided in the console', () => {
      let b: Browser;
      let org: { id: string };
      let page: Page;
      let submitted: Page;
      let noReason: Page;
      let early: Page;
      let recorded: Page;
      let approved: Page;
      const decide = (fields: Record<string, string>) =>
        b.post(`/console/partners/${org.id}/gates/application/decision`, new URLSearchParams({ _csrf: csrfOf(page), ...fields }));
      // A team admin signs in; a partner submits; the admin decides with no reason, before the review, then after it.
      before(async () => {
        b = new Browser(app.fetch, ORIGIN);
        const { setupSecret } = await createTeamAdmin(app.database.db, 'pib@nhs.example');
        const setup = await b.get(`/console/setup/${setupSecret}`);
        const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(setup.text)![1]!.replaceAll(' ', '');
        await b.post(
          setup.url,
          new URLSearchParams({ _csrf: csrfOf(setup), password: 'team console passphrase', code: await generate({ secret }) }),
        );
        const form = await b.get('/console/sign-in');
        await b.post(
          '/console/sign-in',
          new URLSearchParams({
            _csrf: csrfOf(form),
            email: 'pib@nhs.example',
            password: 'team console passphrase',
            code: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }),
          }),
        );

        const { signUp, createOrganisation: newOrg } = await import('../onboarding/index.ts');
        const mailer = { send: async () => undefined, wake: () => undefined };
        const partnerUser = await signUp(
          { db: app.database.db, mailer, publicUrl: ORIGIN },
          { name: 'P', email: 'partner@example.org', password: 'correct horse battery' },
        );
        org = await newOrg(app.database.db, partnerUser.id, { name: 'Gate Health', odsCode: 'GH123' });
        await submitApplication(app.database.db, org.id, {
          eligibility: { england: 'yes', patient_facing: 'yes', benefit: 'yes', commissioned: 'yes', free: 'yes' },
          product_name: 'Gate',
          description: 'A service for patients to book and manage their appointments online.',
          sponsor: 'NHS Example ICB',
          vectors: ['P9.Cp.Cd'],
          scopes: [],
          contact_name: 'P',
          contact_email: 'p@example.org',
          safety_officer_email: 'cso@example.org',
        });
        page = submitted = await b.get(`/console/partners/${org.id}`);
        noReason = await decide({ decision: 'approve', reason: '' });
        page = early = await decide({ decision: 'approve', reason: 'Eligible, sponsored by the ICB; proceed to discovery.' });
        page = recorded = await b.post(
          `/console/partners/${org.id}/gates/application/criteria/pib_review`,
          new URLSearchParams({ _csrf: csrfOf(page), met: 'yes', note: 'PIB 12 March: proceed' }),
        );
        page = approved = await decide({ decision: 'approve', reason: 'Eligible, sponsored by the ICB; proceed to discovery.' });
      });

      test('a submitted application shows as submitted on the partner\'s page', () => {
        assert.match(submitted.text, /id="application-status">submitted</);
      });

      test('a decision needs a reason', () => {
        assert.equal(noReason.status, 400, 'a reason is required');
      });

      test('approval waits for the application review call to be recorded, and says so', () => {
        assert.equal(early.status, 400, 'the board review must be recorded first');
        assert.match(early.text, /Record first: application review call held/);
      });

      test('a criterion recorded as met shows as met', () => {
        assert.match(recorded.text, /data-criterion="pib_review" data-met="yes"/);
      });

      test('an approval shows on the partner\'s page, with its audit entry', () => {
        assert.match(approved.text, /id="application-status">approved</);
        assert.match(approved.text, /gate\.application\.approve/);
      });

      test('the audit chain is intact after the decisions', async () => {
        assert.equal((await verifyAudit(app.database.db)).ok, true);
      });

      test('the partner is emailed the approval, with its reason', async () => {
        const { outbox } = await import('../onboarding/index.ts');
        const mail = (await outbox(app.database.db, 'partner@example.org')).find((m) => /has been approved/.test(m.subject));
        assert.ok(mail && /Eligible, sponsored by the ICB/.test(mail.body), 'the partner is told, with the reason');
      });

      test('an approved application meets the integration request\'s application criterion', async () => {
        const { environmentReadiness } = await import('../onboarding/index.ts');
        const readiness = await environmentReadiness(app.database.db, org.id, 'integration');
        assert.equal(readiness.find((c) => c.id === 'application')!.met, true);
      });

      test('only a submitted application can be decided', async () => {
        assert.equal((await decide({ decision: 'reject', reason: 'again' })).status, 400, 'only a submitted application can be decided');
      });
    });

    test('approving go-live over unmet criteria reads the written justification of each, whatever its id (document_dcb0129)', async () => {
      const { b } = await signInToConsole(app, 'golive@nhs.example', 'team_admin');
      const org = await createOrganisation(app.database.db, 'user-golive', { name: 'Go Live Ltd' });
      await app.database.db
        .insertInto('environment_request')
        .values({
          id: randomUUID(),
          organisation_id: org.id,
          env: 'live',
          status: 'pending',
          requested_by: 'user-golive',
          created_at: Date.now(),
          decided_at: null,
          reason: null,
        })
        .execute();
      const page = await b.get(`/console/partners/${org.id}`);
      const overrides = [...page.text.matchAll(/name="(override-[^"]+)"/g)].map((m) => m[1]!);
      assert.ok(overrides.includes('override-document_dcb0129'), 'the clinical safety case is one of the unmet criteria');
      const form = new URLSearchParams({ _csrf: csrfOf(page), decision: 'approve', reason: 'The board agreed' });
      for (const o of overrides) form.set(o, 'Agreed at the board, to follow within a month');
      const answer = await b.post(`/console/partners/${org.id}/gates/go_live/decision`, form);
      assert.equal(answer.status, 400);
      assert.match(answer.text, /Record first:/, 'every justification was read: only the recorded checks are missing');
    });

    test('tampering with any entry is detected, by the console and by toolkit audit verify', async () => {
      assert.equal((await verifyAudit(app.database.db)).ok, true);
      await app.database.db.updateTable('audit').set({ actor: 'someone-else' }).where('seq', '=', 2).execute();
      const verdict = await verifyAudit(app.database.db);
      assert.deepEqual([verdict.ok, verdict.brokenAt], [false, 2]);
      if (dialect === 'sqlite') {
        const out: string[] = [];
        const file = (app.config.database as { file: string }).file;
        const code = await main(
          ['audit', 'verify'],
          { out: (t) => out.push(t), err: (t) => out.push(t) },
          { DATABASE_URL: `sqlite:${file}` },
        );
        assert.equal(code, 1);
        assert.match(out[0]!, /AUDIT TRAIL BROKEN at entry 2/);
      }
    });
  });
}

test('toolkit team create-admin prints a one-time set-up link and no password', async () => {
  const app = await startTestApp('sqlite');
  try {
    const out: string[] = [];
    const file = (app.config.database as { file: string }).file;
    const code = await main(
      ['team', 'create-admin', '--email', 'admin@nhs.example', '--json'],
      { out: (t) => out.push(t), err: (t) => out.push(t) },
      { DATABASE_URL: `sqlite:${file}` },
    );
    assert.equal(code, 0);
    const printed = JSON.parse(out[0]!) as { setup_link: string; role: string };
    assert.equal(printed.role, 'team_admin');
    assert.match(printed.setup_link, /^http:\/\/localhost:3000\/console\/setup\/[\w-]{40,}$/);
    const row = await app.database.db
      .selectFrom('team_user')
      .selectAll()
      .where('email', '=', 'admin@nhs.example')
      .executeTakeFirstOrThrow();
    assert.equal(row.password_hash, null);
  } finally {
    await app.stop();
  }
});

test('authorisation matrix: every console route refuses the signed-out ' +
  'and partners; delivery managers cannot do admin actions', async () => {
  const app = await startTestApp('sqlite');
  try {
    const ROUTES: [string, string][] = [
      ['GET', '/console'],
      ['GET', '/console/partners/x'],
      ['GET', '/console/partners/x/documents/y'],
      ['GET', '/console/outbox'],
      ['GET', '/console/audit'],
      ['GET', '/console/audit?format=csv'],
      ['GET', '/console/team'],
      ['GET', '/console/clients/sandpit/x'],
      ['GET', '/console/conformance/x'],
      ['GET', '/console/conformance/x/report.jws'],
      ['GET', '/console/conformance/x/screenshots/a.png'],
      ['GET', '/console/metrics'],
      ['POST', '/console/partners/x/gates/application/decision'],
      ['POST', '/console/partners/x/gates/application/criteria/pib_review'],
      ['POST', '/console/partners/x/comments'],
      ['POST', '/console/partners/x/delivery-manager'],
      ['POST', '/console/clients/sandpit/x/approvals'],
      ['POST', '/console/clients/sandpit/x/sso'],
      ['POST', '/console/clients/sandpit/x/status'],
      ['POST', '/console/team'],
      ['POST', '/console/team/x/role'],
      ['POST', '/console/team/x/remove'],
      ['POST', '/console/sign-out'],
    ];
    // A partner signed in to the portal: their session is not a console session.
    const { partnerIn } = await import('../test-support/partner.ts');
    const org = await createOrganisation(app.database.db, 'p', { name: 'P' });
    const partner = await partnerIn(app, org.id, 'partner-matrix@example.org');
    for (const [method, path] of ROUTES) {
      for (const [who, cookie] of [
        ['signed out', ''],
        ['a partner', partner.cookieHeader(new URL(`${ORIGIN}/portal`))],
      ] as const) {
        const res = await app.fetch(`${ORIGIN}${path}`, {
          method,
          headers: { cookie, ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
          ...(method === 'POST' ? { body: 'x=1' } : {}),
          redirect: 'manual',
        });
        assert.equal(res.status, 303, `${method} ${path} for ${who}`);
        assert.equal(res.headers.get('location'), '/console/sign-in', `${method} ${path} for ${who}`);
      }
    }
    // A delivery manager: everything but team administration.
    const { signInToConsole } = await import('../test-support/team.ts');
    const { b, home } = await signInToConsole(app, 'dm-matrix@nhs.example', 'delivery_manager');
    assert.doesNotMatch(home.text, /href="\/console\/team"/, 'no team link for delivery managers');
    assert.equal((await b.get('/console/team')).status, 403);
    for (const path of ['/console/team', '/console/team/x/role', '/console/team/x/remove']) {
      assert.equal(
        (await b.post(path, new URLSearchParams({ _csrf: csrfOf(home), email: 'new@nhs.example', role: 'team_admin' }))).status,
        403,
        path,
      );
    }
    assert.equal((await app.database.db.selectFrom('team_user').select('id').where('email', '=', 'new@nhs.example').execute()).length, 0);
  } finally {
    await app.stop();
  }
});

test('toolkit demo seed fills a fresh install: the board, the table with stuck partners, and the charts are populated', async () => {
  const app = await startTestApp('sqlite');
  try {
    const file = (app.config.database as { file: string }).file;
    const out: string[] = [];
    assert.equal(
      await main(['demo', 'seed', '--json'], { out: (t) => out.push(t), err: (t) => out.push(t) }, { DATABASE_URL: `sqlite:${file}` }),
      0,
      out.join('\n'),
    );
    assert.equal(JSON.parse(out[0]!).partners, 12);
    assert.equal(
      await main(['demo', 'seed'], { out: (t) => out.push(t), err: (t) => out.push(t) }, { DATABASE_URL: `sqlite:${file}` }),
      1,
      'not twice',
    );
    const { pipeline, onboardingMetrics, environmentMetrics } = await import('../onboarding/index.ts');
    const rows = await pipeline(app.database.db, {}, Date.now(), { blockers: false });
    assert.deepEqual(
      ['Apply', 'Discovery', 'Integrate', 'Go live', 'Live'].map((s) => rows.filter((r) => r.stage === s).length),
      [3, 3, 2, 1, 3],
    );
    assert.ok(
      rows.some((r) => r.stuck && r.waitingOn === 'team'),
      'someone is stuck waiting on the team',
    );
    const m = await onboardingMetrics(app.database.db);
    assert.equal(m.times.find((t) => t.stage === 'Application to live')!.count, 3);
    assert.ok(m.cohorts.length >= 4, 'several monthly cohorts');
    assert.ok(m.conversion.every((c) => c.rate !== null));
    const sandpit = await environmentMetrics(app.database.db, 'sandpit');
    assert.ok(sandpit.registered > 0 && sandpit.verifiedP9 > 0 && sandpit.perClient.length === 9);
    // The pages, as the team sees them.
    const { signInToConsole } = await import('../test-support/team.ts');
    const { b, home: board } = await signInToConsole(app, 'viewer@nhs.example', 'team_admin');
    assert.equal((board.text.match(/class="nhsuk-card /g) ?? []).length, 12, 'twelve cards on the board');
    const stuck = await b.get('/console?view=table&stuck=yes&waiting=team');
    assert.match(stuck.text, /Bluebell Clinics/);
    assert.doesNotMatch(stuck.text, /Northwind Health/);
    const charts = await b.get('/console/metrics');
    assert.equal(
      (charts.text.match(/<dl class="toolkit-chart"/g) ?? []).length,
      4,
      'three pipeline charts and one for the sandpit (the only environment with traffic)',
    );
    assert.match(charts.text, /data-metric="registered-sandpit">[1-9]/);
    const metrics = (await app.metricsServer.inject('/metrics')).body;
    assert.match(metrics, /^toolkit_partners\{stage="Live"\} 3$/m);
  } finally {
    await app.stop();
  }
});
