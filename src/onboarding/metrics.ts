/**
 * Figures for the team: partners per stage, conversion between stages, median and 90th-percentile time in each
 * stage and from application to live, per cohort (month of application); and per environment, from the
 * protocol record, users registered and verified, logins and error rates per client.
 */
import type { Db } from '../storage/index.ts';
import { pipeline, STAGES, type Stage } from './pipeline.ts';

const DAY = 24 * 3600 * 1000;

/** When each partner entered each stage (ms), read from the application, requests and gate decisions. */
async function stageEntries(db: Db): Promise<{ organisationId: string; cohort: string | null; entered: Partial<Record<Stage, number>> }[]> {
  const [orgs, apps, requests, approvals] = await Promise.all([
    db.selectFrom('organisation').select(['id', 'created_at']).execute(),
    db.selectFrom('application').select(['organisation_id', 'submitted_at', 'created_at']).execute(),
    db.selectFrom('environment_request').select(['organisation_id', 'env', 'status', 'created_at', 'decided_at']).execute(),
    db.selectFrom('audit').select(['subject', 'at']).where('action', '=', 'gate.application.approve').execute(),
  ]);
  return orgs.map((o) => {
    const a = apps.find((x) => x.organisation_id === o.id);
    const approved = approvals.filter((x) => x.subject === o.id).map((x) => x.at).sort()[0];
    const integration = requests.find((r) => r.organisation_id === o.id && r.env === 'integration' && r.status === 'approved');
    const live = requests.filter((r) => r.organisation_id === o.id && r.env === 'live');
    const liveApproved = live.find((r) => r.status === 'approved');
    const entered: Partial<Record<Stage, number>> = { Apply: a?.created_at ?? o.created_at };
    if (approved) entered.Discovery = approved;
    if (integration?.decided_at) entered.Integrate = integration.decided_at;
    if (live.length) entered['Go live'] = Math.min(...live.map((r) => r.created_at));
    if (liveApproved?.decided_at) entered.Live = liveApproved.decided_at;
    const submitted = a?.submitted_at ?? null;
    return { organisationId: o.id, cohort: submitted ? new Date(submitted).toISOString().slice(0, 7) : null, entered };
  });
}

function percentile(values: number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface StageTimes {
  stage: Stage | 'Application to live';
  median: number | null;
  p90: number | null;
  count: number;
}

/** How many partners are at each stage now. */
export async function partnersPerStage(db: Db, now = Date.now()): Promise<{ stage: Stage; count: number }[]> {
  const rows = await pipeline(db, {}, now, { blockers: false });
  return STAGES.map((stage) => ({ stage, count: rows.filter((r) => r.stage === stage).length }));
}

export async function onboardingMetrics(db: Db, now = Date.now()) {
  const [perStage, entries] = await Promise.all([partnersPerStage(db, now), stageEntries(db)]);
  const reached = STAGES.map((stage) => ({ stage, count: entries.filter((e) => e.entered[stage] !== undefined).length }));
  const conversion = reached
    .slice(1)
    .map((r, i) => ({ from: reached[i]!.stage, to: r.stage, rate: reached[i]!.count ? r.count / reached[i]!.count : null }));
  const timesFor = (group: typeof entries): StageTimes[] => [
    ...STAGES.slice(0, -1).map((stage, i) => {
      // Time spent in a stage: until the next stage was entered, or until now for those still in it.
      const spent = group
        .filter((e) => e.entered[stage] !== undefined)
        .map((e) => ((e.entered[STAGES[i + 1]!] ?? now) - e.entered[stage]!) / DAY);
      return { stage, median: percentile(spent, 50), p90: percentile(spent, 90), count: spent.length };
    }),
    (() => {
      const total = group.filter((e) => e.entered.Live !== undefined).map((e) => (e.entered.Live! - e.entered.Apply!) / DAY);
      return { stage: 'Application to live' as const, median: percentile(total, 50), p90: percentile(total, 90), count: total.length };
    })(),
  ];
  const cohorts = [...new Set(entries.map((e) => e.cohort).filter((c): c is string => c !== null))].sort();
  return {
    perStage,
    conversion,
    times: timesFor(entries),
    cohorts: cohorts.map((cohort) => ({
      cohort,
      partners: entries.filter((e) => e.cohort === cohort).length,
      times: timesFor(entries.filter((e) => e.cohort === cohort)),
    })),
  };
}

/** Per environment, from the protocol record (retention: 90 days): users registered and verified, logins and error rates per client. */
export async function environmentMetrics(db: Db, env: string) {
  const [events, clients] = await Promise.all([
    db
      .selectFrom('protocol_event')
      .select(['kind', 'outcome', 'client_id', 'person', 'details'])
      .where('env', '=', env)
      .where('kind', 'in', ['registration', 'uplift', 'token', 'authorize', 'userinfo'])
      .execute(),
    db.selectFrom('client').select(['client_id', 'name']).where('env', '=', env).execute(),
  ]);
  const distinct = (filter: (e: (typeof events)[number]) => boolean) => new Set(events.filter(filter).map((e) => e.person)).size;
  const level = (e: (typeof events)[number]) => (e.details ? (JSON.parse(e.details) as { to?: string }).to : undefined);
  const perClient = clients.map((c) => {
    const own = events.filter((e) => e.client_id === c.client_id);
    const logins = own.filter((e) => e.kind === 'token' && e.outcome === 'ok' && (e.details ?? '').includes('"authorization_code"')).length;
    const errors = own.filter((e) => e.outcome === 'error').length;
    return { clientId: c.client_id, name: c.name, logins, requests: own.length, errorRate: own.length ? errors / own.length : 0 };
  }).filter((c) => c.requests > 0).sort((a, b) => b.logins - a.logins);
  return {
    env,
    registered: distinct((e) => e.kind === 'registration' && e.outcome === 'ok'),
    verifiedP5: distinct((e) => e.kind === 'uplift' && e.outcome === 'ok' && level(e) === 'P5'),
    verifiedP9: distinct((e) => e.kind === 'uplift' && e.outcome === 'ok' && level(e) === 'P9'),
    perClient,
  };
}
