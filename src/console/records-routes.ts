/** The team's records: the mail outbox, chat notifications (with failures), and the hash-chained audit trail. */
import type { FastifyInstance } from 'fastify';
import { page, teamGuard, type ConsoleDeps } from './context.ts';
import { CHOICE, formSchema } from '../web/forms.ts';

/**
 * One CSV cell, quoted (RFC 4180 §2.6, §2.7). Spreadsheets run a cell starting with = + - @, tab or CR as a formula,
 * and anyone can write into the audit trail (a failed console sign-in records the email it tried): such a cell gets
 * a leading ' (OWASP "CSV Injection"), which spreadsheets show as text. LF and NUL too (OWASP ASVS 1.2.10).
 */
export function csvCell(value: unknown): string {
  const text = String(value);
  return `"${(/^[=+\-@\t\r\n\0]/.test(text) ? `'${text}` : text).replaceAll('"', '""')}"`;
}

export function registerRecordsRoutes(app: FastifyInstance, d: ConsoleDeps) {
  // Mail kept in the outbox (always; and the only copy when no SMTP server is configured), and webhook deliveries.
  app.get('/outbox', async (req, reply) => {
    const t = await teamGuard(d, req, reply);
    if (!t) return;
    const [mail, chat] = await Promise.all([d.onboarding.outbox(), d.onboarding.notifications()]);
    return page(d, reply, 'console/outbox.njk', {
      title: 'Outbox',
      team: t,
      csrf: t.csrf,
      mail,
      chat,
      smtp: Boolean(d.config.smtpUrl),
      webhook: Boolean(d.config.chatWebhookUrl),
    });
  });

  app.get<{ Querystring: { format?: string } }>(
    '/audit',
    { schema: { querystring: formSchema({ format: CHOICE('Format') }) } },
    async (req, reply) => {
      const t = await teamGuard(d, req, reply);
      if (!t) return;
      const [verdict, entries] = await Promise.all([d.onboarding.verifyAudit(), d.onboarding.auditEntries()]);
      if (req.query.format === 'json')
        return reply.header('content-disposition', 'attachment; filename="audit.json"').send({ verdict, entries });
      if (req.query.format === 'csv') {
        const rows = entries.map((e) =>
          [e.seq, new Date(e.at).toISOString(), e.actor, e.action, e.subject, e.details, e.prev_hash, e.hash].map(csvCell).join(','),
        );
        const csv = ['seq,at,actor,action,subject,details,prev_hash,hash', ...rows].join('\n');
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="audit.csv"')
          .send(csv + '\n');
      }
      return page(d, reply, 'console/audit.njk', {
        title: 'Audit trail',
        team: t,
        csrf: t.csrf,
        verdict,
        entries: await d.onboarding.readableAudit(entries),
      });
    },
  );
}
