/**
 * Messages waiting to be delivered (the mail outbox, chat webhooks) are claimed with a lease before they are sent, so
 * that of several instances one sends each message, and a message whose sender died mid-send is claimed again once
 * its lease lapses (at least once: the message's id travels with it as its idempotency key).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { NotificationTable, OutboxTable } from './schema.ts';

interface Queues {
  outbox: OutboxTable;
  notification: NotificationTable;
}

/** What makes a row due, beyond its due time and an unheld claim. */
const WAITING = { outbox: sql`sent_at is null`, notification: sql`status = 'pending'` } as const;

/**
 * Claims the earliest due message of `queue`, counting the attempt, or answers undefined when none is due. A conditional
 * update: instances at once may pick the same row, and the database gives it to one (PostgreSQL re-checks the condition
 * on the row the other just claimed; SQLite has one writer).
 */
export async function claimDue<Q extends keyof Queues>(
  db: Db,
  queue: Q,
  now: number,
  leaseMs: number,
): Promise<{ row: Queues[Q]; claim: string } | undefined> {
  const claim = randomUUID();
  const due = sql`${WAITING[queue]} and next_attempt_at <= ${now} and (claimed_until is null or claimed_until <= ${now})`;
  // On PostgreSQL the instance that loses a race for a row updates nothing although other rows may still be due: it
  // tries again while any is (each try, some instance has claimed a row, so this ends).
  for (;;) {
    const { rows } = await sql<
      Queues[Q]
    >`update ${sql.table(queue)} set claim = ${claim}, claimed_until = ${now + leaseMs}, attempts = attempts + 1
      where id = (select id from ${sql.table(queue)} where ${due} order by next_attempt_at limit 1) and ${due} returning *`.execute(db);
    if (rows[0]) return { row: rows[0], claim };
    const { rows: left } = await sql`select 1 from ${sql.table(queue)} where ${due} limit 1`.execute(db);
    if (left.length === 0) return undefined;
  }
}

/** Records the outcome of a claimed delivery and lets the claim go; ignored if the claim lapsed and another took it. */
export async function settleClaim<Q extends keyof Queues>(
  db: Db,
  queue: Q,
  id: string,
  claim: string,
  changes: Partial<Queues[Q]>,
): Promise<void> {
  await db
    .updateTable(queue as 'outbox')
    .set({ ...(changes as object), claim: null, claimed_until: null })
    .where('id', '=', id)
    .where('claim', '=', claim)
    .execute();
}
