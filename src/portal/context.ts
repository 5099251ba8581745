/** What every portal route needs: the domain's dependencies, the signed-in partner, CSRF and rendering. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.ts';
import type { Render } from '../web/views.ts';
import type { PeopleData } from '../identity/people/index.ts';
import { csrfMatches, OnboardingError, type Onboarding, type Organisation, type WebSession } from '../onboarding/index.ts';
import type { RunScheduler } from '../conformance/index.ts';
import { UnreadableForm } from '../web/errors.ts';
import { doubleSubmitOk, doubleSubmitToken } from '../web/csrf.ts';

export const SESSION_COOKIE = 'toolkit_portal';
const ANON_CSRF_COOKIE = 'toolkit_csrf';

export interface PortalDeps {
  config: Config;
  /** The onboarding use-cases (onboarding/use-cases.ts): the portal's only way to the database. */
  onboarding: Onboarding;
  /** The environments' test PDS and GP-linkage records (integration test users). */
  people: PeopleData;
  render: Render;
  /** Starts conformance runs in the background of this server. */
  conformance: RunScheduler;
}

export function cookieOptions(d: PortalDeps, maxAgeS?: number) {
  return {
    path: '/portal',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: d.config.publicUrl.startsWith('https:'),
    ...(maxAgeS ? { maxAge: maxAgeS } : {}),
  };
}

export interface Signed {
  session: WebSession;
  user: { id: string; name: string; email: string };
}

export async function signedIn(d: PortalDeps, req: FastifyRequest): Promise<Signed | undefined> {
  const session = await d.onboarding.findSession('portal', req.cookies[SESSION_COOKIE]);
  if (!session) return undefined;
  const user = await d.onboarding.partnerUser(session.userId);
  return user ? { session, user } : undefined;
}

const anonCsrf = (d: PortalDeps) => ({ name: ANON_CSRF_COOKIE, path: '/portal', secure: d.config.publicUrl.startsWith('https:') });

/** The CSRF token for a form: the session's when signed in, else a double-submit cookie. */
export function csrfFor(d: PortalDeps, req: FastifyRequest, reply: FastifyReply, signed?: Signed): string {
  if (signed) return signed.session.csrf;
  return doubleSubmitToken(req, reply, anonCsrf(d));
}

export function csrfOk(req: FastifyRequest, signed?: Signed): boolean {
  const sent = (req.body as Record<string, unknown> | undefined)?._csrf;
  if (signed) return csrfMatches(signed.session, sent);
  return doubleSubmitOk(req, ANON_CSRF_COOKIE);
}

export function page(d: PortalDeps, reply: FastifyReply, view: string, ctx: Record<string, unknown>, status = 200) {
  return reply
    .code(status)
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(d.render(view, { serviceName: 'NHS login integration toolkit', layoutName: 'portal/layout.njk', ...ctx }));
}

export function forbidden(d: PortalDeps, reply: FastifyReply) {
  return page(
    d,
    reply,
    'error.njk',
    { title: 'This form has expired', message: 'Go back, refresh the page and try again.', code: 'csrf' },
    403,
  );
}

/**
 * The one gate in front of every organisation page: signed in (else to sign-in), CSRF on POSTs (multipart
 * forms check theirs themselves), and membership (else "not found", so other tenants' ids reveal nothing).
 */
export async function orgGuard(
  d: PortalDeps,
  req: FastifyRequest<{ Params: { orgId: string } }>,
  reply: FastifyReply,
  options: { csrf: boolean },
): Promise<{ signed: Signed; org: Organisation } | undefined> {
  const signed = await signedIn(d, req);
  if (!signed) return void reply.redirect('/portal/sign-in', 303);
  if (options.csrf && !csrfOk(req, signed)) return void forbidden(d, reply);
  try {
    return { signed, org: await d.onboarding.requireMembership(signed.user.id, req.params.orgId) };
  } catch (e) {
    if (!(e instanceof OnboardingError)) throw e;
    return void page(d, reply, 'error.njk', { title: 'Page not found', message: 'There is no such page in your account.' }, 404);
  }
}

/**
 * The fields of a form posted either way: urlencoded, or multipart with small text files (a PEM) read as
 * text into the field of their name. Repeated fields (checkboxes) become arrays. Files over `maxFileBytes`
 * are read as empty and reported in `tooLarge`.
 */
export async function formFields(
  req: FastifyRequest,
  maxFileBytes = 16 * 1024,
  maxFieldBytes = 64 * 1024,
): Promise<{ fields: Record<string, string | string[]>; tooLarge: string[] }> {
  if (!req.isMultipart()) return { fields: (req.body ?? {}) as Record<string, string | string[]>, tooLarge: [] };
  const fields: Record<string, string | string[]> = {};
  const tooLarge: string[] = [];
  const add = (name: string, value: string) => {
    const prev = fields[name];
    fields[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  };
  // throwFileSizeLimit: report an oversized file as truncated rather than fail the request (the plugin
  // reads it per call; its types list it only for registration).
  const options = { limits: { fileSize: maxFileBytes, files: 2, fields: 40, fieldSize: maxFieldBytes }, throwFileSizeLimit: false };
  try {
    for await (const part of req.parts(options as Parameters<FastifyRequest['parts']>[0])) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer().catch(() => Buffer.alloc(0));
        if (part.file.truncated) tooLarge.push(part.fieldname);
        else if (bytes.length) add(part.fieldname, bytes.toString('utf8'));
      } else add(part.fieldname, String(part.value));
    }
  } catch (e) {
    throw unreadable(e);
  }
  return { fields, tooLarge };
}

/**
 * A multipart body the parser gave up on (no boundary, cut short, too many parts) is the sender's fault: a 400
 * "could not be read" page, not a 500. Errors with a status of their own (a limit) keep it.
 */
export function unreadable(e: unknown): Error {
  const status = (e as { statusCode?: number }).statusCode;
  return status && status >= 400 && status < 500 ? (e as Error) : new UnreadableForm();
}
