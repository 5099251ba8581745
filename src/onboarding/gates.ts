/**
 * The gates the NHS login team controls: the application (Partner Integration Board), access to the
 * integration environment, and go-live. Each has criteria — computed from data (readiness.ts) or recorded by
 * a delivery manager — and a decision: approve, reject or request changes, always with a reason. Approving
 * with a computed criterion unmet needs a written justification for it. Everything is audited and the partner
 * (and the team) told.
 */
import type { Db } from '../storage/index.ts';
import { appendAudit } from './audit.ts';
import { OnboardingError } from './errors.ts';
import { notify, type NotifyDeps } from './notify.ts';
import { awaitsDecision, decisionAction, DECISIONS, GATE_SUBJECT, type Decision } from './lifecycle.ts';
import { GATES, readiness, RECORDED, type Criterion, type Gate } from './readiness.ts';
import { latestRequest } from './requests.ts';

export interface RecordedCriterion {
  id: string;
  label: string;
  met: boolean;
  note: string | null;
  recordedBy: string | null;
  recordedAt: number | null;
}

export interface GateView {
  gate: Gate;
  title: string;
  /** The status of what the gate decides on (the application, or the environment request); null if none yet. */
  status: string | null;
  /** Waiting for the team's decision. */
  awaiting: boolean;
  computed: Criterion[];
  recorded: RecordedCriterion[];
}

export function isGate(v: unknown): v is Gate {
  return typeof v === 'string' && Object.hasOwn(GATES, v);
}

async function subjectStatus(db: Db, orgId: string, gate: Gate): Promise<string | null> {
  const subject = GATE_SUBJECT[gate];
  if (subject === 'application')
    return (await db.selectFrom('application').select('status').where('organisation_id', '=', orgId).executeTakeFirst())?.status ?? null;
  return (await latestRequest(db, orgId, subject))?.status ?? null;
}

export async function gateView(db: Db, orgId: string, gate: Gate): Promise<GateView> {
  const [status, computed, rows] = await Promise.all([
    subjectStatus(db, orgId, gate),
    readiness(db, orgId, gate),
    db.selectFrom('gate_criterion').selectAll().where('organisation_id', '=', orgId).where('gate', '=', gate).execute(),
  ]);
  const recorded = RECORDED[gate].map((c) => {
    const r = rows.find((x) => x.criterion === c.id);
    return { ...c, met: r?.met === 1, note: r?.note ?? null, recordedBy: r?.recorded_by ?? null, recordedAt: r?.recorded_at ?? null };
  });
  return { gate, title: GATES[gate], status, awaiting: awaitsDecision(gate, status), computed, recorded };
}

/** A delivery manager records a criterion data cannot decide (met or not, with a note). */
export async function recordCriterion(
  db: Db,
  actor: { email: string },
  orgId: string,
  gate: unknown,
  criterion: string,
  met: boolean,
  noteRaw: string,
): Promise<void> {
  if (!isGate(gate)) throw new OnboardingError('not_found', 'There is no such gate');
  if (!RECORDED[gate].some((c) => c.id === criterion))
    throw new OnboardingError('not_found', 'There is no such criterion at this gate', 'criterion');
  const note = noteRaw.trim();
  if (note.length > 1000) throw new OnboardingError('invalid_text', 'Keep the note under 1000 characters', 'note');
  const row = { met: met ? 1 : 0, note, recorded_by: actor.email, recorded_at: Date.now() };
  await db.insertInto('gate_criterion').values({ organisation_id: orgId, gate, criterion, ...row })
    .onConflict((oc) => oc.columns(['organisation_id', 'gate', 'criterion']).doUpdateSet(row)).execute();
  await appendAudit(db, { actor: actor.email, action: 'gate.criterion', subject: orgId, details: { gate, criterion, met, note } });
}

const WORDS: Record<Gate, Record<Decision, string>> = {
  application: {
    approve: 'Your NHS login application has been approved',
    reject: 'Your NHS login application has not been approved',
    request_changes: 'Your NHS login application needs changes',
  },
  integration: {
    approve: 'You can now use the NHS login integration environment',
    reject: 'Your request for the integration environment was not approved',
    request_changes: 'Your request for the integration environment needs changes',
  },
  go_live: {
    approve: 'You can now go live with NHS login',
    reject: 'Your go-live request was not approved',
    request_changes: 'Your go-live request needs changes',
  },
};
/** The same decisions in the team's words: of the partner's application or request, by whom. */
const TEAM_WORDS: Record<Gate, Record<Decision, string>> = {
  application: {
    approve: 'application approved',
    reject: 'application not approved',
    request_changes: 'changes asked for to the application',
  },
  integration: {
    approve: 'integration access approved',
    reject: 'integration request not approved',
    request_changes: 'changes asked for to the integration request',
  },
  go_live: {
    approve: 'go-live approved',
    reject: 'go-live request not approved',
    request_changes: 'changes asked for to the go-live request',
  },
};

/**
 * Decides a gate. `overrides` maps unmet computed criteria to the written justification for approving anyway;
 * recorded criteria must be recorded as met before approval.
 */
export async function decideGate(
  d: NotifyDeps,
  decider: { email: string },
  orgId: string,
  gate: unknown,
  decisionRaw: string,
  reasonRaw: string,
  overrides: Record<string, string> = {},
): Promise<void> {
  if (!isGate(gate)) throw new OnboardingError('not_found', 'There is no such gate');
  if (!Object.hasOwn(DECISIONS, decisionRaw))
    throw new OnboardingError('invalid_decision', 'Choose approve, reject or request changes', 'decision');
  const decision = decisionRaw as Decision;
  const reason = reasonRaw.trim();
  if (!reason || reason.length > 2000)
    throw new OnboardingError('invalid_text', 'Give the reason for the decision (the partner will see it)', 'reason');
  const view = await gateView(d.db, orgId, gate);
  if (!view.awaiting)
    throw new OnboardingError(
      'not_ready',
      gate === 'application' ? 'Only a submitted application can be decided' : 'There is no request waiting for a decision at this gate',
    );
  const justified: Record<string, string> = {};
  if (decision === 'approve') {
    for (const c of view.computed.filter((x) => !x.met)) {
      const why = (overrides[c.id] ?? '').trim();
      if (!why)
        throw new OnboardingError(
          'not_ready',
          `"${c.label}" is not met: write why you approve anyway, or do not approve yet`,
          `override-${c.id}`,
        );
      justified[c.id] = why.slice(0, 2000);
    }
    const unrecorded = view.recorded.filter((c) => !c.met);
    if (unrecorded.length)
      throw new OnboardingError(
        'not_ready',
        `Record first: ${unrecorded.map((c) => c.label.toLowerCase()).join('; ')}`,
        `criterion-${unrecorded[0]!.id}`,
      );
  }
  const status = DECISIONS[decision];
  const now = Date.now();
  const subject = GATE_SUBJECT[gate];
  if (subject === 'application') {
    await d.db
      .updateTable('application')
      .set({ status, updated_at: now })
      .where('organisation_id', '=', orgId)
      .where('status', '=', 'submitted')
      .execute();
  } else {
    await d.db
      .updateTable('environment_request')
      .set({ status, decided_at: now, reason })
      .where('organisation_id', '=', orgId)
      .where('env', '=', subject)
      .where('status', '=', 'pending')
      .execute();
  }
  for (const [criterion, justification] of Object.entries(justified)) {
    await appendAudit(d.db, { actor: decider.email, action: 'gate.override', subject: orgId, details: { gate, criterion, justification } });
  }
  await appendAudit(d.db, {
    actor: decider.email,
    action: decisionAction(gate, decision),
    subject: orgId,
    details: { reason, ...(Object.keys(justified).length ? { overrides: justified } : {}) },
  });
  const next = { application: 'application', integration: 'request-integration', go_live: 'request-go-live' }[gate];
  const org = (await d.db.selectFrom('organisation').select('name').where('id', '=', orgId).executeTakeFirst())?.name ?? orgId;
  const teamWords = TEAM_WORDS[gate][decision];
  await notify(d, {
    organisationId: orgId, to: 'both', subject: WORDS[gate][decision],
    body: `${WORDS[gate][decision]}.\n\nReason: ${reason}\n\nSee it in the portal: ${d.publicUrl}/portal/organisations/${orgId}/${next}\n`,
    team: {
      subject: `${org}: ${teamWords}`,
      body: `${org}: ${teamWords} by ${decider.email}.\n\nReason: ${reason}\n\nIn ` +
        `the console: ${d.publicUrl}/console/partners/${orgId}#gates\n`,
    },
  });
}
