/** Console set-up (one-time link: password and authenticator), sign-in with password + TOTP, sign-out. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateTeam, completeSetup, csrfMatches, endSession, OnboardingError, setupDetails, startSession } from '../onboarding/index.ts';
import { newSecret } from '../security/tokens.ts';

import { COOKIE, cookieOptions, expired, page, teamGuard, type ConsoleDeps } from './context.ts';
import { CSRF, EMAIL, form, formProblems, PASSWORD, text } from '../web/forms.ts';

const PRE_CSRF = 'toolkit_console_csrf';
type Body = { Body: Record<string, string | undefined> };
const CODE = text('Security code', 20);
const SETUP = form({ _csrf: CSRF, password: PASSWORD, code: CODE });
const SIGN_IN = form({ _csrf: CSRF, email: EMAIL, password: PASSWORD, code: CODE });


export function registerAuthRoutes(app: FastifyInstance, d: ConsoleDeps) {
  const cookie = cookieOptions(d);
  const preCsrf = (req: FastifyRequest, reply: FastifyReply) => {
    let t = req.cookies[PRE_CSRF];
    if (!t) reply.setCookie(PRE_CSRF, (t = newSecret(24)), cookie);
    return t;
  };
  const preCsrfOk = (req: FastifyRequest<Body>) => Boolean(req.cookies[PRE_CSRF]) && csrfMatches({ userId: '', csrf: req.cookies[PRE_CSRF]! }, req.body?._csrf);

  app.get<{ Params: { secret: string } }>('/setup/:secret', async (req, reply) => {
    try {
      return page(d, reply, 'console/setup.njk', { title: 'Set up your console account', ...(await setupDetails(d.db, req.params.secret)), csrf: preCsrf(req, reply) });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'error.njk', { title: 'This link does not work', message: e.message }, 400);
    }
  });
  app.post<Body & { Params: { secret: string } }>('/setup/:secret', SETUP, async (req, reply) => {
    if (!preCsrfOk(req)) return expired(d, reply);
    try {
      const bad = formProblems(req);
      if (bad) return page(d, reply, 'console/setup.njk', { title: 'Set up your console account', ...(await setupDetails(d.db, req.params.secret)), csrf: preCsrf(req, reply), errors: bad }, 400);
      await completeSetup(d.db, req.params.secret, req.body?.password ?? '', req.body?.code ?? '');
      return reply.redirect('/console/sign-in', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      if (e.code === 'invalid_link') return page(d, reply, 'error.njk', { title: 'This link does not work', message: e.message }, 400);
      return page(d, reply, 'console/setup.njk', { title: 'Set up your console account', ...(await setupDetails(d.db, req.params.secret)), csrf: preCsrf(req, reply), errors: [{ href: `#${e.field}`, text: e.message, field: e.field }] }, 400);
    }
  });

  app.get('/sign-in', async (req, reply) => page(d, reply, 'console/sign-in.njk', { title: 'Sign in to the console', csrf: preCsrf(req, reply) }));
  app.post<Body>('/sign-in', SIGN_IN, async (req, reply) => {
    if (!preCsrfOk(req)) return expired(d, reply);
    const bad = formProblems(req);
    if (bad) return page(d, reply, 'console/sign-in.njk', { title: 'Sign in to the console', csrf: preCsrf(req, reply), errors: bad, values: { email: req.body?.email } }, 400);
    try {
      const user = await authenticateTeam(d.db, req.body?.email ?? '', req.body?.password ?? '', req.body?.code ?? '', req.ip);
      const { cookie: value } = await startSession(d.db, 'console', user.id);
      reply.setCookie(COOKIE, value, cookie);
      return reply.redirect('/console', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'console/sign-in.njk', { title: 'Sign in to the console', csrf: preCsrf(req, reply), errors: [{ href: `#${e.field ?? 'email'}`, text: e.message, field: e.field }], values: { email: req.body?.email } }, e.code === 'throttled' || e.code === 'busy' ? 429 : 401);
    }
  });
  app.post<Body>('/sign-out', form({ _csrf: CSRF }), async (req, reply) => {
    if (!(await teamGuard(d, req, reply, { csrf: true }))) return;
    await endSession(d.db, req.cookies[COOKIE]);
    reply.clearCookie(COOKIE, cookie);
    return reply.redirect('/console/sign-in', 303);
  });
}
