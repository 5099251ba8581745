/**
 * Enough content for every page to show what it holds at its longest, as a partner and the team see it after a
 * few weeks: the demo cohort (board, charts, traffic), and a partner with a sandpit client whose callback URLs are
 * long, a finished conformance run with its evidence, messages both ways and the mail they sent, and test users.
 */
import { generateKeyPairSync } from 'node:crypto';
import { armFaults, registerClient } from '../identity/index.ts';
import { addComment, appendAudit, approveClient, createOrganisation, notifyDeps, seedDemo } from '../onboarding/index.ts';
import { CATALOGUE, buildReport } from '../conformance/index.ts';
import { signReport } from '../conformance/report.ts';
import { createTestUser } from '../onboarding/test-users.ts';
import { loadPeopleData } from '../identity/people/index.ts';
import { addProxyLink } from '../storage/index.ts';
import type { TestApp } from './harness.ts';

/** A 1×1 PNG, standing in for a conformance test's screenshot. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const SERVICE = 'https://patient-services.gateway-health-north-east-and-north-cumbria.example.nhs.uk';
const CALLBACK = `${SERVICE}/api/v2/authentication/nhs-login/oidc/callback`;

export interface SeededPages {
  organisationId: string;
  clientId: string;
  runId: string;
}

export async function seedPages(app: TestApp): Promise<SeededPages> {
  const db = app.database.db;
  await seedDemo(db, app.events);
  await db.insertInto('partner_user')
    .values({ id: 'lead', email: 'lead@gateway.example', name: 'Gateway lead', password_hash: 'x', email_confirmed_at: 1, created_at: 1 })
    .execute();
  const org = await createOrganisation(db, 'lead', { name: 'Gateway Health North East and North Cumbria Integrated Care', odsCode: 'GW1' });
  // Live since today, its journey told in full: the last card on the console's board.
  const day = 24 * 3600 * 1000;
  const now = Date.now();
  const answers = {
    eligibility: { england: 'yes', patient_facing: 'yes', benefit: 'yes', commissioned: 'yes', free: 'yes' },
    product_name: 'Gateway patient services', description: 'Patients book, change and cancel appointments and message their care team.',
    sponsor: 'NHS Example ICB', vectors: ['P9.Cp.Cd'], scopes: ['profile', 'email'],
    scope_reasons: { profile: 'To match the patient record', email: 'To send confirmations' },
    contact_name: 'Gateway lead', contact_email: 'lead@gateway.example', safety_officer_email: 'cso@gateway.example',
  };
  await db.insertInto('application').values({
    organisation_id: org.id, status: 'approved', answers: JSON.stringify(answers),
    created_at: now - 40 * day, updated_at: now - 30 * day, submitted_at: now - 35 * day,
  }).execute();
  const approval = { actor: 'dm.one@nhs.example', action: 'gate.application.approve', subject: org.id, details: { reason: 'Eligible' } };
  await appendAudit(db, { ...approval, at: now - 30 * day });
  for (const [env, asked] of [['integration', 20], ['live', 1]] as const) {
    await db.insertInto('environment_request').values({
      id: crypto.randomUUID(), organisation_id: org.id, env, status: 'approved', requested_by: 'lead',
      created_at: now - asked * day, decided_at: now - (asked - 1) * day + 1, reason: 'Criteria met',
    }).execute();
  }
  const { publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const client = await registerClient(db, {
    env: 'sandpit', organisationId: org.id, name: 'Gateway patient services',
    redirectUris: [CALLBACK, `${CALLBACK}/second-tenant-for-the-mental-health-trust`],
    scopes: ['openid', 'profile', 'email', 'phone'], vtr: ['P5.Cp.Cd', 'P9.Cp.Cd'], publicKeyPem: publicKey,
  });
  // Approved for Users Endpoint V2, so that its page shows the row at its longest (four URLs).
  await approveClient(db, 'dm.one@nhs.example', 'sandpit', client.clientId, {
    scopes: client.scopes, vtr: client.vtr, im1: false, usersV2: true,
  });
  // A fault sequence with its longest descriptions, so the panel's table shows at its widest.
  await armFaults(db, 'sandpit', client.clientId, [
    { kind: 'userinfo_sub_mismatch', count: 1 }, { kind: 'token_latency', seconds: 120, ms: 15_000 },
    { kind: 'provision_rate_limited', count: 1000 }, { kind: 'pass', count: 1 },
  ]);
  // Test users: two integration ones with GP online linkage (the GP state form), one managing health services for another.
  const people = loadPeopleData();
  const users = [];
  for (const nhsNumber of ['9686368450', '9686368469', '9686367411'])
    users.push(await createTestUser(db, people, org.id, { nhsNumber, level: 'P9', otpDisabled: false, phonePdsMatched: true,
      pdsTraceFails: false }));
  await addProxyLink(db, 'integration', users[0]!.id, users[1]!.id);
  // A sandpit one with the partner's own details, the longest name a person might have.
  await createTestUser(db, people, org.id, {
    env: 'sandpit', nhsNumber: '9990000018', level: 'P5', otpDisabled: true, phonePdsMatched: false,
    demographics: { givenName: 'Bartholomew-Maximilian', familyName: 'Featherstonehaugh-Cholmondeley', birthdate: '1985-12-10' } });
  const notify = notifyDeps({ db, mailer: app.mailer, config: app.config });
  const pasted = `${CALLBACK}?error=invalid_request&error_description=${'the+redirect_uri+does+not+match+'.repeat(4)}`;
  await addComment(notify, org.id, 'partner', 'lead@gateway.example', `We see invalid_request at ${pasted}`);
  const answer = 'Register each tenant’s callback as its own redirect URI: they must match exactly.';
  await addComment(notify, org.id, 'team', 'dm.one@nhs.example', answer);
  return { organisationId: org.id, clientId: client.clientId, runId: await seedConformanceRun(app, client.clientId, org.id) };
}

/** A finished run as the engine leaves it: results with long final URLs and the protocol events as evidence. */
async function seedConformanceRun(app: TestApp, clientId: string, organisationId: string): Promise<string> {
  const db = app.database.db;
  const id = crypto.randomUUID();
  const now = Date.now();
  const at = new Date(now).toISOString();
  const tests = CATALOGUE.filter((t) => !t.id.startsWith('im1-'));
  const run = {
    id, env: 'sandpit', client_id: clientId, organisation_id: organisationId, start_url: `${SERVICE}/sign-in/start-with-nhs-login`,
    options: JSON.stringify({ tests: tests.map((t) => t.id) }), status: 'failed' as const, created_by: 'lead@gateway.example',
    created_at: now - 120_000, finished_at: now, report: null, lease_holder: null, lease_until: null,
  };
  await db.insertInto('conformance_run').values(run).execute();
  const finalUrl = `${CALLBACK}?code=${'Ab3dE'.repeat(16)}&state=${'s7Xq'.repeat(11)}&session_state=${'9f2c'.repeat(16)}`;
  const results = tests.map((t, position) => {
    const status = position % 5 === 3 ? 'fail' as const : position % 7 === 6 ? 'could_not_run' as const : 'pass' as const;
    const refused = status === 'fail' ? 'invalid_client: client assertion aud was the issuer, not the token endpoint' : null;
    const evidence = {
      final_url: finalUrl, status: status === 'fail' ? 500 : 200, steps: 6, signed_in: status === 'pass',
      events: [
        { id: `${id}-a${position}`, kind: 'authorize', outcome: 'ok', reason: null, at },
        { id: `${id}-t${position}`, kind: 'token', outcome: refused ? 'error' : 'ok', reason: refused, at },
      ],
    };
    const detail = status === 'fail' ? `The service showed HTTP 500 at ${finalUrl} instead of an error page`
      : status === 'could_not_run' ? 'The NHS login button was not found on the start page' : null;
    const times = { started_at: now - 60_000, finished_at: now };
    return { run_id: id, test_id: t.id, position, status, detail, evidence: JSON.stringify(evidence), screenshot: PNG, ...times };
  });
  await db.insertInto('conformance_result').values(results).execute();
  const report = await signReport(db, buildReport(run, results));
  await db.updateTable('conformance_run').set({ report }).where('id', '=', id).execute();
  return id;
}
