/** Reading the mail outbox: every message the toolkit ever queued, kept after it is sent (onboarding/mailer.ts writes it). */
import type { Db } from './db.ts';

/** The newest mail first (at most `limit`), optionally only that to one address. */
export function outboxMessages(db: Db, options: { to?: string | undefined; limit: number }) {
  let q = db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(options.limit);
  if (options.to) q = q.where('to_address', '=', options.to.toLowerCase());
  return q.execute();
}

export function outboxMessage(db: Db, id: string) {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
}
