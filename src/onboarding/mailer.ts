/**
 * Outgoing mail. Every message is written to the outbox, so none is ever lost; with SMTP configured the delivery
 * worker (deliveries.ts) then sends it outside the request that wrote it, or records the SMTP server's error and tries
 * again later. Without SMTP, mail stays in the outbox for the team to see.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/index.ts';

export interface Mail {
  to: string;
  subject: string;
  body: string;
}

export interface Mailer {
  /** Writes the message to the outbox (sent soon after by a delivery worker when SMTP is configured). */
  send(mail: Mail): Promise<void>;
  /** Asks this instance's delivery worker to send what is due (mail and chat) soon, without waiting for it. */
  wake(): void;
}

export function createMailer(db: Db, options: { sending: boolean; wake(): void }): Mailer {
  return {
    async send(mail) {
      const now = Date.now();
      await db.insertInto('outbox').values({
        id: randomUUID(), to_address: mail.to, subject: mail.subject, body: mail.body, created_at: now, sent_at: null, error: null, attempts: 0,
        next_attempt_at: options.sending ? now : null, claim: null, claimed_until: null,
      }).execute();
      options.wake();
    },
    wake: options.wake,
  };
}

/** The newest mail first (at most `limit`: the outbox keeps every message ever sent). */
export function outbox(db: Db, to?: string, limit = 200) {
  let q = db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').limit(limit);
  if (to) q = q.where('to_address', '=', to.toLowerCase());
  return q.execute();
}
