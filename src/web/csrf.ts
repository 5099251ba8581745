/**
 * The double-submit CSRF token for forms with no server-side session of their own to hold one (the portal's forms
 * before sign-in; the NHS login settings page, whose session is the OpenID Provider's): a random token in a
 * SameSite=Strict, HttpOnly cookie and the same token in the form, compared in constant time. One mechanism for
 * every face that needs it (OWASP CSRF Prevention Cheat Sheet, "Signed double-submit cookie" without the signing:
 * the cookie is HttpOnly and Strict, so another site can neither read it nor have it sent).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { newSecret } from '../security/tokens.ts';

export interface CsrfCookie {
  name: string;
  path: string;
  secure: boolean;
}

/** The token for a form: the cookie's, or a new one set on the reply. */
export function doubleSubmitToken(req: FastifyRequest, reply: FastifyReply, c: CsrfCookie): string {
  let token = req.cookies[c.name];
  if (!token) {
    token = newSecret(24);
    reply.setCookie(c.name, token, { path: c.path, httpOnly: true, sameSite: 'strict', secure: c.secure });
  }
  return token;
}

/** True when the posted `_csrf` is the cookie's token. */
export function doubleSubmitOk(req: FastifyRequest, cookieName: string): boolean {
  const sent = (req.body as Record<string, unknown> | undefined)?._csrf;
  const cookie = req.cookies[cookieName];
  if (typeof sent !== 'string' || typeof cookie !== 'string' || cookie.length === 0) return false;
  const a = Buffer.from(cookie);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}
