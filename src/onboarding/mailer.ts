/**
 * Outgoing mail. Every message is written to the outbox, so none is ever lost; with SMTP configured the delivery
 * worker (deliveries.ts) then sends it outside the request that wrote it, or records the SMTP server's error and tries
 * again later. Without SMTP, mail stays in the outbox for the team to see, each message is logged with its links, and on
 * a developer's own machine the portal's local mailbox shows it (mailbox.ts).
 */
import { randomUUID } from 'node:crypto';
import { outboxMessages, type Db } from '../storage/index.ts';
import { linksIn } from './mailbox.ts';

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

export interface MailerOptions {
  sending: boolean;
  wake(): void;
  log: { info(obj: object, msg: string): void };
  /** The local mailbox's address, when this toolkit has one (Config.localMailbox). */
  mailboxUrl?: string | undefined;
}

export function createMailer(db: Db, options: MailerOptions): Mailer {
  return {
    async send(mail) {
      const now = Date.now();
      await db
        .insertInto('outbox')
        .values({
          id: randomUUID(),
          to_address: mail.to,
          subject: mail.subject,
          body: mail.body,
          created_at: now,
          sent_at: null,
          error: null,
          attempts: 0,
          next_attempt_at: options.sending ? now : null,
          claim: null,
          claimed_until: null,
        })
        .execute();
      // Without SMTP nothing reaches the recipient: one line in the log says whom it was for and the links it holds, so
      // that a developer can go on (confirm the address, reset the password) from the terminal.
      if (!options.sending) {
        const links = linksIn(mail.body);
        const where = options.mailboxUrl ? `; all mail: ${options.mailboxUrl}` : '';
        const holds = links.length ? `, ${links.join(' ')}` : '';
        options.log.info(
          { to: mail.to, subject: mail.subject, links },
          `mail not sent (no SMTP_URL): to ${mail.to}, "${mail.subject}"${holds}${where}`,
        );
      }
      options.wake();
    },
    wake: options.wake,
  };
}

/** The newest mail first (at most `limit`: the outbox keeps every message ever sent). */
export function outbox(db: Db, to?: string, limit = 200) {
  return outboxMessages(db, { to, limit });
}
