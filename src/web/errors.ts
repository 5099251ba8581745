/**
 * What the toolkit answers when a request fails before or outside its route's own handling: JSON under /api/v1,
 * otherwise an NHS-style page in the layout of the part of the site it was for (portal, console, an environment),
 * with a way back. The message comes from a closed set chosen by the error's code: request text (a path, a
 * content type, a parser's complaint about the body) is never shown back.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Render } from './views.ts';
import { PasswordHashingBusy } from '../security/passwords.ts';
import type { ErrorCode } from '../errors.ts';

export const FORM_LIMIT = 64 * 1024;

interface Known {
  title: string;
  message: string;
  /** The API's stable error code (of the table in src/errors.ts) and message for it. */
  api: [ErrorCode, string];
  /** When ours differs from Fastify's (an address nothing answers is not found, whatever broke it). */
  status?: number;
}
const PROBLEM = 'There is a problem with the request';
const UNREADABLE = 'The request could not be read. Go back to the page and send the form again.';
const NOT_FOUND: Known = {
  title: 'Page not found',
  message: 'If you typed the web address, check it is correct. If you pasted it, check you copied the entire address.',
  api: ['not_found', 'No such API route: see /api/v1/openapi.json'],
  status: 404,
};
/** By Fastify's error code. */
const CLIENT_ERRORS: Record<string, Known> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    title: 'What you entered is too long to send',
    message: `A form can send at most ${FORM_LIMIT / 1024} KB (about ${(FORM_LIMIT / 1000).toFixed(0)},000 characters), and one of your `
      + 'answers is far longer than its field allows. Use your browser\'s back button to return to your answers, shorten the longest one '
      + 'and send the form again.',
    api: ['too_large', 'The body is too large'],
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    title: PROBLEM,
    message: 'This address takes a form sent from its page. Go back to the page and send the form again.',
    api: ['unsupported_media_type', 'Send application/json'],
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { title: PROBLEM, message: UNREADABLE, api: ['invalid_json', 'The body is not valid JSON'] },
  FST_ERR_CTP_EMPTY_JSON_BODY: { title: PROBLEM, message: UNREADABLE, api: ['invalid_json', 'The body is not valid JSON'] },
  FST_ERR_VALIDATION: {
    title: PROBLEM,
    message: 'A value in the web address, or sent with it, is not one this page can use. Go back and try again.',
    api: ['invalid_request', 'A value in the request is not valid'],
  },
  FST_ERR_BAD_URL: NOT_FOUND,
  FST_ERR_MAX_PARAM_LENGTH: NOT_FOUND,
};
const OTHER_CLIENT_ERROR: Known = { title: PROBLEM, message: UNREADABLE, api: ['invalid_request', 'The request could not be read'] };

/** An address with a NUL in it: never one a person or a relying party uses, and PostgreSQL cannot compare text with one. */
export class UnusableAddress extends Error {
  override name = 'UnusableAddress';
  readonly statusCode = 400;
  readonly code = 'FST_ERR_VALIDATION';
  constructor() {
    super('The address has a NUL in it');
  }
}

/** A form that could not be read at all (a broken multipart body): a 400 with the closed "could not be read" page. */
export class UnreadableForm extends Error {
  override name = 'UnreadableForm';
  readonly statusCode = 400;
  constructor() {
    super('The form could not be read');
  }
}

export interface Face {
  layoutName: string;
  home: string;
  /** Extra context for the page (an environment's label). */
  context?: Record<string, unknown>;
  /** An environment's pages: a refusal names its OAuth error code (RFC 6749 section 4.1.2.1), invalid_request. */
  oauth?: boolean;
}

/** Answers an error the route did not answer itself. `faceOf` says whose layout a page takes. */
export function answerError(render: Render, publicUrl: string, faceOf: (req: FastifyRequest) => Face) {
  const origin = new URL(publicUrl).origin;
  return (err: { statusCode?: number; code?: string; message: string }, req: FastifyRequest, reply: FastifyReply) => {
    const page = (status: number, ctx: Record<string, unknown>) =>
      reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(render('error.njk', ctx));
    if (err instanceof PasswordHashingBusy) {
      reply.header('retry-after', '5');
      const message = 'Too many people are signing in at this moment. Try again in a few seconds.';
      return page(503, { title: 'Sorry, the service is busy', message });
    }
    const clientError = err.statusCode && err.statusCode >= 400 && err.statusCode < 500;
    if (!clientError) req.log.error({ err }, 'unhandled error');
    const known = !clientError ? undefined : Object.hasOwn(CLIENT_ERRORS, err.code ?? '') ? CLIENT_ERRORS[err.code!]! : OTHER_CLIENT_ERROR;
    const status = !clientError ? 500 : (known?.status ?? err.statusCode!);
    if (req.url.startsWith('/api/')) {
      const [error, message]: [ErrorCode, string] = known?.api ?? ['server_error', 'Something went wrong on our side; try again'];
      return reply.code(status).header('cache-control', 'no-store').send({ error, message });
    }
    const face = faceOf(req);
    if (!known) {
      return page(500, {
        layoutName: face.layoutName, ...face.context, title: 'Sorry, there is a problem with the service',
        message: 'Something went wrong on our side. Try again; if it keeps happening, tell the NHS login team.',
      });
    }
    // Back to the page the form was on when the browser says so (same site only), else the start of its part.
    let back = face.home;
    try {
      const referer = new URL(String(req.headers.referer ?? ''));
      if (referer.origin === origin) back = referer.pathname + referer.search;
    } catch {
      // no usable Referer
    }
    const code = face.oauth ? { code: 'invalid_request' } : {};
    return page(status, { layoutName: face.layoutName, ...face.context, title: known.title, message: known.message, back, ...code });
  };
}
