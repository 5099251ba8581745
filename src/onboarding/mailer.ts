/**
 * Outgoing mail. Every message is written to the outbox first, so none is ever lost; with SMTP configured it
 * is then handed to the server (nodemailer) and marked sent, or its error recorded for the team to see.
 */
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { Db } from '../storage/index.ts';

export interface Mail {
  to: string;
  subject: string;
  body: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
  /** Sends again what the SMTP server refused, a few times with growing gaps; returns how many were sent. */
  retry(now?: number): Promise<number>;
}

/** Attempts per message before it is left as failed (still in the outbox, with its error, for the team). */
export const MAIL_ATTEMPTS = 5;
const RETRY_BASE_MS = 30_000;

export function createMailer(db: Db, options: { smtpUrl: string | undefined; from: string }): Mailer {
  const transport = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined;
  return {
    async send(mail) {
      const id = randomUUID();
      await db.insertInto('outbox').values({ id, to_address: mail.to, subject: mail.subject, body: mail.body, created_at: Date.now(), sent_at: null, error: null, attempts: transport ? 1 : 0 }).execute();
      if (transport) await deliver(id, mail);
    },
    async retry(now = Date.now()) {
      if (!transport) return 0;
      const due = await db.selectFrom('outbox').selectAll().where('sent_at', 'is', null).where('error', 'is not', null).where('attempts', '<', MAIL_ATTEMPTS).execute();
      let sent = 0;
      for (const m of due.filter((m) => now - m.created_at >= RETRY_BASE_MS * 2 ** (m.attempts - 1))) {
        await db.updateTable('outbox').set({ attempts: m.attempts + 1 }).where('id', '=', m.id).execute();
        if (await deliver(m.id, { to: m.to_address, subject: m.subject, body: m.body })) sent++;
      }
      return sent;
    },
  };

  async function deliver(id: string, mail: Mail): Promise<boolean> {
    try {
      await transport!.sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.body });
      await db.updateTable('outbox').set({ sent_at: Date.now(), error: null }).where('id', '=', id).execute();
      return true;
    } catch (e) {
      await db.updateTable('outbox').set({ error: (e as Error).message.slice(0, 500) }).where('id', '=', id).execute();
      return false;
    }
  }
}

/** The newest mail first (at most `limit`: the outbox keeps every message ever sent). */
export function outbox(db: Db, to?: string, limit = 200) {
  let q = db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc').limit(limit);
  if (to) q = q.where('to_address', '=', to.toLowerCase());
  return q.execute();
}
