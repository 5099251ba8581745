/**
 * Migration 0033: faults in sequence (issue 16 §4). A client's armed fault was one kind for N responses, JSON
 * {kind, remaining, armedAt}; it becomes an ordered list of steps (storage/clients.ts FaultSequenceRecord). A fault
 * armed before the upgrade carries on as a sequence of one step.
 */
import type { Kysely, Migration } from 'kysely';

export const FAULT_SEQUENCES: Migration = {
  async up(db: Kysely<any>) {
    const rows = (await db.selectFrom('client').select(['env', 'client_id', 'fault']).where('fault', 'is not', null).execute()) as
      { env: string; client_id: string; fault: string }[];
    for (const row of rows) {
      const old = JSON.parse(row.fault) as { kind: string; remaining: number | null; armedAt: number };
      const step = { kind: old.kind, count: old.remaining, seconds: null, ms: null, fired: 0, startedAt: old.armedAt };
      await db.updateTable('client').set({ fault: JSON.stringify({ steps: [step], armedAt: old.armedAt }) })
        .where('env', '=', row.env).where('client_id', '=', row.client_id).execute();
    }
  },
};
