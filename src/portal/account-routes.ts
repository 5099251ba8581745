/** Partner sign-up, email confirmation, sign-in and out, forgotten password. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { FormProblems, OnboardingError } from '../onboarding/index.ts';
import {
  cookieOptions,
  csrfFor,
  csrfOk,
  errorItem,
  forbidden,
  page,
  SESSION_COOKIE,
  signedIn,
  type PortalDeps,
} from './context.ts';
import { ABSOLUTE_MS } from '../onboarding/sessions.ts';
import { CSRF, EMAIL, form, formProblems, PASSWORD, text } from '../web/forms.ts';
import { mailboxLink } from './mailbox-routes.ts';

type Form = { Body: Record<string, string | undefined> };
const SIGN_UP = form({ _csrf: CSRF, name: text('Full name', 100), email: EMAIL, password: PASSWORD });
const SIGN_IN = form({ _csrf: CSRF, email: EMAIL, password: PASSWORD });
/** The browser's half of an emailed sign-in link (onboarding/accounts.ts sendSignInLink), for the link's 15 minutes. */
const LINK_COOKIE = 'toolkit_sign_in_link';
const LINK_COOKIE_S = 15 * 60;
const FORGOT = form({ _csrf: CSRF, email: EMAIL });
const RESET = form({ _csrf: CSRF, password: PASSWORD });

/**
 * Per-address limits on the account forms (15-minute windows): sign-ups and password-reset emails (mail flooding).
 * Sign-in is throttled per account and address instead (onboarding/accounts.ts). Behind a proxy, set TRUST_PROXY so
 * the address is the visitor's.
 */
const LIMITS = { sign_up: 50, forgot_password: 10 } as const;
const limitKey = (action: keyof typeof LIMITS, ip: string) => `portal:${action}:${ip}`;

export function registerAccountRoutes(app: FastifyInstance, d: PortalDeps) {
  app.get('/sign-up', async (req, reply) =>
    page(d, reply, 'portal/sign-up.njk', { title: 'Create an account', csrf: csrfFor(d, req, reply) }),
  );
  const tooMany = (
    view: string,
    title: string,
    req: import('fastify').FastifyRequest,
    reply: import('fastify').FastifyReply,
    field: string,
  ) =>
    page(
      d,
      reply,
      view,
      {
        title,
        csrf: csrfFor(d, req, reply),
        errors: [{ href: `#${field}`, text: 'There have been too many attempts from your network. Try again in 15 minutes.', field }],
      },
      429,
    );

  app.post<Form>('/sign-up', SIGN_UP, async (req, reply) => {
    if (!csrfOk(req)) return forbidden(d, reply);
    const b = req.body ?? {};
    const bad = formProblems(req);
    if (bad)
      return page(
        d,
        reply,
        'portal/sign-up.njk',
        { title: 'Create an account', csrf: csrfFor(d, req, reply), errors: bad, values: { name: b.name, email: b.email } },
        400,
      );
    if (!(await d.onboarding.countRequest(limitKey('sign_up', req.ip), LIMITS.sign_up)))
      return tooMany('portal/sign-up.njk', 'Create an account', req, reply, 'name');
    try {
      const user = await d.onboarding.signUp({ name: b.name ?? '', email: b.email ?? '', password: b.password ?? '' });
      return page(d, reply, 'portal/message.njk', {
        title: 'Check your email',
        message: `We have sent a link to ${user.email}. Open it to confirm your email address, then sign in.`,
        mailbox: mailboxLink(d),
      });
    } catch (e) {
      if (!(e instanceof OnboardingError) && !(e instanceof FormProblems)) throw e;
      const errors = (e instanceof FormProblems ? e.problems : [e]).map(errorItem);
      return page(
        d,
        reply,
        'portal/sign-up.njk',
        { title: 'Create an account', csrf: csrfFor(d, req, reply), errors, values: { name: b.name, email: b.email } },
        400,
      );
    }
  });

  app.get<{ Params: { secret: string } }>('/confirm/:secret', async (req, reply) => {
    try {
      await d.onboarding.confirmEmail(req.params.secret);
      return page(d, reply, 'portal/message.njk', {
        title: 'Email address confirmed',
        message: 'You can now sign in.',
        link: { href: '/portal/sign-in', text: 'Sign in' },
      });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(
        d,
        reply,
        'portal/message.njk',
        { title: 'This link does not work', message: e.message, link: { href: '/portal/sign-in', text: 'Sign in' } },
        400,
      );
    }
  });

  app.get('/sign-in', async (req, reply) => page(d, reply, 'portal/sign-in.njk', { title: 'Sign in', csrf: csrfFor(d, req, reply) }));
  app.post<Form>('/sign-in', SIGN_IN, async (req, reply) => {
    if (!csrfOk(req)) return forbidden(d, reply);
    const b = req.body ?? {};
    const bad = formProblems(req);
    if (bad)
      return page(
        d,
        reply,
        'portal/sign-in.njk',
        { title: 'Sign in', csrf: csrfFor(d, req, reply), errors: bad, values: { email: b.email } },
        400,
      );
    try {
      const browser = randomBytes(32).toString('base64url');
      const signedIn = await d.onboarding.authenticate(b.email ?? '', b.password ?? '', req.ip, browser);
      if ('emailed' in signedIn) {
        reply.setCookie(LINK_COOKIE, browser, { ...cookieOptions(d, LINK_COOKIE_S), path: '/portal/sign-in' });
        return page(d, reply, 'portal/message.njk', {
          title: 'Check your email',
          message:
            'There have been many failed sign-ins to this account or from your network, so we finish signing in by email. ' +
              'If the email address and password are right, we have sent a link to that address: open it within 15 minutes.',
          mailbox: mailboxLink(d),
        });
      }
      const { user } = signedIn;
      const { cookie } = await d.onboarding.startSession('portal', user.id);
      reply.setCookie(SESSION_COOKIE, cookie, cookieOptions(d, ABSOLUTE_MS / 1000));
      return reply.redirect('/portal', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      const status = e.code === 'throttled' || e.code === 'busy' ? 429 : e.code === 'bad_credentials' ? 401 : 400;
      return page(
        d,
        reply,
        'portal/sign-in.njk',
        { title: 'Sign in', csrf: csrfFor(d, req, reply), errors: [errorItem(e)], values: { email: b.email } },
        status,
      );
    }
  });

  // The link a guarded sign-in emails (onboarding/accounts.ts). Opening it shows a button, and the button finishes the
  // sign-in: mail scanners open links to look at them, and must not use the link up (nor get the session).
  app.get<{ Params: { secret: string } }>('/sign-in/continue/:secret', async (req, reply) =>
    page(d, reply, 'portal/sign-in-continue.njk', { title: 'Finish signing in', csrf: csrfFor(d, req, reply), action: req.url }));
  app.post<{ Params: { secret: string } }>('/sign-in/continue/:secret', form({ _csrf: CSRF }), async (req, reply) => {
    if (!csrfOk(req)) return forbidden(d, reply);
    try {
      const user = await d.onboarding.continueSignIn(req.params.secret, req.cookies[LINK_COOKIE]);
      const { cookie } = await d.onboarding.startSession('portal', user.id);
      reply.clearCookie(LINK_COOKIE, { ...cookieOptions(d), path: '/portal/sign-in' });
      reply.setCookie(SESSION_COOKIE, cookie, cookieOptions(d, ABSOLUTE_MS / 1000));
      return reply.redirect('/portal', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(
        d,
        reply,
        'portal/message.njk',
        { title: 'This link does not work', message: e.message, link: { href: '/portal/sign-in', text: 'Sign in' } },
        400,
      );
    }
  });

  app.get('/sign-out', async (req, reply) => {
    const signed = await signedIn(d, req);
    if (!signed) return reply.redirect('/portal', 303);
    return page(d, reply, 'portal/sign-out.njk', { title: 'Sign out of the toolkit', user: signed.user, csrf: signed.session.csrf });
  });
  app.post('/sign-out', form({ _csrf: CSRF }), async (req, reply) => {
    const signed = await signedIn(d, req);
    if (signed && !csrfOk(req, signed)) return forbidden(d, reply);
    await d.onboarding.endSession(req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, cookieOptions(d));
    return reply.redirect('/portal', 303);
  });

  app.get('/forgot-password', async (req, reply) =>
    page(d, reply, 'portal/forgot-password.njk', { title: 'Reset your password', csrf: csrfFor(d, req, reply) }),
  );
  app.post<Form>('/forgot-password', FORGOT, async (req, reply) => {
    if (!csrfOk(req)) return forbidden(d, reply);
    const bad = formProblems(req);
    if (bad)
      return page(d, reply, 'portal/forgot-password.njk', { title: 'Reset your password', csrf: csrfFor(d, req, reply), errors: bad }, 400);
    if (!(await d.onboarding.countRequest(limitKey('forgot_password', req.ip), LIMITS.forgot_password)))
      return tooMany('portal/forgot-password.njk', 'Reset your password', req, reply, 'email');
    try {
      await d.onboarding.requestPasswordReset(req.body?.email ?? '');
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(
        d,
        reply,
        'portal/forgot-password.njk',
        { title: 'Reset your password', csrf: csrfFor(d, req, reply), errors: [errorItem(e)] },
        400,
      );
    }
    return page(d, reply, 'portal/message.njk', {
      title: 'Check your email',
      message: 'If an account exists for that address, we have sent it a link to reset the password.',
      mailbox: mailboxLink(d),
    });
  });

  app.get<{ Params: { secret: string } }>('/reset-password/:secret', async (req, reply) =>
    page(d, reply, 'portal/reset-password.njk', { title: 'Choose a new password', csrf: csrfFor(d, req, reply) }));
  app.post<Form & { Params: { secret: string } }>('/reset-password/:secret', RESET, async (req, reply) => {
    if (!csrfOk(req)) return forbidden(d, reply);
    const bad = formProblems(req);
    if (bad)
      return page(
        d,
        reply,
        'portal/reset-password.njk',
        { title: 'Choose a new password', csrf: csrfFor(d, req, reply), errors: bad },
        400,
      );
    try {
      await d.onboarding.resetPassword(req.params.secret, req.body?.password ?? '');
      return page(d, reply, 'portal/message.njk', {
        title: 'Password changed',
        message: 'Sign in with your new password.',
        link: { href: '/portal/sign-in', text: 'Sign in' },
      });
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(
        d,
        reply,
        'portal/reset-password.njk',
        { title: 'Choose a new password', csrf: csrfFor(d, req, reply), errors: [errorItem(e)] },
        400,
      );
    }
  });
}
