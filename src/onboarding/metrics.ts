/**
 * Figures for the team: partners per stage, conversion between stages, median and 90th-percentile time in each
 * stage and from application to live, per cohort (month of application); and per environment, from the
 * protocol record, users registered and verified, logins and error rates per client.
 */
import type { Db } from '../storage/index.ts';
import { decisionAction, STAGES, stageEntries, type Stage } from './lifecycle.ts';
import { pipeline } from './pipeline.ts';

const DAY = 24 * 3600 * 1000;

/** One partner's cohort (month its application was submitted) and when it entered each stage it reached (ms). */
export interface StageEntry {
  organisationId: string;
  cohort: string | null;
  entered: Partial<Record<Stage, number>>;
}

/** When each partner entered each stage, from the application, requests and the application gate's approvals. */
async function partnerEntries(db: Db): Promise<StageEntry[]> {
  const [orgs, apps, requests, approvals] = await Promise.all([
    db.selectFrom('organisation').select(['id', 'created_at']).execute(),
    db.selectFrom('application').select(['organisation_id', 'status', 'submitted_at', 'created_at', 'updated_at']).execute(),
    db.selectFrom('environment_request').select(['organisation_id', 'env', 'status', 'created_at', 'decided_at'])
      .orderBy('created_at', 'desc').execute(),
    db.selectFrom('audit').select(['subject', 'at']).where('action', '=', decisionAction('application', 'approve')).execute(),
  ]);
  return orgs.map((o) => {
    const application = apps.find((x) => x.organisation_id === o.id);
    const approved = approvals.filter((x) => x.subject === o.id).map((x) => x.at);
    const entered = stageEntries({
      createdAt: o.created_at, application, requests: requests.filter((r) => r.organisation_id === o.id),
      applicationApprovedAt: approved.length ? Math.min(...approved) : undefined,
    });
    const submitted = application?.submitted_at ?? null;
    return { organisationId: o.id, cohort: submitted ? new Date(submitted).toISOString().slice(0, 7) : null, entered };
  });
}

/** The value at the p-th percentile (nearest rank); null for no values. */
export function percentile(values: number[], p: number): number | null {
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

/** Of the partners that reached each stage, the share that reached the next (null when none reached it). */
export function conversion(entries: StageEntry[]): { from: Stage; to: Stage; rate: number | null }[] {
  const reached = STAGES.map((stage) => ({ stage, count: entries.filter((e) => e.entered[stage] !== undefined).length }));
  return reached.slice(1).map((r, i) => {
    const from = reached[i]!;
    return { from: from.stage, to: r.stage, rate: from.count ? r.count / from.count : null };
  });
}

/** Days spent in each stage (until the next was entered, or until now for those still in it), and from application to live. */
export function stageTimes(group: StageEntry[], now: number): StageTimes[] {
  return [
    ...STAGES.slice(0, -1).map((stage, i) => {
      const spent = group.filter((e) => e.entered[stage] !== undefined)
        .map((e) => ((e.entered[STAGES[i + 1]!] ?? now) - e.entered[stage]!) / DAY);
      return { stage, median: percentile(spent, 50), p90: percentile(spent, 90), count: spent.length };
    }),
    (() => {
      const total = group.filter((e) => e.entered.Live !== undefined).map((e) => (e.entered.Live! - e.entered.Apply!) / DAY);
      return { stage: 'Application to live' as const, median: percentile(total, 50), p90: percentile(total, 90), count: total.length };
    })(),
  ];
}

/** The stage times of each cohort (month of application), oldest first; partners not yet submitted are in none. */
export function cohorts(entries: StageEntry[], now: number): { cohort: string; partners: number; times: StageTimes[] }[] {
  const months = [...new Set(entries.map((e) => e.cohort).filter((c): c is string => c !== null))].sort();
  return months.map((cohort) => {
    const group = entries.filter((e) => e.cohort === cohort);
    return { cohort, partners: group.length, times: stageTimes(group, now) };
  });
}

export async function onboardingMetrics(db: Db, now = Date.now()) {
  const [perStage, entries] = await Promise.all([partnersPerStage(db, now), partnerEntries(db)]);
  return { perStage, conversion: conversion(entries), times: stageTimes(entries, now), cohorts: cohorts(entries, now) };
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
