/**
 * A partner's own view of where it stands (the portal's dashboard): its stage of the process, each gate's state
 * and the team's latest decision there with its reason and date, and what the next gate still needs, by the same
 * rules the team's pipeline and gates use (lifecycle.ts, readiness.ts, gates.ts). The team's own notes on the
 * criteria it records are not shown: the partner sees only whether the team has still to do them.
 */
import type { Db } from '../storage/index.ts';
import { getApplication, type Application } from './applications.ts';
import { awaitsDecision, decisionAction, DECISIONS, GATE_SUBJECT, type Decision, type Stage } from './lifecycle.ts';
import { pipeline } from './pipeline.ts';
import { GATES, readiness, RECORDED, type Criterion, type Gate } from './readiness.ts';

export interface GateDecisionView {
  decision: Decision;
  reason: string;
  at: number;
}

export interface PartnerGate {
  gate: Gate;
  title: string;
  /** The application's status, or the latest request's ('pending' while the team decides); null if none yet. */
  status: Application['status'] | 'pending' | null;
  /** When it was submitted or requested. */
  since: number | null;
  /** The team's latest decision at this gate (an earlier one while a new request waits), if any. */
  decision: GateDecisionView | null;
}

export interface NextStep {
  gate: Gate;
  title: string;
  /** The team is deciding: nothing is needed from the partner. */
  awaiting: boolean;
  /** What the partner still has to do (the gate's computed criteria not met). */
  missing: Criterion[];
  /** Checks the team still has to record before it can approve (labels only). */
  withTeam: string[];
  /** Everything the partner can do is done, and no request waits: the partner may ask (request pages). */
  mayRequest: boolean;
}

export interface PartnerStatus {
  stage: Stage;
  status: string;
  waitingOn: 'partner' | 'team';
  since: number;
  gates: PartnerGate[];
  /** Null once live, or when the application was not approved. */
  next: NextStep | null;
}

const RESUBMIT = 'Make the changes the NHS login team asked for, then submit your application again.';
const DECISION_OF = Object.fromEntries(Object.entries(DECISIONS).map(([d, status]) => [status, d as Decision]));

/** The application's decisions are in the audit trail (gates.ts appends decisionAction('application', …) with the reason). */
async function applicationDecision(db: Db, orgId: string): Promise<GateDecisionView | null> {
  const actions = (Object.keys(DECISIONS) as Decision[]).map((d) => decisionAction('application', d));
  const rows = await db.selectFrom('audit').select(['action', 'at', 'details']).where('subject', '=', orgId)
    .where('action', 'in', actions).orderBy('seq', 'desc').limit(1).execute();
  const row = rows[0];
  if (!row) return null;
  const details = JSON.parse(row.details) as { reason?: unknown };
  const decision = (Object.keys(DECISIONS) as Decision[]).find((d) => decisionAction('application', d) === row.action)!;
  return { decision, reason: typeof details.reason === 'string' ? details.reason : '', at: row.at };
}

/** The team's latest decision at `gate`. */
export async function latestDecision(db: Db, orgId: string, gate: Gate): Promise<GateDecisionView | null> {
  const subject = GATE_SUBJECT[gate];
  if (subject === 'application') return applicationDecision(db, orgId);
  const row = await db.selectFrom('environment_request').select(['status', 'reason', 'decided_at', 'created_at'])
    .where('organisation_id', '=', orgId).where('env', '=', subject).where('status', '!=', 'pending')
    .orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  return row ? { decision: DECISION_OF[row.status]!, reason: row.reason ?? '', at: row.decided_at ?? row.created_at } : null;
}

async function gateState(db: Db, orgId: string, gate: Gate, application: Application & { exists: boolean }): Promise<PartnerGate> {
  const decision = await latestDecision(db, orgId, gate);
  const subject = GATE_SUBJECT[gate];
  if (subject === 'application') {
    return { gate, title: GATES[gate], status: application.exists ? application.status : null, since: application.submittedAt, decision };
  }
  const request = await db.selectFrom('environment_request').select(['status', 'created_at'])
    .where('organisation_id', '=', orgId).where('env', '=', subject).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  return { gate, title: GATES[gate], status: request?.status ?? null, since: request?.created_at ?? null, decision };
}

export async function partnerStatus(db: Db, orgId: string): Promise<PartnerStatus> {
  const [row] = await pipeline(db, { organisationId: orgId }, Date.now(), { blockers: false });
  if (!row) throw new Error(`no organisation ${orgId}`);
  const application = await getApplication(db, orgId);
  const applied = await db.selectFrom('application').select('organisation_id').where('organisation_id', '=', orgId).executeTakeFirst();
  const exists = Boolean(applied);
  const gates = await Promise.all((Object.keys(GATES) as Gate[]).map((g) => gateState(db, orgId, g, { ...application, exists })));
  let next: NextStep | null = null;
  if (row.nextGate) {
    const gate = row.nextGate;
    const state = gates.find((g) => g.gate === gate)!;
    const awaiting = awaitsDecision(gate, state.status);
    const changes = gate === 'application' && application.status === 'changes_requested';
    const missing = awaiting ? [] : (await readiness(db, orgId, gate)).filter((c) => !c.met)
      .map((c) => (changes && c.id === 'submitted' ? { ...c, how: RESUBMIT } : c));
    const recorded = await db.selectFrom('gate_criterion').select(['criterion', 'met'])
      .where('organisation_id', '=', orgId).where('gate', '=', gate).execute();
    const withTeam = RECORDED[gate].filter((c) => !recorded.some((r) => r.criterion === c.id && r.met === 1)).map((c) => c.label);
    // The application is submitted from its own form; the requests once every criterion is met.
    const mayRequest = gate !== 'application' && !awaiting && missing.length === 0;
    next = { gate, title: GATES[gate], awaiting, missing, withTeam, mayRequest };
  }
  return { stage: row.stage, status: row.status, waitingOn: row.waitingOn, since: row.since, gates, next };
}
