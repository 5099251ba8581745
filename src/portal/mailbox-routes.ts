/**
 * The local mailbox (Config.localMailbox: no SMTP_URL, PUBLIC_URL on loopback): the mail this toolkit queued, newest
 * first, each message with its links. Registered only then, so that elsewhere its address is "page not found": a
 * hosted toolkit must never show one person's confirmation or reset links to another.
 */
import type { FastifyInstance } from 'fastify';
import { MAILBOX_SIZE } from '../onboarding/index.ts';
import { page, signedIn, type PortalDeps } from './context.ts';

/** Where the mailbox is, when there is one (the "check your email" pages and the log line link to it). */
export const MAILBOX_PATH = '/portal/dev/mail';

export function registerMailboxRoutes(app: FastifyInstance, d: PortalDeps) {
  if (!d.config.localMailbox) return;
  app.get('/dev/mail', async (req, reply) => {
    const signed = await signedIn(d, req);
    const messages = await d.onboarding.mailboxMessages();
    return page(d, reply, 'portal/mailbox.njk', { title: 'Mail sent by this toolkit', user: signed?.user, messages, size: MAILBOX_SIZE });
  });
  app.get<{ Params: { id: string } }>('/dev/mail/:id', async (req, reply) => {
    const signed = await signedIn(d, req);
    const message = await d.onboarding.mailboxMessage(req.params.id);
    if (!message) {
      return page(
        d,
        reply,
        'error.njk',
        { title: 'Page not found', message: 'There is no such message in the local mailbox.', user: signed?.user },
        404,
      );
    }
    return page(d, reply, 'portal/mailbox-message.njk', { title: message.subject, user: signed?.user, message });
  });
}

/** The mailbox's address for a "check your email" page, when this toolkit has one. */
export function mailboxLink(d: PortalDeps): string | undefined {
  return d.config.localMailbox ? MAILBOX_PATH : undefined;
}
