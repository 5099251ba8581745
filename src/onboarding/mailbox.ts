/**
 * The local mailbox: on a toolkit with no SMTP server, on a developer's own machine (Config.localMailbox), the mail
 * the toolkit queued is read back from the outbox with its links, so that a newcomer can confirm an address or
 * reset a password without SQL. Read from the database, so every instance shows the same messages.
 */
import { outboxMessage, outboxMessages, type Db, type OutboxTable } from '../storage/index.ts';

/** The newest messages shown. */
export const MAILBOX_SIZE = 100;

/** A piece of a message body: plain text, or a link (only http and https). */
export type BodyPart = { text: string; href?: string };

export interface MailboxMessage {
  id: string;
  to: string;
  subject: string;
  createdAt: number;
  links: string[];
  parts: BodyPart[];
}

// A URL runs to the next space or quote; punctuation that ends a sentence after it is not part of it.
const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;
const TRAILING = /[.,;:!?)\]]+$/;

/** The body cut into text and links, in order. */
export function bodyParts(body: string): BodyPart[] {
  const parts: BodyPart[] = [];
  let at = 0;
  for (const m of body.matchAll(URL_PATTERN)) {
    const href = m[0].replace(TRAILING, '');
    if (m.index > at) parts.push({ text: body.slice(at, m.index) });
    parts.push({ text: href, href });
    at = m.index + href.length;
  }
  if (at < body.length) parts.push({ text: body.slice(at) });
  return parts;
}

/** The links a message holds, each once, in order. */
export function linksIn(body: string): string[] {
  return [...new Set(bodyParts(body).flatMap((p) => (p.href ? [p.href] : [])))];
}

function view(row: OutboxTable): MailboxMessage {
  const parts = bodyParts(row.body);
  return { id: row.id, to: row.to_address, subject: row.subject, createdAt: row.created_at, links: linksIn(row.body), parts };
}

export async function mailboxMessages(db: Db): Promise<MailboxMessage[]> {
  return (await outboxMessages(db, { limit: MAILBOX_SIZE })).map(view);
}

/** One message, or undefined (an id that is not an outbox id is not looked up). */
export async function mailboxMessage(db: Db, id: string): Promise<MailboxMessage | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return undefined;
  const row = await outboxMessage(db, id);
  return row && view(row);
}
