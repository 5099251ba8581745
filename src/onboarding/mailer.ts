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
}

export function createMailer(db: Db, options: { smtpUrl: string | undefined; from: string }): Mailer {
  const transport = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined;
  return {
    async send(mail) {
      const id = randomUUID();
      await db.insertInto('outbox').values({ id, to_address: mail.to, subject: mail.subject, body: mail.body, created_at: Date.now(), sent_at: null, error: null }).execute();
      if (!transport) return;
      try {
        await transport.sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.body });
        await db.updateTable('outbox').set({ sent_at: Date.now() }).where('id', '=', id).execute();
      } catch (e) {
        await db.updateTable('outbox').set({ error: (e as Error).message.slice(0, 500) }).where('id', '=', id).execute();
      }
    },
  };
}

export function outbox(db: Db, to?: string) {
  let q = db.selectFrom('outbox').selectAll().orderBy('created_at', 'desc');
  if (to) q = q.where('to_address', '=', to.toLowerCase());
  return q.execute();
}
