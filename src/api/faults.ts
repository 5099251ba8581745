/**
 * /api/v1/clients/{id}/faults: a partner's CI arms an ordered list of faults for one of its sandpit or integration
 * clients (identity/fault-sequence.ts), reads what is armed and what has fired, and clears it. `/fault` (singular)
 * arms one fault: a sequence of one step.
 */
import type { FastifyInstance } from 'fastify';
import { describeFaults, FaultError } from '../identity/index.ts';
import type { ClientRecord } from '../onboarding/index.ts';
import { failWith, type ApiDeps } from './context.ts';
import { ownClientOf } from './clients.ts';
import { BODIES, params } from './schemas.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The sequence as JSON: each step, its state (done, applies, waiting) and how many responses it spoiled. */
export function faultsView(seq: ClientRecord['fault']) {
  const v = describeFaults(seq);
  return v && {
    armed_at: iso(v.armedAt),
    steps: v.steps.map((s) => ({
      kind: s.kind, description: s.text, count: s.count, seconds: s.seconds, ms: s.ms, fired: s.fired, state: s.state,
      started_at: iso(s.startedAt),
    })),
  };
}

export function faultRoutes(app: FastifyInstance, d: ApiDeps) {
  const ownClient = ownClientOf(d);
  const one = { schema: params('clientId') };
  /** Arms through `arm`, answering a refusal as its stable code (invalid_fault) with the field it is about. */
  const arming = async (reply: import('fastify').FastifyReply, arm: () => Promise<void>) => {
    try {
      await arm();
      return reply.code(204).send();
    } catch (e) {
      if (e instanceof FaultError) return failWith(reply, e);
      throw e;
    }
  };
  app.get<{ Params: { clientId: string } }>('/clients/:clientId/faults', one, async (req, reply) => {
    const c = await ownClient(req, reply);
    return c && (faultsView(c.fault) ?? { armed_at: null, steps: [] });
  });
  app.put<{ Params: { clientId: string }; Body: { steps: unknown[] } }>(
    '/clients/:clientId/faults',
    { schema: { body: BODIES.faults, ...params('clientId') } },
    async (req, reply) => {
      const c = await ownClient(req, reply);
      if (c) return arming(reply, () => d.onboarding.armFaults(c.env, c.clientId, req.body.steps));
    },
  );
  app.put<{ Params: { clientId: string }; Body: { kind: string; count?: number | null } }>(
    '/clients/:clientId/fault',
    { schema: { body: BODIES.fault, ...params('clientId') } },
    async (req, reply) => {
      const c = await ownClient(req, reply);
      if (c) return arming(reply, () => d.onboarding.armFault(c.env, c.clientId, req.body.kind, req.body.count ?? null));
    },
  );
  for (const path of ['/clients/:clientId/faults', '/clients/:clientId/fault']) {
    app.delete<{ Params: { clientId: string } }>(path, one, async (req, reply) => {
      const c = await ownClient(req, reply);
      if (!c) return;
      await d.onboarding.clearFaults(c.env, c.clientId);
      return reply.code(204).send();
    });
  }
}
