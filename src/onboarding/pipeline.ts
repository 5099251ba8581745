/**
 * The pipeline: every partner's stage of the NHS login process (apply, discovery, integrate, go live, live),
 * how long it has been there, whom it is waiting on, what its next gate still needs, and its delivery manager.
 */
import type { Db } from '../storage/index.ts';
import { readiness, type Gate } from './readiness.ts';

export const STAGES = ['Apply', 'Discovery', 'Integrate', 'Go live', 'Live'] as const;
export type Stage = (typeof STAGES)[number];

/** Waiting this long at one step counts as stuck (a step with a gate ahead: a live partner, or a refused one, is not stuck). */
export const STUCK_MS = 14 * 24 * 3600 * 1000;

export interface PipelineRow {
  organisationId: string;
  name: string;
  odsCode: string | null;
  stage: Stage;
  status: string;
  waitingOn: 'partner' | 'team';
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

/** `blockers: false` skips what the next gate needs (it reads each partner's evidence): for counting stages. */
export async function pipeline(
  db: Db,
  filter: PipelineFilter = {},
  now = Date.now(),
  opts: { blockers?: boolean } = {},
): Promise<PipelineRow[]> {
  const one = filter.organisationId;
  const [orgs, applications, requests, team] = await Promise.all([
    db
      .selectFrom('organisation')
      .selectAll()
      .$if(one !== undefined, (q) => q.where('id', '=', one!))
      .execute(),
    db
      .selectFrom('application')
      .select(['organisation_id', 'status', 'updated_at', 'submitted_at'])
      .$if(one !== undefined, (q) => q.where('organisation_id', '=', one!))
      .execute(),
    db
      .selectFrom('environment_request')
      .select(['organisation_id', 'env', 'status', 'created_at', 'decided_at'])
      .$if(one !== undefined, (q) => q.where('organisation_id', '=', one!))
      .orderBy('created_at', 'desc')
      .execute(),
    db.selectFrom('team_user').select(['id', 'email']).execute(),
  ]);
  const app = new Map(applications.map((a) => [a.organisation_id, a]));
  const latest = (orgId: string, env: string) => requests.find((r) => r.organisation_id === orgId && r.env === env);
  const rows = orgs.map((o): Omit<PipelineRow, 'blockers'> => {
    const a = app.get(o.id);
    const integration = latest(o.id, 'integration');
    const live = latest(o.id, 'live');
    const at = (step: { stage: Stage; status: string; waitingOn: 'partner' | 'team'; since: number; nextGate: Gate | null }) => step;
    const step =
      live?.status === 'approved'
        ? at({ stage: 'Live', status: 'Live: support', waitingOn: 'partner', since: live.decided_at ?? live.created_at, nextGate: null })
        : live?.status === 'pending'
          ? at({ stage: 'Go live', status: 'Go-live requested', waitingOn: 'team', since: live.created_at, nextGate: 'go_live' })
          : live
            ? at({
                stage: 'Go live',
                status: live.status === 'rejected' ? 'Go-live not approved' : 'Go-live: changes requested',
                waitingOn: 'partner',
                since: live.decided_at ?? live.created_at,
                nextGate: 'go_live',
              })
            : integration?.status === 'approved'
              ? at({
                  stage: 'Integrate',
                  status: 'Technical conformance in integration',
                  waitingOn: 'partner',
                  since: integration.decided_at ?? integration.created_at,
                  nextGate: 'go_live',
                })
              : integration?.status === 'pending'
                ? at({
                    stage: 'Discovery',
                    status: 'Integration access requested',
                    waitingOn: 'team',
                    since: integration.created_at,
                    nextGate: 'integration',
                  })
                : integration
                  ? at({
                      stage: 'Discovery',
                      status:
                        integration.status === 'rejected' ? 'Integration access not approved' : 'Integration access: changes requested',
                      waitingOn: 'partner',
                      since: integration.decided_at ?? integration.created_at,
                      nextGate: 'integration',
                    })
                  : a?.status === 'approved'
                    ? at({
                        stage: 'Discovery',
                        status: 'Exploring the sandpit',
                        waitingOn: 'partner',
                        since: a.updated_at,
                        nextGate: 'integration',
                      })
                    : a?.status === 'submitted'
                      ? at({
                          stage: 'Apply',
                          status: 'Application awaiting review',
                          waitingOn: 'team',
                          since: a.submitted_at ?? a.updated_at,
                          nextGate: 'application',
                        })
                      : a?.status === 'changes_requested'
                        ? at({
                            stage: 'Apply',
                            status: 'Application: changes requested',
                            waitingOn: 'partner',
                            since: a.updated_at,
                            nextGate: 'application',
                          })
                        : a?.status === 'rejected'
                          ? at({
                              stage: 'Apply',
                              status: 'Application not approved',
                              waitingOn: 'partner',
                              since: a.updated_at,
                              nextGate: null,
                            })
                          : at({
                              stage: 'Apply',
                              status: a ? 'Application in draft' : 'Not started',
                              waitingOn: 'partner',
                              since: a?.updated_at ?? o.created_at,
                              nextGate: 'application',
                            });
    return {
      organisationId: o.id, name: o.name, odsCode: o.ods_code, ...step, stuck: step.nextGate !== null && now - step.since > STUCK_MS,
      deliveryManager: team.find((t) => t.id === o.delivery_manager)?.email ?? null,
    };
  });
  const shown = rows
    .filter(
      (r) =>
        (!filter.stage || r.stage === filter.stage) &&
        (!filter.waitingOn || r.waitingOn === filter.waitingOn) &&
        (!filter.manager || (filter.manager === 'none' ? !r.deliveryManager : r.deliveryManager === filter.manager)) &&
        (!filter.stuck || r.stuck),
    )
    .sort((x, y) => (x.waitingOn === y.waitingOn ? x.since - y.since : x.waitingOn === 'team' ? -1 : 1));
  // What the next gate needs reads each partner's evidence: only for the partners shown.
  return Promise.all(
    shown.map(async (r) => ({
      ...r,
      blockers:
        r.nextGate && opts.blockers !== false
          ? (await readiness(db, r.organisationId, r.nextGate)).filter((c) => !c.met).map((c) => c.label)
          : [],
    })),
  );
}
