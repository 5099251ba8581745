/** The console in Chromium: set-up, sign-in with a TOTP code, and axe WCAG 2.2 AA checks on its pages. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import type { Browser } from 'playwright-core';
import { startListeningApp, type TestApp } from '../test-support/harness.ts';
import { accessibilityProblems, clickToNextPage, cspViolations, launchChromium, localContext } from '../test-support/chromium.ts';
import { createTeamAdmin } from '../onboarding/index.ts';

let app: TestApp & { origin: string };
let browser: Browser;
let origin: string;
before(async () => {
  app = await startListeningApp('sqlite');
  origin = app.origin;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await app?.stop();
});

test('a team admin sets up, signs in with TOTP, and every console page passes axe', async () => {
  const { setupSecret } = await createTeamAdmin(app.database.db, 'admin@nhs.example');
  const page = await (await localContext(browser)).newPage();
  const problems: Record<string, string[]> = {};
  await page.goto(`${origin}/console/setup/${setupSecret}`);
  problems.setup = await accessibilityProblems(page);
  const secret = (await page.locator('#totp-secret').innerText()).replaceAll(' ', '');
  await page.fill('#password', 'a long console passphrase');
  await page.fill('#code', await generate({ secret }));
  await clickToNextPage(page, page.locator('button:has-text("Finish set-up")'));
  problems['sign-in'] = await accessibilityProblems(page);
  await page.fill('#email', 'admin@nhs.example');
  await page.fill('#password', 'a long console passphrase');
  await page.fill('#code', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
  await clickToNextPage(page, page.locator('button:has-text("Sign in")'));
  assert.equal(await page.locator('h1').innerText(), 'Partners');
  problems.pipeline = await accessibilityProblems(page);
  const tops = await page.locator('#board [data-stage]').evaluateAll((cols) => cols.map((c) => c.getBoundingClientRect().top));
  assert.ok(
    tops.length === 5 && tops.every((t) => t === tops[0]),
    `the board's five stages side by side (its stylesheet applies): ${tops}`,
  );
  for (const path of ['/console/audit', '/console/outbox']) {
    await page.goto(`${origin}${path}`);
    problems[path] = await accessibilityProblems(page);
  }
  assert.deepEqual(Object.fromEntries(Object.entries(problems).filter(([, v]) => v.length)), {});
  assert.deepEqual(cspViolations(page.context()), [], 'the pages keep to their Content Security Policy');
});

test('a delivery manager takes a partner from application to live, gate by gate, in the console', async (t) => {
  const { addTeamMember, createOrganisation, submitApplication, uploadDocument, requestEnvironment, mayRegisterIn } =
    await import('../onboarding/index.ts');
  const { registerClient } = await import('../identity/index.ts');
  const { createRp } = await import('../test-support/rp.ts');
  const { completeSandpitChecklist } = await import('../test-support/checklist.ts');
  const { createRun, executeRun } = await import('../conformance/index.ts');
  const { createReferenceRp } = await import('../../examples/reference-rp/rp.ts');
  const { freePort } = await import('../test-support/ports.ts');
  const { execFileSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { generateKeyPairSync } = await import('node:crypto');
  const db = app.database.db;

  // The partner: applied, with documents (their own steps are in the portal's tests).
  const org = (await createOrganisation(db, 'lead', { name: 'Gateway Health', odsCode: 'GW123' })).id;
  await db
    .insertInto('partner_user')
    .values({ id: 'lead', email: 'lead@gateway.example', name: 'Lead', password_hash: 'x', email_confirmed_at: 1, created_at: 1 })
    .execute();
  await submitApplication(db, org, {
    eligibility: { england: 'yes', patient_facing: 'yes', benefit: 'yes', commissioned: 'yes', free: 'yes' },
    product_name: 'Gateway',
    description: 'Patients see and manage their appointments and messages online.',
    sponsor: 'NHS Example ICB',
    vectors: ['P9.Cp.Cd'],
    scopes: ['profile', 'email'],
    scope_reasons: { profile: 'Matching', email: 'Confirmations' },
    contact_name: 'Lead',
    contact_email: 'lead@gateway.example',
    safety_officer_email: 'cso@gateway.example',
  });
  for (const kind of ['dspt', 'scal', 'connection_agreement', 'dcb0129', 'pen_test'])
    await uploadDocument(db, org, 'lead', kind, `${kind}.pdf`, Buffer.from('%PDF-1.4\n%gateway\n'));

  // The delivery manager signs in to the console in Chromium.
  const { setupSecret } = await addTeamMember(db, { email: 'cli' }, 'dm@gateway-team.example', 'delivery_manager');
  const page = await (await localContext(browser)).newPage();
  await page.goto(`${origin}/console/setup/${setupSecret}`);
  const secret = (await page.locator('#totp-secret').innerText()).replaceAll(' ', '');
  await page.fill('#password', 'a long console passphrase');
  await page.fill('#code', await generate({ secret }));
  await clickToNextPage(page, page.locator('button:has-text("Finish set-up")'));
  await page.fill('#email', 'dm@gateway-team.example');
  await page.fill('#password', 'a long console passphrase');
  await page.fill('#code', await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }));
  await clickToNextPage(page, page.locator('button:has-text("Sign in")'));
  const gate = (g: string) => page.locator(`section[data-gate="${g}"]`);
  const decide = async (g: string, criteria: string[], reason: string) => {
    await page.goto(`${origin}/console/partners/${org}`);
    for (const c of criteria) {
      await gate(g).locator(`input#met-${g}-${c}`).check();
      await clickToNextPage(page, gate(g).locator(`#criterion-${c} button`));
    }
    await gate(g).locator('input[value="approve"]').check();
    await gate(g).locator(`#reason-${g}`).fill(reason);
    await clickToNextPage(page, gate(g).locator('button:has-text("Record decision")'));
    assert.equal(await gate(g).getAttribute('data-status'), 'approved', `${g} approved`);
  };
  const problems: Record<string, string[]> = {};

  await page.goto(`${origin}/console?view=table`);
  assert.match(await page.locator('#pipeline').innerText(), /Gateway Health[\s\S]*?Apply\s+Application awaiting review/);
  await page.goto(`${origin}/console/partners/${org}`);
  problems.partner = await accessibilityProblems(page);
  await decide('application', ['pib_review'], 'Eligible and sponsored; proceed to discovery.');

  // Discovery: the partner proves the journeys in the sandpit, then asks for integration.
  const sandpit = await createRp(app, 'sandpit', { organisationId: org, vtr: ['P9.Cp.Cd'], scopes: ['openid', 'profile', 'email'] });
  await completeSandpitChecklist(app, sandpit);
  await requestEnvironment(db, org, 'lead', 'integration');
  await decide('integration', ['demo_call'], 'Demo seen; the sandpit journeys are all evidenced.');
  assert.ok(await mayRegisterIn(db, org, 'integration'));

  // Integrate: an integration client, tested by the conformance suite against the service (https, self-signed).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-days',
      '1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const rpPort = await freePort();
  const rpUrl = `https://localhost:${rpPort}`;
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const integrationClient = await registerClient(db, {
    env: 'integration',
    organisationId: org,
    name: 'Gateway',
    redirectUris: [`${rpUrl}/callback`],
    scopes: ['openid', 'profile', 'email'],
    vtr: ['P9.Cp.Cd'],
    publicKeyPem: keys.publicKey,
  });
  let runId = '';
  const rp = await createReferenceRp({
    issuer: `${origin}/integration`,
    clientId: integrationClient.clientId,
    privateKeyPem: keys.privateKey,
    redirectUri: `${rpUrl}/callback`,
    scope: 'openid profile email',
    vtr: ['P9.Cp.Cd'],
    allowHttp: true,
    https: { key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
  });
  await rp.listen({ port: rpPort, host: '127.0.0.1' });
  try {
    const deps = { config: app.config, db, events: app.events };
    const started = Date.now();
    const run = await createRun(deps, {
      env: 'integration',
      clientId: integrationClient.clientId,
      organisationId: org,
      startUrl: rpUrl,
      createdBy: 'lead@gateway.example',
    });
    runId = run;
    assert.equal(await executeRun(deps, run), 'passed');
    t.diagnostic(`integration conformance run: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await rp.close();
  }

  // Go live: the request (every computed criterion met), then the team's records and decision.
  await requestEnvironment(db, org, 'lead', 'live');
  await page.goto(`${origin}/console/partners/${org}`);
  assert.equal(await gate('go_live').locator('[data-criterion="conformance"]').getAttribute('data-met'), 'yes', 'the signed report counts');
  await decide('go_live', ['scal_reviewed', 'connection_agreement', 'pib_go_live'], 'Conformance passed; documents in order.');
  assert.ok(await mayRegisterIn(db, org, 'live'), 'the partner may now register its live client');
  await page.goto(`${origin}/console?view=table`);
  assert.match(await page.locator('#pipeline').innerText(), /Gateway Health[\s\S]*?Live/);
  await page.goto(`${origin}/console/metrics`);
  problems.metrics = await accessibilityProblems(page);
  await page.goto(`${origin}/console/partners/${org}`);
  assert.match(
    await page.locator('#history').innerText(),
    /gate\.go_live\.approve[\s\S]*gate\.integration\.approve[\s\S]*gate\.application\.approve/,
  );
  await page.goto(`${origin}/console/conformance/${runId}`);
  assert.match(await page.locator('h1').innerText(), /Conformance run/);
  problems['conformance run'] = await accessibilityProblems(page);
  assert.deepEqual(Object.fromEntries(Object.entries(problems).filter(([, v]) => v.length)), {});
  assert.deepEqual(cspViolations(page.context()), [], 'the pages keep to their Content Security Policy');
});
