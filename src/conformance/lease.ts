/**
 * A conformance run belongs to the process that executes it, by a lease in the run's row: the executor claims
 * the run, renews the lease while it drives the browser (a heartbeat), and writes results only while it holds
 * it. Every instance sweeps: a run whose lease lapsed (its process was killed, its machine lost) is claimed by
 * the sweeper and ended as an error, so the client may start again within a minute. Each step is one
 * conditional update on the row, so instances on one PostgreSQL never both win; nothing in a process's memory
 * decides who holds a run.
 *
 * A lapsed run is ended, not taken over: what was under way lived in the dead process's browser (a half-done
 * journey, the relying party's session in it), the requester may be gone with it (a CLI run's terminal, exit
 * code and JUnit file), and a takeover would start Chromium on an instance that never accepted the run under
 * its own limit (scheduler.ts). Ending it tells the truth at once and frees the client.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder } from 'kysely';
import type { Db, Schema } from '../storage/index.ts';

export interface LeaseTiming {
  /** How long a claim lasts unless renewed. */
  ms: number;
  /** How often the holder renews it (three chances within one lease). */
  renewEveryMs: number;
}

/** A dead holder's run lapses within 15 s and the next sweep (every 5 s) ends it: well within a minute. */
export const LEASE: LeaseTiming = { ms: 15_000, renewEveryMs: 5_000 };
export const SWEEP_EVERY_MS = 5_000;
/** Runs recorded before leases (migration 0021) have none: they keep the old rule, ended ten minutes after they started. */
const UNLEASED_AFTER_MS = 10 * 60_000;

/** Names one execution of a run (or one sweep) for the row: the host and process, for an operator reading it. */
export function newHolder(): string {
  return `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** The executor's claim of a run no one holds yet (createRun records it unclaimed). False if another has it. */
export async function claimRun(db: Db, runId: string, holder: string, lease: LeaseTiming): Promise<boolean> {
  const row = await db.updateTable('conformance_run').set({ lease_holder: holder, lease_until: Date.now() + lease.ms })
    .where('id', '=', runId).where('status', '=', 'running').where('lease_holder', 'is', null).returning('id').executeTakeFirst();
  return row !== undefined;
}

/** One heartbeat: false once the run is no longer this holder's (another instance ended it). */
export async function renewLease(db: Db, runId: string, holder: string, lease: LeaseTiming): Promise<boolean> {
  const row = await db.updateTable('conformance_run').set({ lease_until: Date.now() + lease.ms })
    .where('id', '=', runId).where('status', '=', 'running').where('lease_holder', '=', holder).returning('id').executeTakeFirst();
  return row !== undefined;
}

/**
 * Renews the lease every `renewEveryMs` until stopped; calls `lost` once the run is no longer this holder's. A
 * renewal the database did not answer is tried again at the next beat (the lease outlasts two): if the
 * database stays away longer, another instance ends the run once it is back, and the next beat finds it lost.
 */
export function heartbeat(db: Db, runId: string, holder: string, lease: LeaseTiming, lost: () => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const beat = () => {
    timer = setTimeout(async () => {
      const held = await renewLease(db, runId, holder, lease).catch(() => true);
      if (stopped) return;
      if (!held) {
        stopped = true;
        return lost();
      }
      beat();
    }, lease.renewEveryMs);
  };
  beat();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/**
 * Claims every running run whose lease lapsed, for `holder` to end; returns their ids. Looks first, so that a
 * sweep that finds nothing writes nothing (on SQLite a write takes the database's one write lock); the claim
 * itself checks the lapse again, so of sweepers at once only one gets each run.
 */
export async function claimLapsed(db: Db, holder: string, lease: LeaseTiming): Promise<string[]> {
  const now = Date.now();
  const lapsed = (eb: ExpressionBuilder<Schema, 'conformance_run'>) => eb.and([
    eb('status', '=', 'running'),
    eb.or([eb('lease_until', '<', now), eb.and([eb('lease_until', 'is', null), eb('created_at', '<', now - UNLEASED_AFTER_MS)])]),
  ]);
  const seen = await db.selectFrom('conformance_run').select('id').where(lapsed).execute();
  if (!seen.length) return [];
  const rows = await db.updateTable('conformance_run').set({ lease_holder: holder, lease_until: now + lease.ms })
    .where('id', 'in', seen.map((r) => r.id)).where(lapsed).returning('id').execute();
  return rows.map((r) => r.id);
}

/** A condition on a run's result rows: the run is still running under `holder`'s lease. */
export function heldBy(runId: string, holder: string) {
  return (eb: ExpressionBuilder<Schema, 'conformance_result'>) =>
    eb.exists(eb.selectFrom('conformance_run').select('id')
      .where('id', '=', runId).where('status', '=', 'running').where('lease_holder', '=', holder));
}

