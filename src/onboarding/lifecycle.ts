/**
 * The partner lifecycle, declared once: the stages of the NHS login integration process (docs: integration-process.md,
 * compare-environments.md), the transitions between them, the gates the team controls on three of them, and the
 * functions from a partner's facts (its application and environment requests) to where it stands. The pipeline,
 * the metrics, the gates and the partner's status all read this module.
 *
 *   Apply --[application gate]--> Discovery --[integration gate]--> Integrate --(go-live requested)--> Go live --[go_live gate]--> Live
 */
import type { EnvironmentName } from '../config/index.ts';
import type { ApplicationTable, EnvironmentRequestTable } from '../storage/index.ts';

export const STAGES = ['Apply', 'Discovery', 'Integrate', 'Go live', 'Live'] as const;
export type Stage = (typeof STAGES)[number];

export type Gate = 'application' | 'integration' | 'go_live';
/** The environments a partner reaches by a request (the sandpit needs none). */
export type RequestedEnv = EnvironmentRequestTable['env'];

/** A gate's decisions, and the status each gives what it decides on (the application, or the environment request). */
export const DECISIONS = { approve: 'approved', reject: 'rejected', request_changes: 'changes_requested' } as const;
export type Decision = keyof typeof DECISIONS;

export interface Transition {
  from: Stage;
  to: Stage;
  /** The gate the team decides it at; null when the partner's own step moves it (asking to go live). */
  gate: Gate | null;
}

export const TRANSITIONS: readonly Transition[] = [
  { from: 'Apply', to: 'Discovery', gate: 'application' },
  { from: 'Discovery', to: 'Integrate', gate: 'integration' },
  { from: 'Integrate', to: 'Go live', gate: null },
  { from: 'Go live', to: 'Live', gate: 'go_live' },
];

/** What each gate decides on: the application, or the partner's request for an environment. */
export const GATE_SUBJECT = { application: 'application', integration: 'integration', go_live: 'live' } as const satisfies
  Record<Gate, 'application' | RequestedEnv>;
/** The gate that decides a request for `env`. */
export const GATE_OF_ENV = { integration: 'integration', live: 'go_live' } as const satisfies Record<RequestedEnv, Gate>;

/**
 * Where each gate's evidence is gathered: the integration gate reads the journey checklists of the sandpit's clients
 * (discovery), go-live the conformance reports of the integration environment's clients (technical conformance).
 */
export const EVIDENCE_ENV = { integration: 'sandpit', go_live: 'integration' } as const satisfies Partial<Record<Gate, EnvironmentName>>;

/** The status in which what a gate decides on waits for the team: a submitted application, a pending request. */
export function awaitsDecision(gate: Gate, status: string | null | undefined): boolean {
  return status === (gate === 'application' ? 'submitted' : 'pending');
}

/** The audit action a decision at a gate is recorded under (the application's decisions are kept nowhere else). */
export function decisionAction(gate: Gate, decision: Decision): string {
  return `gate.${gate}.${decision}`;
}

/** The next gate ahead of a partner at `stage`: the first on the way out of it (Integrate's is go-live, past its request). */
export function gateAhead(stage: Stage): Gate | null {
  for (const t of TRANSITIONS.slice(STAGES.indexOf(stage))) if (t.gate) return t.gate;
  return null;
}

type RequestFacts = Pick<EnvironmentRequestTable, 'env' | 'status' | 'created_at' | 'decided_at'>;

/** What the lifecycle is computed from, for one partner. */
export interface PartnerFacts {
  /** When the organisation was created: a partner with no application has been at Apply since then. */
  createdAt: number;
  application: Pick<ApplicationTable, 'status' | 'created_at' | 'updated_at' | 'submitted_at'> | undefined;
  /** Its environment requests, newest first. */
  requests: readonly RequestFacts[];
  /** When the application gate first approved it (from the audit trail); needed only for when stages were entered. */
  applicationApprovedAt?: number | undefined;
}

export type WaitingOn = 'partner' | 'team';

/** Where a partner stands: its stage, the step within it, whom it waits on and since when, and the gate ahead. */
export interface Position {
  stage: Stage;
  status: string;
  waitingOn: WaitingOn;
  since: number;
  nextGate: Gate | null;
}

const latest = (f: PartnerFacts, env: RequestedEnv) => f.requests.find((r) => r.env === env);
const decided = (r: RequestFacts) => r.decided_at ?? r.created_at;

/** The furthest fact decides: a go-live request, else an integration request, else the application. */
export function positionOf(f: PartnerFacts): Position {
  const at = (stage: Stage, status: string, waitingOn: WaitingOn, since: number, nextGate = gateAhead(stage)): Position =>
    ({ stage, status, waitingOn, since, nextGate });
  const live = latest(f, 'live');
  const integration = latest(f, 'integration');
  const a = f.application;
  if (live?.status === 'approved') return at('Live', 'Live: support', 'partner', decided(live));
  if (live?.status === 'pending') return at('Go live', 'Go-live requested', 'team', live.created_at);
  if (live) {
    return at('Go live', live.status === 'rejected' ? 'Go-live not approved' : 'Go-live: changes requested', 'partner', decided(live));
  }
  if (integration?.status === 'approved') return at('Integrate', 'Technical conformance in integration', 'partner', decided(integration));
  if (integration?.status === 'pending') return at('Discovery', 'Integration access requested', 'team', integration.created_at);
  if (integration) {
    const words = integration.status === 'rejected' ? 'Integration access not approved' : 'Integration access: changes requested';
    return at('Discovery', words, 'partner', decided(integration));
  }
  if (a?.status === 'approved') return at('Discovery', 'Exploring the sandpit', 'partner', a.updated_at);
  if (a?.status === 'submitted') return at('Apply', 'Application awaiting review', 'team', a.submitted_at ?? a.updated_at);
  if (a?.status === 'changes_requested') return at('Apply', 'Application: changes requested', 'partner', a.updated_at);
  // A refused application is the end of the way: no gate ahead.
  if (a?.status === 'rejected') return at('Apply', 'Application not approved', 'partner', a.updated_at, null);
  return at('Apply', a ? 'Application in draft' : 'Not started', 'partner', a?.updated_at ?? f.createdAt);
}

/** When the partner entered each stage it has reached (ms): each transition's moment, read from the same facts. */
export function stageEntries(f: PartnerFacts): Partial<Record<Stage, number>> {
  const approvedAt = (env: RequestedEnv) => f.requests.find((r) => r.env === env && r.status === 'approved')?.decided_at || undefined;
  const live = f.requests.filter((r) => r.env === 'live');
  const entered: Record<Stage, number | undefined> = {
    Apply: f.application?.created_at ?? f.createdAt,
    Discovery: f.applicationApprovedAt || undefined,
    Integrate: approvedAt('integration'),
    'Go live': live.length ? Math.min(...live.map((r) => r.created_at)) : undefined,
    Live: approvedAt('live'),
  };
  return Object.fromEntries(Object.entries(entered).filter(([, at]) => at !== undefined));
}
