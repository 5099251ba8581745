/** What every /api/v1 route shares: dependencies, the acting organisation, and JSON errors with stable codes. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.ts';
import { ApplicationInvalid, type Onboarding, type Organisation } from '../onboarding/index.ts';
import { ERROR_CODES, type ToolkitError, type ErrorCode } from '../errors.ts';
import type { Render } from '../web/views.ts';
import type { RunScheduler } from '../conformance/index.ts';

export interface ApiDeps {
  config: Config;
  /** The onboarding use-cases (onboarding/use-cases.ts): the API's only way to the database. */
  onboarding: Onboarding;
  render: Render;
  conformance: RunScheduler;
}

/** The organisation a request acts for, with the rights of the member whose token it is. */
export interface Actor {
  organisation: Organisation;
  userId: string;
}

export function actorOf(req: FastifyRequest): Actor {
  return (req as unknown as { actor: Actor }).actor;
}

/**
 * The API's one error shape, `{ error, message, field? }`, with the code's status from the table (src/errors.ts).
 * `status` is given only for a client error Fastify raised with a status of its own.
 */
export function fail(reply: FastifyReply, error: ErrorCode, message: string, field?: string, status: number = ERROR_CODES[error].status) {
  return reply.code(status).header('cache-control', 'no-store').send({ error, message, ...(field ? { field } : {}) });
}

/** The toolkit's errors as API errors: their code is the stable `error`, their field the `field`. */
export function failWith(reply: FastifyReply, e: ToolkitError) {
  if (e instanceof ApplicationInvalid) {
    return reply.code(e.status).header('cache-control', 'no-store').send({ error: e.code, message: e.message, problems: e.problems });
  }
  return fail(reply, e.code, e.message, e.field);
}

/** Reads a JSON string field: undefined when absent, else the value if it is a string. */
export function str(body: unknown, key: string): string | undefined {
  const v = (body as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'string' ? v : undefined;
}

export function strings(body: unknown, key: string): string[] | undefined {
  const v = (body as Record<string, unknown> | undefined)?.[key];
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
}
