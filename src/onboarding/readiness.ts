/**
 * What each gate needs that data can decide (computed criteria), and what a delivery manager records. The
 * partner sees the computed ones before requesting the next environment; the team sees both at the gate.
 *   application  -> the Partner Integration Board's review of the application
 *   integration  -> discovery done: access to the integration environment
 *   go_live      -> technical conformance and documents done: a live client
 */
import { listClients, type Db } from '../storage/index.ts';
import { verifyReport } from '../conformance/report.ts';
import { planFor } from '../conformance/plan.ts';
import { getApplication } from './applications.ts';
import { DOCUMENT_KINDS, hasDocument, type DocumentKind } from './documents.ts';
import { eligibility } from './eligibility.ts';
import { journeyChecklist } from './evidence.ts';
import { EVIDENCE_ENV, type Gate } from './lifecycle.ts';

export type { Gate } from './lifecycle.ts';
export const GATES: Record<Gate, string> = {
  application: 'Application (Partner Integration Board)',
  integration: 'Integration environment access',
  go_live: 'Go-live (a live client)',
};

export interface Criterion {
  id: string;
  label: string;
  met: boolean;
  /** What the partner must do when it is not met (the portal speaks to the partner). */
  how: string;
  /** What it is waiting for, for the team (the console speaks to the team, of the partner). */
  waiting: string;
}

/** Criteria a delivery manager records (met or not, with a note), per gate. */
export const RECORDED: Record<Gate, { id: string; label: string }[]> = {
  application: [{ id: 'pib_review', label: 'Application review call held and the Partner Integration Board agrees' }],
  integration: [
    {
      id: 'demo_call',
      label: 'Product demonstration call held (demo, architecture and data flows, security, clinical safety, scopes and vectors)',
    },
  ],
  go_live: [
    { id: 'scal_reviewed', label: 'SCAL reviewed with the conformance report' },
    { id: 'connection_agreement', label: 'Connection agreement signed' },
    { id: 'pib_go_live', label: 'Partner Integration Board reviewed the go-live application' },
  ],
};

const has = async (db: Db, orgId: string, kind: DocumentKind): Promise<Criterion> => ({
  id: `document_${kind}`, label: `${DOCUMENT_KINDS[kind]} uploaded`, met: await hasDocument(db, orgId, kind),
  how: `Upload your ${DOCUMENT_KINDS[kind]} in Documents.`, waiting: `Waiting for the partner to upload the ${DOCUMENT_KINDS[kind]}.`,
});

/** The latest request for an environment's status, if any. */
const requested = async (db: Db, orgId: string, env: 'integration' | 'live') => (await db.selectFrom('environment_request').select('status')
  .where('organisation_id', '=', orgId).where('env', '=', env).orderBy('created_at', 'desc').limit(1).executeTakeFirst())?.status;

/** Whether the organisation's request for `env` was approved. */
export async function approved(db: Db, orgId: string, env: 'integration' | 'live'): Promise<boolean> {
  return Boolean(
    await db
      .selectFrom('environment_request')
      .select('id')
      .where('organisation_id', '=', orgId)
      .where('env', '=', env)
      .where('status', '=', 'approved')
      .executeTakeFirst(),
  );
}

export async function readiness(db: Db, orgId: string, gate: Gate): Promise<Criterion[]> {
  const application = await getApplication(db, orgId);
  if (gate === 'application') {
    const e = eligibility(application.answers.eligibility);
    return [
      {
        id: 'submitted',
        label: 'The application is submitted',
        met: application.status !== 'draft' && application.status !== 'changes_requested',
        how: 'Complete and submit your application.',
        waiting: 'Waiting for the partner to complete and submit the application.',
      },
      {
        id: 'eligible',
        label: 'The service meets the five eligibility criteria',
        met: e.eligible,
        how: e.reasons.join(' ') || 'Answer the eligibility questions.',
        waiting: e.answered
          ? `Not eligible on the partner's answers: ${e.reasons.join(' ')}`
          : 'Waiting for the partner to answer the eligibility questions.',
      },
    ];
  }
  if (gate === 'integration') {
    const [org, clients] = await Promise.all([
      db.selectFrom('organisation').select('ods_code').where('id', '=', orgId).executeTakeFirstOrThrow(),
      listClients(db, EVIDENCE_ENV.integration, orgId),
    ]);
    const checklists = await Promise.all(clients.map(async (c) => ({ c, items: await journeyChecklist(db, c) })));
    const complete = checklists.find((x) => x.items.length > 0 && x.items.every((i) => i.done));
    const best = checklists
      .map((x) => ({ name: x.c.name, left: x.items.filter((i) => !i.done).length }))
      .sort((a, b) => a.left - b.left)[0];
    return [
      {
        id: 'application',
        label: 'The application is approved by the NHS login team',
        met: application.status === 'approved',
        how: {
          draft: 'Complete and submit your application.',
          submitted: 'The team is reviewing your application.',
          changes_requested: 'Make the changes the team asked for and submit again.',
          rejected: 'Your application was not approved.',
          approved: '',
        }[application.status],
        waiting: {
          draft: 'Waiting for the partner to submit the application.',
          submitted: "The application is waiting for the team's review (the application gate).",
          changes_requested: 'Waiting for the partner to make the changes asked for and submit again.',
          rejected: 'The application was not approved.',
          approved: '',
        }[application.status],
      },
      {
        id: 'ods_code',
        label: 'The organisation has an ODS code',
        met: Boolean(org.ods_code),
        how: 'Add your ODS code to your organisation.',
        waiting: "Waiting for the partner to add the organisation's ODS code.",
      },
      await has(db, orgId, 'dspt'),
      {
        id: 'sandpit',
        label: 'A sandpit client has completed every journey on its checklist',
        met: Boolean(complete),
        how: best
          ? `Closest: ${best.name}, with ${best.left} ${best.left === 1 ? 'journey' : 'journeys'} to go.`
          : 'Register a sandpit client and work through its journey checklist.',
        waiting: best
          ? `Closest: ${best.name}, with ${best.left} ${best.left === 1 ? 'journey' : 'journeys'} to go.`
          : 'Waiting for the partner to register a sandpit client and work through its journey checklist.',
      },
    ];
  }
  // go_live: a passing report of the full plan, signed by this toolkit, for every vector the service applied for.
  const wanted = application.answers.vectors ?? [];
  const runs = await db
    .selectFrom('conformance_run')
    .select(['client_id', 'report'])
    .where('organisation_id', '=', orgId)
    .where('env', '=', EVIDENCE_ENV.go_live)
    .where('status', '=', 'passed')
    .execute();
  const clients = await listClients(db, EVIDENCE_ENV.go_live, orgId);
  const covered = new Set<string>();
  for (const r of runs) {
    const report = await verifyReport(db, r.report ?? '').catch(() => undefined);
    const client = clients.find((c) => c.clientId === r.client_id);
    const full = client && report && planFor(client).every((t) => report.tests.some((x) => x.id === t.id && x.status === 'pass'));
    if (report?.run.status === 'passed' && full) for (const v of client.vtr) covered.add(v);
  }
  const missing = wanted.filter((v) => !covered.has(v));
  const integration = await requested(db, orgId, 'integration');
  return [
    {
      id: 'integration',
      label: 'Integration access was approved',
      met: await approved(db, orgId, 'integration'),
      how:
        integration === 'pending'
          ? 'Your request for the integration environment is with the NHS login team.'
          : 'Request the integration environment first.',
      waiting:
        integration === 'pending'
          ? "The partner has requested the integration environment: it waits for the team's decision (the integration gate)."
          : integration === 'rejected'
            ? 'The integration request was not approved.'
            : 'Waiting for the partner to request the integration environment.',
    },
    {
      id: 'conformance',
      label: 'A passing conformance report (every test) for an integration client, for every vector in the application',
      met: wanted.length > 0 && missing.length === 0,
      how: wanted.length
        ? `Run the conformance tests on an integration client registered for ${missing.join(', ')}.`
        : 'Choose your vectors of trust in the application.',
      waiting: wanted.length
        ? `Waiting for a passing conformance report of an integration client registered for ${missing.join(', ')}.`
        : 'Waiting for the partner to choose vectors of trust in the application.',
    },
    await has(db, orgId, 'dspt'),
    await has(db, orgId, 'scal'),
    await has(db, orgId, 'connection_agreement'),
    await has(db, orgId, 'dcb0129'),
    await has(db, orgId, 'pen_test'),
  ];
}
