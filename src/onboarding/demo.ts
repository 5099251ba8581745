/**
 * `toolkit demo seed`: a fresh install filled with a realistic cohort — twelve partners at every stage, some of
 * them stuck, with applications over several months, decisions, requests, documents, messages and sandpit
 * traffic — so the console's board, table and charts can be seen populated. Refuses a database that has partners.
 */
import { randomUUID } from 'node:crypto';
import type { Db, EventSink } from '../storage/index.ts';
import { appendAudit } from './audit.ts';
import { OnboardingError } from './errors.ts';

const DAY = 24 * 3600 * 1000;
const ANSWERS = (name: string) => ({
  eligibility: { england: 'yes', patient_facing: 'yes', benefit: 'yes', commissioned: 'yes', free: 'yes' },
  product_name: name,
  description: `${name} lets patients manage their care online: appointments, messages and records.`,
  sponsor: 'NHS Example Integrated Care Board',
  vectors: ['P9.Cp.Cd'],
  scopes: ['profile', 'email'],
  scope_reasons: { profile: 'To match the patient record', email: 'To send confirmations' },
  contact_name: 'Product owner',
  contact_email: 'owner@example.org',
  safety_officer_email: 'cso@example.org',
});

/** Where each demo partner is: days ago for each step it reached. */
const COHORT: {
  name: string;
  applied: number;
  approved?: number;
  integrationAsked?: number;
  integrationOk?: number;
  liveAsked?: number;
  liveOk?: number;
  status?: 'draft' | 'submitted' | 'changes_requested' | 'rejected';
}[] = [
  { name: 'Northwind Health', applied: 2, status: 'draft' },
  { name: 'Bluebell Clinics', applied: 25, status: 'submitted' },
  { name: 'Harbour Pharmacy', applied: 40, status: 'changes_requested' },
  { name: 'Oakfield Physio', applied: 70, approved: 60 },
  { name: 'Riverside Mental Health', applied: 120, approved: 100 },
  { name: 'Meadow Maternity', applied: 80, approved: 65, integrationAsked: 3 },
  { name: 'Kestrel Diabetes Care', applied: 150, approved: 130, integrationAsked: 90, integrationOk: 85 },
  { name: 'Summit Dermatology', applied: 110, approved: 95, integrationAsked: 50, integrationOk: 45 },
  { name: 'Lighthouse Hearing', applied: 160, approved: 140, integrationAsked: 100, integrationOk: 95, liveAsked: 5 },
  { name: 'Cedar Care Homes', applied: 200, approved: 180, integrationAsked: 140, integrationOk: 130, liveAsked: 70, liveOk: 60 },
  { name: 'Willow Sleep Service', applied: 190, approved: 170, integrationAsked: 120, integrationOk: 115, liveAsked: 40, liveOk: 35 },
  { name: 'Aurora Eye Hospital', applied: 230, approved: 200, integrationAsked: 150, integrationOk: 140, liveAsked: 90, liveOk: 80 },
];

export async function seedDemo(db: Db, events: EventSink, now = Date.now()): Promise<{ partners: number }> {
  if (await db.selectFrom('organisation').select('id').executeTakeFirst())
    throw new OnboardingError('not_ready', 'This database already has partners: the demo seed fills a fresh install only');
  const managers = ['dm.one@nhs.example', 'dm.two@nhs.example'];
  for (const email of managers)
    await db
      .insertInto('team_user')
      .values({
        id: randomUUID(),
        email,
        role: 'delivery_manager',
        password_hash: null,
        totp_secret: null,
        totp_last_step: null,
        created_at: now,
      })
      .onConflict((oc) => oc.column('email').doNothing())
      .execute();
  const team = await db.selectFrom('team_user').select(['id', 'email']).execute();
  for (const [i, p] of COHORT.entries()) {
    const at = (daysAgo: number) => now - daysAgo * DAY;
    const id = randomUUID();
    const userId = randomUUID();
    const slug = p.name.toLowerCase().replace(/\W+/g, '.');
    await db
      .insertInto('partner_user')
      .values({
        id: userId,
        email: `lead@${slug}.example`,
        name: `${p.name} lead`,
        password_hash: 'demo: no password, use reset',
        email_confirmed_at: at(p.applied + 5),
        created_at: at(p.applied + 5),
      })
      .execute();
    await db
      .insertInto('organisation')
      .values({
        id,
        name: p.name,
        ods_code: `D${String(100 + i)}`,
        created_at: at(p.applied + 5),
        delivery_manager: i % 3 === 0 ? null : team[i % team.length]!.id,
      })
      .execute();
    await db
      .insertInto('membership')
      .values({ organisation_id: id, user_id: userId, role: 'partner_admin', created_at: at(p.applied + 5) })
      .execute();
    const status = p.status ?? 'approved';
    await db
      .insertInto('application')
      .values({
        organisation_id: id,
        status,
        answers: JSON.stringify(ANSWERS(p.name)),
        created_at: at(p.applied + 3),
        updated_at: at(p.approved ?? p.applied),
        submitted_at: status === 'draft' ? null : at(p.applied),
      })
      .execute();
    if (p.approved)
      await appendAudit(db, {
        actor: 'dm.one@nhs.example',
        action: 'gate.application.approve',
        subject: id,
        details: { reason: 'Eligible and sponsored (demo)' },
        at: at(p.approved),
      });
    for (const [env, asked, ok] of [
      ['integration', p.integrationAsked, p.integrationOk],
      ['live', p.liveAsked, p.liveOk],
    ] as const) {
      if (asked === undefined) continue;
      await db
        .insertInto('environment_request')
        .values({
          id: randomUUID(),
          organisation_id: id,
          env,
          status: ok === undefined ? 'pending' : 'approved',
          requested_by: userId,
          created_at: at(asked),
          decided_at: ok === undefined ? null : at(ok),
          reason: ok === undefined ? null : 'Criteria met (demo)',
        })
        .execute();
    }
    await db
      .insertInto('comment')
      .values({
        id: randomUUID(),
        organisation_id: id,
        author_side: 'partner',
        author: `lead@${slug}.example`,
        body: 'Hello: we have started on the sandpit and will share our demo soon.',
        created_at: at(Math.max(1, p.applied - 1)),
      })
      .execute();
    // Sandpit traffic for the environment figures, as the protocol record would hold it.
    if (p.approved) {
      const clientId = `demo${String(i).padStart(2, '0')}${randomUUID().replace(/-/g, '').slice(0, 24)}`;
      await db
        .insertInto('client')
        .values({
          env: 'sandpit',
          client_id: clientId,
          name: p.name,
          metadata: JSON.stringify({
            redirect_uris: [`https://${slug}.example/callback`],
            scope: 'openid profile email',
            jwks: { keys: [] },
          }),
          vtr: '["P9.Cp.Cd"]',
          im1: 0,
          sso_to: '[]',
          status: 'active',
          created_at: at(p.approved),
          organisation_id: id,
          fault: null,
          conformance_until: null,
          users_v2: 0,
          provisioning: 0,
          provisioning_ods: null,
        })
        .execute();
      for (let n = 0; n < 5 + i * 3; n++) {
        const token = { env: 'sandpit', clientId, kind: 'token', details: { grant_type: 'authorization_code' } } as const;
        events.record(
          n % 9 === 8
            ? {
                ...token,
                outcome: 'error',
                error: 'invalid_client',
                cause: 'assertion_audience',
                description: 'client assertion aud was the issuer',
              }
            : { ...token, outcome: 'ok' },
        );
        if (n % 4 === 0) events.record({ env: 'sandpit', clientId, kind: 'registration', outcome: 'ok', person: `demo-person-${i}-${n}` });
        if (n % 5 === 0)
          events.record({
            env: 'sandpit',
            clientId,
            kind: 'uplift',
            outcome: 'ok',
            person: `demo-person-${i}-${n}`,
            details: { to: n % 10 === 0 ? 'P9' : 'P5' },
          });
      }
    }
  }
  await events.flush();
  return { partners: COHORT.length };
}
