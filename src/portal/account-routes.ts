/** Partner sign-up, email confirmation, sign-in and out, forgotten password. */
import type { FastifyInstance } from 'fastify';
import { authenticate, confirmEmail, endSession, OnboardingError, requestPasswordReset, resetPassword, signUp, startSession } from '../onboarding/index.ts';
import { accountDeps, cookieOptions, csrfFor, csrfOk, errorItem, forbidden, page, SESSION_COOKIE, signedIn, type PortalDeps } from './context.ts';
import { ABSOLUTE_MS } from '../onboarding/sessions.ts';

type Form = { Body: Record<string, string | undefined> };

export function registerAccountRoutes(app: FastifyInstance, d: PortalDeps) {
  app.get('/sign-up', async (req, reply) => page(d, reply, 'portal/sign-up.njk', { title: 'Create an account', csrf: csrfFor(d, req, reply) }));
  app.post<Form>('/sign-up', async (req, reply) => {
    if (!csrfOk(req)) return forbidden(d, reply);
    const b = req.body ?? {};
    try {
      const user = await signUp(accountDeps(d), { name: b.name ?? '', email: b.email ?? '', password: b.password ?? '' });
      return page(d, reply, 'portal/message.njk', { title: 'Check your email', message: `We have sent a link to ${user.email}. Open it to confirm your email address, then sign in.` });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'portal/sign-up.njk', { title: 'Create an account', csrf: csrfFor(d, req, reply), errors: [errorItem(e)], values: { name: b.name, email: b.email } }, 400);
    }
  });

  app.get<{ Params: { secret: string } }>('/confirm/:secret', async (req, reply) => {
    try {
      await confirmEmail(accountDeps(d), req.params.secret);
      return page(d, reply, 'portal/message.njk', { title: 'Email address confirmed', message: 'You can now sign in.', link: { href: '/portal/sign-in', text: 'Sign in' } });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'portal/message.njk', { title: 'This link does not work', message: e.message, link: { href: '/portal/sign-in', text: 'Sign in' } }, 400);
    }
  });

  app.get('/sign-in', async (req, reply) => page(d, reply, 'portal/sign-in.njk', { title: 'Sign in', csrf: csrfFor(d, req, reply) }));
  app.post<Form>('/sign-in', async (req, reply) => {
    if (!csrfOk(req)) return forbidden(d, reply);
    const b = req.body ?? {};
    try {
      const user = await authenticate(accountDeps(d), b.email ?? '', b.password ?? '');
      const { cookie } = await startSession(d.db, 'portal', user.id);
      reply.setCookie(SESSION_COOKIE, cookie, cookieOptions(d, ABSOLUTE_MS / 1000));
      return reply.redirect('/portal', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      const status = e.code === 'locked_out' ? 429 : e.code === 'bad_credentials' ? 401 : 400;
      return page(d, reply, 'portal/sign-in.njk', { title: 'Sign in', csrf: csrfFor(d, req, reply), errors: [errorItem(e)], values: { email: b.email } }, status);
    }
  });

  app.get('/sign-out', async (req, reply) => {
    const signed = await signedIn(d, req);
    if (!signed) return reply.redirect('/portal', 303);
    return page(d, reply, 'portal/sign-out.njk', { title: 'Sign out of the toolkit', user: signed.user, csrf: signed.session.csrf });
  });
  app.post('/sign-out', async (req, reply) => {
    const signed = await signedIn(d, req);
    if (signed && !csrfOk(req, signed)) return forbidden(d, reply);
    await endSession(d.db, req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, cookieOptions(d));
    return reply.redirect('/portal', 303);
  });

  app.get('/forgot-password', async (req, reply) => page(d, reply, 'portal/forgot-password.njk', { title: 'Reset your password', csrf: csrfFor(d, req, reply) }));
  app.post<Form>('/forgot-password', async (req, reply) => {
    if (!csrfOk(req)) return forbidden(d, reply);
    try {
      await requestPasswordReset(accountDeps(d), req.body?.email ?? '');
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'portal/forgot-password.njk', { title: 'Reset your password', csrf: csrfFor(d, req, reply), errors: [errorItem(e)] }, 400);
    }
    return page(d, reply, 'portal/message.njk', { title: 'Check your email', message: 'If an account exists for that address, we have sent it a link to reset the password.' });
  });

  app.get<{ Params: { secret: string } }>('/reset-password/:secret', async (req, reply) =>
    page(d, reply, 'portal/reset-password.njk', { title: 'Choose a new password', csrf: csrfFor(d, req, reply) }));
  app.post<Form & { Params: { secret: string } }>('/reset-password/:secret', async (req, reply) => {
    if (!csrfOk(req)) return forbidden(d, reply);
    try {
      await resetPassword(accountDeps(d), req.params.secret, req.body?.password ?? '');
      return page(d, reply, 'portal/message.njk', { title: 'Password changed', message: 'Sign in with your new password.', link: { href: '/portal/sign-in', text: 'Sign in' } });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'portal/reset-password.njk', { title: 'Choose a new password', csrf: csrfFor(d, req, reply), errors: [errorItem(e)] }, 400);
    }
  });
}
