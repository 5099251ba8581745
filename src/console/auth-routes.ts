/** Console set-up (one-time link: password and authenticator), sign-in with password + TOTP, sign-out. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { csrfMatches, OnboardingError } from '../onboarding/index.ts';
import { newSecret } from '../security/tokens.ts';

import { COOKIE, cookieOptions, expired, page, teamGuard, type ConsoleDeps } from './context.ts';
import { CSRF, EMAIL, form, formProblems, PASSWORD, text } from '../web/forms.ts';
import { formError } from '../web/problems.ts';

const PRE_CSRF = 'toolkit_console_csrf';
type Body = { Body: Record<string, string | undefined> };
const CODE = text('Security code', 20);
const SETUP = form({ _csrf: CSRF, password: PASSWORD, code: CODE });
const SIGN_IN = form({ _csrf: CSRF, email: EMAIL, password: PASSWORD, code: CODE });

/**
 * The set-up page's authenticator details: the otpauth:// URI as a QR code drawn here (an inline SVG: no image
 * request, nothing sent to another service, and the CSP's img-src stays 'self'), and the secret in groups of four
 * for whoever types it (authenticator apps ignore the spaces).
 */
async function authenticatorDetails(details: { email: string; totpSecret: string; otpauth: string }) {
  // Loaded on first use: ~9 MB of every instance's memory for a page a team member opens once.
  const { default: QRCode } = await import('qrcode');
  const svg = await QRCode.toString(details.otpauth, { type: 'svg', width: 200, margin: 4, errorCorrectionLevel: 'M' });
  const qr = svg.replace(/^<svg /, '<svg role="img" aria-labelledby="totp-qr-title" focusable="false" ')
    .replace(/^(<svg[^>]*>)/, '$1<title id="totp-qr-title">QR code that adds this account to an authenticator app</title>');
  return { ...details, qr, totpSecretGrouped: details.totpSecret.match(/.{1,4}/g)!.join(' ') };
}

export function registerAuthRoutes(app: FastifyInstance, d: ConsoleDeps) {
  const cookie = cookieOptions(d);
  const KNOWN_BROWSER = 'toolkit_console_browser';
  const KNOWN_BROWSER_S = 30 * 24 * 60 * 60;
  const preCsrf = (req: FastifyRequest, reply: FastifyReply) => {
    let t = req.cookies[PRE_CSRF];
    if (!t) reply.setCookie(PRE_CSRF, (t = newSecret(24)), cookie);
    return t;
  };
  const preCsrfOk = (req: FastifyRequest<Body>) =>
    Boolean(req.cookies[PRE_CSRF]) && csrfMatches({ userId: '', csrf: req.cookies[PRE_CSRF]! }, req.body?._csrf);

  const setupPage = async (req: FastifyRequest<{ Params: { secret: string } }>, reply: FastifyReply, errors?: unknown[]) =>
    page(
      d,
      reply,
      'console/setup.njk',
      {
        title: 'Set up your console account',
        ...(await authenticatorDetails(await d.onboarding.setupDetails(req.params.secret))),
        csrf: preCsrf(req, reply),
        errors,
      },
      errors ? 400 : 200,
    );

  app.get<{ Params: { secret: string } }>('/setup/:secret', async (req, reply) => {
    try {
      return await setupPage(req, reply);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      return page(d, reply, 'error.njk', { title: 'This link does not work', message: e.message }, e.status);
    }
  });
  app.post<Body & { Params: { secret: string } }>('/setup/:secret', SETUP, async (req, reply) => {
    if (!preCsrfOk(req)) return expired(d, reply);
    try {
      const bad = formProblems(req);
      if (bad) return await setupPage(req, reply, bad);
      await d.onboarding.completeSetup(req.params.secret, req.body?.password ?? '', req.body?.code ?? '');
      return reply.redirect('/console/sign-in?set-up=done', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      if (e.code === 'invalid_link') return page(d, reply, 'error.njk', { title: 'This link does not work', message: e.message }, e.status);
      return await setupPage(req, reply, formError(e).errors);
    }
  });

  // After the set-up (a redirect from it, so that a refresh posts nothing again): the same form, under a confirmation.
  app.get<{ Querystring: Record<string, unknown> }>('/sign-in', async (req, reply) =>
    page(d, reply, 'console/sign-in.njk', {
      title: 'Sign in to the console',
      csrf: preCsrf(req, reply),
      setUp: req.query['set-up'] === 'done',
    }),
  );
  app.post<Body>('/sign-in', SIGN_IN, async (req, reply) => {
    if (!preCsrfOk(req)) return expired(d, reply);
    const bad = formProblems(req);
    if (bad)
      return page(
        d,
        reply,
        'console/sign-in.njk',
        { title: 'Sign in to the console', csrf: preCsrf(req, reply), errors: bad, values: { email: req.body?.email } },
        400,
      );
    try {
      const user = await d.onboarding.authenticateTeam(
        req.body?.email ?? '', req.body?.password ?? '', req.body?.code ?? '', req.ip, req.cookies[KNOWN_BROWSER],
      );
      const { cookie: value } = await d.onboarding.startSession('console', user.id);
      reply.setCookie(COOKIE, value, cookie);
      // Known to the account from now on (onboarding/team.ts CODE_CEILING): it may sign in while strangers guess codes.
      reply.setCookie(KNOWN_BROWSER, await d.onboarding.rememberBrowser(user.id), { ...cookie, maxAge: KNOWN_BROWSER_S });
      return reply.redirect('/console', 303);
    } catch (e) {
      if (!(e instanceof OnboardingError)) throw e;
      const { errors, status } = formError(e, { fallback: 'email' });
      return page(
        d,
        reply,
        'console/sign-in.njk',
        {
          title: 'Sign in to the console',
          csrf: preCsrf(req, reply),
          errors,
          values: { email: req.body?.email },
        },
        status,
      );
    }
  });
  app.post<Body>('/sign-out', form({ _csrf: CSRF }), async (req, reply) => {
    if (!(await teamGuard(d, req, reply, { csrf: true }))) return;
    await d.onboarding.endSession(req.cookies[COOKIE]);
    reply.clearCookie(COOKIE, cookie);
    return reply.redirect('/console/sign-in', 303);
  });
}
