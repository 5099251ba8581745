/** What every /api/v1 route shares: dependencies, the acting organisation, and JSON errors with stable codes. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.ts';
import type { Onboarding, OnboardingError, Organisation } from '../onboarding/index.ts';
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

export function fail(reply: FastifyReply, status: number, error: string, message: string, field?: string) {
  return reply.code(status).header('cache-control', 'no-store').send({ error, message, ...(field ? { field } : {}) });
}

/** Domain errors as API errors: their code is the stable `error`, their field the `field`. */
export function failWith(reply: FastifyReply, e: OnboardingError) {
  const status =
    e.code === 'rate_limited'
      ? 429
      : e.code === 'not_found'
        ? 404
        : e.code === 'not_a_member'
          ? 403
          : e.code === 'email_taken' || e.code === 'already_submitted' || e.code === 'not_ready'
            ? 409
            : 400;
  return fail(reply, status, e.code, e.message, e.field);
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
