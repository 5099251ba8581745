/**
 * The pipeline: every partner's stage of the NHS login process (apply, discovery, integrate, go live, live),
 * how long it has been there, whom it is waiting on, what its next gate still needs, and its delivery manager.
 * Where a partner stands is the lifecycle's (lifecycle.ts); this module reads the facts, filters and orders.
 */
import type { Db } from '../storage/index.ts';
import { positionOf, type Gate, type Position, type Stage, type WaitingOn } from './lifecycle.ts';
import { readiness } from './readiness.ts';

/** Waiting this long at one step counts as stuck (a step with a gate ahead: a live partner, or a refused one, is not stuck). */
export const STUCK_MS = 14 * 24 * 3600 * 1000;

export interface PipelineRow {
  organisationId: string;
  name: string;
  odsCode: string | null;
  stage: Stage;
  status: string;
  waitingOn: WaitingOn;
  since: number;
  /** Waiting this long for its next gate; never at a step with none ahead (live, or the application not approved). */
  stuck: boolean;
  nextGate: Gate | null;
  /** What the next gate's computed criteria still need. */
  blockers: string[];
  deliveryManager: string | null;
}

export interface PipelineFilter {
  /** One partner only (its own dashboard). */
  organisationId?: string | undefined;
  stage?: string | undefined;
  waitingOn?: string | undefined;
  manager?: string | undefined;
  stuck?: boolean | undefined;
}

type Row = Omit<PipelineRow, 'blockers'>;

/** Stuck: a gate is ahead and the partner has been at this step longer than STUCK_MS. */
export function isStuck(p: Position, now: number): boolean {
  return p.nextGate !== null && now - p.since > STUCK_MS;
}

/** Whether a row is shown by the filter ('none' as the manager: partners without one). */
export function matches(r: Row, filter: PipelineFilter): boolean {
  const manager = !filter.manager || (filter.manager === 'none' ? !r.deliveryManager : r.deliveryManager === filter.manager);
  return (!filter.stage || r.stage === filter.stage) && (!filter.waitingOn || r.waitingOn === filter.waitingOn) && manager
    && (!filter.stuck || r.stuck);
}

/** The team's work first, then the partners'; within each, who has waited longest first. */
export function byUrgency(x: Row, y: Row): number {
  return x.waitingOn === y.waitingOn ? x.since - y.since : x.waitingOn === 'team' ? -1 : 1;
}

/** `blockers: false` skips what the next gate needs (it reads each partner's evidence): for counting stages. */
export async function pipeline(
  db: Db, filter: PipelineFilter = {}, now = Date.now(), opts: { blockers?: boolean } = {},
): Promise<PipelineRow[]> {
  const one = filter.organisationId;
  const [orgs, applications, requests, team] = await Promise.all([
    db.selectFrom('organisation').selectAll().$if(one !== undefined, (q) => q.where('id', '=', one!)).execute(),
    db.selectFrom('application').select(['organisation_id', 'status', 'created_at', 'updated_at', 'submitted_at'])
      .$if(one !== undefined, (q) => q.where('organisation_id', '=', one!)).execute(),
    db.selectFrom('environment_request').select(['organisation_id', 'env', 'status', 'created_at', 'decided_at'])
      .$if(one !== undefined, (q) => q.where('organisation_id', '=', one!)).orderBy('created_at', 'desc').execute(),
    db.selectFrom('team_user').select(['id', 'email']).execute(),
  ]);
  const app = new Map(applications.map((a) => [a.organisation_id, a]));
  const rows = orgs.map((o): Row => {
    const own = requests.filter((r) => r.organisation_id === o.id);
    const step = positionOf({ createdAt: o.created_at, application: app.get(o.id), requests: own });
    return {
      organisationId: o.id, name: o.name, odsCode: o.ods_code, ...step, stuck: isStuck(step, now),
      deliveryManager: team.find((t) => t.id === o.delivery_manager)?.email ?? null,
    };
  });
  const shown = rows.filter((r) => matches(r, filter)).sort(byUrgency);
  // What the next gate needs reads each partner's evidence: only for the partners shown.
  const blockers = async (gate: Gate | null, orgId: string) =>
    (gate && opts.blockers !== false ? (await readiness(db, orgId, gate)).filter((c) => !c.met).map((c) => c.label) : []);
  return Promise.all(shown.map(async (r) => ({ ...r, blockers: await blockers(r.nextGate, r.organisationId) })));
}
