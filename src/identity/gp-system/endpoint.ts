/**
 * The stand-in GP system: `POST /<env>/gp-system/session`, an IM1-style session call in EMIS's shape as far as
 * gp-credentials.md shows it (`POST /Session`, `"ApplicationLinkLevel": "Restricted"`). It is NOT part of NHS login:
 * it stands in for a GP system's IM1 API so that a partner can see what its service does with the
 * gp_integration_credentials claims when they stop working. Sandpit and integration only (config/capabilities.ts).
 * The body is the claim's three members as NHS login returns them (ASSUMPTION: the real IM1 APIs name them otherwise).
 * Every call is in the protocol record.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { findPersonByGpCredentials, type Db, type EventSink, type GpSessionError } from '../../storage/index.ts';
import { runGpAnswer } from './run-credentials.ts';

interface Deps {
  env: string;
  db: Db;
  events: EventSink;
}

const FIELDS = ['gp_user_id', 'gp_linkage_key', 'gp_ods_code'] as const;
const BODY_LIMIT = 4096;
/** ASSUMPTION: the doc shows no refusal's body; this one names the cause the way the toolkit's other endpoints do. */
const REFUSED = 'The GP system does not accept these credentials: the account was not found at this practice, '
  + 'or its online access has changed. Restart the NHS login process for refreshed gp_integration_credentials.';

type Parsed = { ok: true; c: { accountId: string; linkageKey: string; odsCode: string } } | { ok: false; why: string };

function parse(raw: unknown): Parsed {
  let body: unknown;
  try {
    body = typeof raw === 'string' ? JSON.parse(raw) : undefined;
  } catch {
    return { ok: false, why: 'the body is not JSON' };
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, why: 'the body must be a JSON object' };
  const b = body as Record<string, unknown>;
  for (const f of FIELDS) {
    const v = b[f];
    if (typeof v !== 'string' || !v.trim() || v.length > 64) return { ok: false, why: `${f} must be a non-empty string` };
  }
  return { ok: true, c: { accountId: b.gp_user_id as string, linkageKey: b.gp_linkage_key as string, odsCode: b.gp_ods_code as string } };
}

function send(reply: FastifyReply, status: number, body: Record<string, string>) {
  return reply.code(status).type('application/json').header('cache-control', 'no-store').send(body);
}

export function registerGpSystem(scoped: FastifyInstance, d: Deps): void {
  const refuse = (
    reply: FastifyReply, status: number, error: GpSessionError, message: string, details: Record<string, unknown>, clientId?: string,
  ) => {
    d.events.record({ env: d.env, clientId, kind: 'gp_session', outcome: 'error', error, description: message, details });
    return send(reply, status, { error, Message: message });
  };
  type Who = { person?: string; clientId?: string };
  const open = (reply: FastifyReply, level: 'Linked' | 'Restricted', details: Record<string, unknown>, who: Who) => {
    d.events.record({ env: d.env, ...who, kind: 'gp_session', outcome: 'ok', details: { level, ...details } });
    return send(reply, 200, { SessionId: randomUUID(), ApplicationLinkLevel: level });
  };
  scoped.register(async (api) => {
    // Read as text and checked here whatever its type says, so that every malformed body is a 400 with the same code.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
    api.setErrorHandler((err: { statusCode?: number }, _req, reply) =>
      refuse(reply, err.statusCode && err.statusCode < 500 ? 400 : 500, 'invalid_request', 'The request could not be read', {}));
    api.post('/gp-system/session', async (req, reply) => {
      const parsed = parse(req.body);
      if (!parsed.ok) return refuse(reply, 400, 'invalid_request', parsed.why, {});
      // A conformance test's own credentials: answered as the test needs, in the run's record (run-credentials.ts).
      const test = await runGpAnswer(d.db, d.env, parsed.c);
      if (test) {
        const details = { ods: parsed.c.odsCode, ...test.run };
        if (test.level === 'refused')
          return refuse(reply, 401, 'credentials_invalid', REFUSED, { ...details, state: 'revoked' }, test.clientId);
        return open(reply, test.level, details, { clientId: test.clientId });
      }
      const person = await findPersonByGpCredentials(d.db, d.env, parsed.c);
      const state = person?.gp_state ?? 'current';
      if (!person || !['current', 'restricted'].includes(state)) {
        return refuse(reply, 401, 'credentials_invalid', REFUSED, { ods: parsed.c.odsCode, ...(person ? { state } : {}) });
      }
      return open(reply, state === 'restricted' ? 'Restricted' : 'Linked', { ods: parsed.c.odsCode }, { person: person.id });
    });
  });
}
