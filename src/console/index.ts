/**
 * The team console: sign-in with password and TOTP, the pipeline of every partner, and the audit trail.
 * Thin routes over the onboarding domain.
 */
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.ts';
import type { Db } from '../storage/index.ts';
import type { Render } from '../web/views.ts';
import {
  auditEntries, authenticateTeam, outbox, decideApplication, getApplication, CRITERIA, type Mailer, completeSetup, csrfMatches, endSession, findSession, OnboardingError, setupDetails, startSession, verifyAudit, type WebSession,
} from '../onboarding/index.ts';
import { newSecret } from '../security/tokens.ts';
import { pipeline } from './pipeline.ts';

export const CONSOLE_VIEWS = path.join(import.meta.dirname, 'views');
const COOKIE = 'toolkit_console';
const PRE_CSRF = 'toolkit_console_csrf';

export interface ConsoleDeps {
  config: Config;
  db: Db;
  mailer: Mailer;
  render: Render;
}

type Body = { Body: Record<string, string | undefined> };

export async function consoleRoutes(app: FastifyInstance, d: ConsoleDeps) {
  const cookie = { path: '/console', httpOnly: true, sameSite: 'strict' as const, secure: d.config.publicUrl.startsWith('https:') };
  const page = (reply: FastifyReply, view: string, ctx: Record<string, unknown>, status = 200) =>
    reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(d.render(view, { serviceName: 'NHS login team console', ...ctx }));
  const preCsrf = (req: FastifyRequest, reply: FastifyReply) => {
    let t = req.cookies[PRE_CSRF];
    if (!t) reply.setCookie(PRE_CSRF, (t = newSecret(24)), cookie);
    return t;
  };
  const preCsrfOk = (req: FastifyRequest<Body>) => Boolean(req.cookies[PRE_CSRF]) && csrfMatches({ userId: '', csrf: req.cookies[PRE_CSRF]! }, req.body?._csrf);
  const team = async (req: FastifyRequest, reply: FastifyReply): Promise<(WebSession & { email: string; role: string }) | undefined> => {
    const session = await findSession(d.db, 'console', req.cookies[COOKIE]);
    const user = session && (await d.db.selectFrom('team_user').select(['email', 'role']).where('id', '=', session.userId).executeTakeFirst());
    if (!session || !user) return void reply.redirect('/console/sign-in', 303);
    return { ...session, ...user };
  };

  app.get<{ Params: { secret: string } }>('/setup/:secret', async (req, reply) => {
    try {
      return page(reply, 'console/setup.njk', { title: 'Set up your console account', ...(await setupDetails(d.db, req.params.secret)), csrf: preCsrf(req, reply) });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(reply, 'error.njk', { title: 'This link does not work', message: e.message }, 400);
    }
  });
  app.post<Body & { Params: { secret: string } }>('/setup/:secret', async (req, reply) => {
    if (!preCsrfOk(req)) return page(reply, 'error.njk', { title: 'This form has expired', message: 'Go back, refresh the page and try again.' }, 403);
    try {
      await completeSetup(d.db, req.params.secret, req.body?.password ?? '', req.body?.code ?? '');
      return reply.redirect('/console/sign-in', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      if (e.code === 'invalid_link') return page(reply, 'error.njk', { title: 'This link does not work', message: e.message }, 400);
      return page(reply, 'console/setup.njk', { title: 'Set up your console account', ...(await setupDetails(d.db, req.params.secret)), csrf: preCsrf(req, reply), errors: [{ href: `#${e.field}`, text: e.message, field: e.field }] }, 400);
    }
  });

  app.get('/sign-in', async (req, reply) => page(reply, 'console/sign-in.njk', { title: 'Sign in to the console', csrf: preCsrf(req, reply) }));
  app.post<Body>('/sign-in', async (req, reply) => {
    if (!preCsrfOk(req)) return page(reply, 'error.njk', { title: 'This form has expired', message: 'Go back, refresh the page and try again.' }, 403);
    try {
      const user = await authenticateTeam(d.db, req.body?.email ?? '', req.body?.password ?? '', req.body?.code ?? '');
      const { cookie: value } = await startSession(d.db, 'console', user.id);
      reply.setCookie(COOKIE, value, cookie);
      return reply.redirect('/console', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(reply, 'console/sign-in.njk', { title: 'Sign in to the console', csrf: preCsrf(req, reply), errors: [{ href: `#${e.field ?? 'email'}`, text: e.message, field: e.field }], values: { email: req.body?.email } }, e.code === 'locked_out' ? 429 : 401);
    }
  });
  app.post<Body>('/sign-out', async (req, reply) => {
    const t = await team(req, reply);
    if (!t) return;
    if (!csrfMatches(t, req.body?._csrf)) return page(reply, 'error.njk', { title: 'This form has expired', message: 'Refresh the page and try again.' }, 403);
    await endSession(d.db, req.cookies[COOKIE]);
    reply.clearCookie(COOKIE, cookie);
    return reply.redirect('/console/sign-in', 303);
  });

  app.get('/', async (req, reply) => {
    const t = await team(req, reply);
    if (!t) return;
    return page(reply, 'console/pipeline.njk', { title: 'Partners', team: t, csrf: t.csrf, rows: await pipeline(d.db), now: Date.now() });
  });

  app.get<{ Params: { orgId: string } }>('/partners/:orgId', async (req, reply) => {
    const t = await team(req, reply);
    if (!t) return;
    return partnerPage(reply, t, req.params.orgId);
  });

  app.post<Body & { Params: { orgId: string } }>('/partners/:orgId/application-decision', async (req, reply) => {
    const t = await team(req, reply);
    if (!t) return;
    if (!csrfMatches(t, req.body?._csrf)) return page(reply, 'error.njk', { title: 'This form has expired', message: 'Refresh the page and try again.' }, 403);
    try {
      await decideApplication({ db: d.db, mailer: d.mailer, publicUrl: d.config.publicUrl }, t, req.params.orgId, req.body?.decision ?? '', req.body?.reason ?? '');
      return reply.redirect(`/console/partners/${req.params.orgId}`, 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return partnerPage(reply, t, req.params.orgId, [{ href: `#${e.field ?? 'decision'}`, text: e.message, field: e.field }], 400);
    }
  });

  async function partnerPage(reply: FastifyReply, t: WebSession & { email: string }, orgId: string, errors?: unknown[], status = 200) {
    const org = await d.db.selectFrom('organisation').selectAll().where('id', '=', orgId).executeTakeFirst();
    if (!org) return page(reply, 'error.njk', { title: 'Page not found', message: 'There is no such partner.', team: t }, 404);
    const [application, history] = await Promise.all([
      getApplication(d.db, orgId),
      d.db.selectFrom('audit').selectAll().where('subject', '=', orgId).orderBy('seq', 'desc').execute(),
    ]);
    return page(reply, 'console/partner.njk', { title: org.name, team: t, csrf: t.csrf, org, application, history, criteria: CRITERIA, errors }, status);
  }

  // Mail kept in the outbox (always; and the only copy when no SMTP server is configured).
  app.get('/outbox', async (req, reply) => {
    const t = await team(req, reply);
    if (!t) return;
    return page(reply, 'console/outbox.njk', { title: 'Outbox', team: t, csrf: t.csrf, mail: await outbox(d.db), smtp: Boolean(d.config.smtpUrl) });
  });

  app.get<{ Querystring: { format?: string } }>('/audit', async (req, reply) => {
    const t = await team(req, reply);
    if (!t) return;
    const [verdict, entries] = await Promise.all([verifyAudit(d.db), auditEntries(d.db)]);
    if (req.query.format === 'json') return reply.header('content-disposition', 'attachment; filename="audit.json"').send({ verdict, entries });
    if (req.query.format === 'csv') {
      const q = (v: unknown) => `"${String(v).replaceAll('"', '""')}"`;
      const csv = ['seq,at,actor,action,subject,details,prev_hash,hash', ...entries.map((e) => [e.seq, new Date(e.at).toISOString(), e.actor, e.action, e.subject, e.details, e.prev_hash, e.hash].map(q).join(','))].join('\n');
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="audit.csv"').send(csv + '\n');
    }
    return page(reply, 'console/audit.njk', { title: 'Audit trail', team: t, csrf: t.csrf, verdict, entries });
  });
}
