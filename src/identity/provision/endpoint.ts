/**
 * Provision Account (spec-Provision_Account_v1): `POST /<env>/provision-account`, by which a partner the NHS login team
 * approved asks NHS login to invite a patient it has verified to set up a P9 account (or uplift theirs), with a token
 * of the client_credentials grant (grant.ts). NHS login serves it on its own host; each environment here serves it
 * under its issuer. The check order and the statuses are brief §5's (P§3.3.3 T11 gives the codes' texts only).
 * Every call is in the protocol record, and an accepted request is stored before it is answered.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { countRequest, endProvision, getClient, insertProvisionRequest, provisionPending, provisionPendingKey,
  type ClientRecord, type Db, type EventSink, type ProvisionError } from '../../storage/index.ts';
import { hashSecret, newSecret } from '../../security/tokens.ts';
import type { Environment } from '../environment.ts';
import type { PeopleData } from '../people/index.ts';
import type { MailPort } from '../journeys/flow.ts';
import { invitation } from './mail.ts';
import { takeFault } from '../fault-sequence.ts';
import { bearer, clientNamed } from '../steps/bearer.ts';
import { checkPerson } from './checks.ts';
import { PROVISION_GRANT } from './grant.ts';
import { BODY_LIMIT, parseProvisionRequest, type ProvisionInput } from './request.ts';

interface Deps {
  env: Environment;
  db: Db;
  events: EventSink;
  people: PeopleData;
  mail: MailPort;
}

const UNABLE = 'Unable to provision account for user';
/** P§3.3.3 T11, verbatim (the example's " 11004", with a space, is a typo). */
export const PROVISION_TEXT: Record<Exclude<ProvisionError, 'invalid_token' | 'method_not_allowed' | 'not_found'>, string> = {
  11000: 'Service not available.',
  11001: UNABLE, 11002: UNABLE, 11006: UNABLE, 11007: UNABLE, 11008: UNABLE, 11009: UNABLE, 11018: UNABLE, 11019: UNABLE,
  11003: 'User already has a pending provision account request from within last 7 days.',
  11004: 'Unable to provision account for user email already in use',
  11005: 'User already has P9 account',
  11010: 'Data in request not valid',
  11011: 'Too many requests from ODS code',
  11021: 'Service not supported for ODS code provided',
};
/** P§3.3.2 T9. */
const ANSWER = { create: 'User able to create a new account', uplift: 'User able to uplift an existing account' } as const;

/** A request stays pending, and its link works, for 7 days (the 11003 window; ASSUMPTION: the link's life too). */
export const PENDING_MS = 7 * 24 * 3600 * 1000;
/** Requests per ODS code in storage/lockout.ts's window (15 minutes), then 11011 (ASSUMPTION: 50). */
export const ODS_REQUESTS = 50;

/** A refusal: the status (brief §5's ASSUMPTION: 400, 11000 503, 11011 429), the code, and its text. */
class Refusal {
  readonly status: number;
  readonly code: ProvisionError;
  readonly description: string;
  readonly detail: string | undefined;
  constructor(code: ProvisionError, detail?: string, status?: number, description?: string) {
    this.code = code;
    this.status = status ?? (code === '11000' ? 503 : code === '11011' ? 429 : 400);
    this.description = description ?? PROVISION_TEXT[code as keyof typeof PROVISION_TEXT] ?? code;
    this.detail = detail;
  }
}

/** The token's client, or a 401 (not in the specification: RFC 6750 §3.1). */
async function authorise(d: Deps, token: string | undefined): Promise<ClientRecord> {
  const invalid = (why: string) => new Refusal('invalid_token', undefined, 401, why);
  if (!token) throw invalid('send the access token from the client_credentials grant as Authorization: Bearer <token>');
  const handle = await d.env.codec.unwrap(token);
  const issued = handle ? await d.env.provider.ClientCredentials.find(handle) : undefined;
  const grant = (issued as { extra?: { nhs_grant?: string } } | undefined)?.extra?.nhs_grant;
  if (!issued || grant !== PROVISION_GRANT) {
    throw invalid('the access token is not one this environment issued for Provision Account (grant_type=client_credentials), '
      + 'or it has expired');
  }
  const client = issued.clientId ? await getClient(d.db, d.env.config.name, issued.clientId) : undefined;
  if (!client || client.status === 'suspended') throw invalid('this client is suspended by the NHS login team');
  if (!client.provisioning) throw invalid('this client is no longer approved for Provision Account');
  return client;
}

/** The client's armed Provision Account fault of this kind, used up once (never in live: identity/faults.ts). */
async function fault(d: Deps, client: ClientRecord, kind: string): Promise<boolean> {
  if (!d.env.config.capabilities.faults || !client.fault) return false;
  const env = d.env.config.name;
  const step = await takeFault(d.db, env, client.clientId, (armed) => armed === kind);
  if (!step) return false;
  const details = { route: 'provision', step: step.index + 1 };
  d.events.record({ env, clientId: client.clientId, kind: 'fault', outcome: 'ok', fault: kind, details });
  return true;
}

async function provision(d: Deps, req: FastifyRequest, details: Record<string, unknown>) {
  const env = d.env.config.name;
  const client = await authorise(d, bearer(req));
  details.client = client.clientId;
  if (await fault(d, client, 'provision_unavailable')) throw new Refusal('11000', 'injected fault');
  const parsed = parseProvisionRequest(typeof req.body === 'string' ? req.body : undefined);
  if (!parsed.ok) throw new Refusal('11010', parsed.detail);
  const input: ProvisionInput = parsed.input;
  details.ods_code = input.ods_code;
  if (!client.provisioningOds.includes(input.ods_code)) {
    throw new Refusal('11021', `approved for ${client.provisioningOds.join(', ') || 'no ODS code'}`);
  }
  // Counted only once the ODS code is the client's own, so a stranger cannot make counters (brief §5 step 4).
  const counted = await countRequest(d.db, `provision:${env}:${input.ods_code}`, ODS_REQUESTS);
  if (!counted || (await fault(d, client, 'provision_rate_limited'))) {
    throw new Refusal('11011', `more than ${ODS_REQUESTS} requests in 15 minutes`);
  }
  const key = provisionPendingKey(env, client.clientId, input.nhs_number);
  if (await provisionPending(d.db, key)) throw new Refusal('11003');
  const checked = await checkPerson(d.db, d.people, env, input, client.organisationId);
  if (!checked.ok) throw new Refusal(checked.code, checked.detail);
  if (await fault(d, client, 'provision_unable')) throw new Refusal('11019', 'injected fault');
  const now = Date.now();
  const token = newSecret();
  const row = {
    id: randomUUID(), env, client_id: client.clientId, organisation_id: client.organisationId, ods_code: input.ods_code,
    nhs_number: input.nhs_number, email: input.email_address, birthdate: input.date_of_birth, phone_number: input.phone_number,
    kind: checked.kind, person_id: checked.person?.id ?? null, token_hash: hashSecret(token), status: 'pending' as const,
    otp_failures: 0, created_at: now, expires_at: now + PENDING_MS, claimed_at: null,
  };
  // Stored (and the NHS number's pending key claimed) before the answer says it was accepted.
  if (!(await insertProvisionRequest(d.db, key, row))) throw new Refusal('11003', 'another request was accepted at the same time');
  details.kind = checked.kind;
  details.request = row.id;
  try {
    // Into the outbox (written, never lost; sent when SMTP is configured): PW "How it works" 1 step 4.
    await d.mail.send(await invitation(d.db, d.env.config, row, token));
  } catch (e) {
    await endProvision(d.db, row, 'failed'); // not invited: the NHS number is free for another request
    throw e;
  }
  return { client, kind: checked.kind, person: checked.person?.id, token, request: row };
}

function send(reply: FastifyReply, status: number, body: Record<string, string>) {
  return reply.code(status).type('application/json').header('cache-control', 'no-store').send(body);
}

function refuse(reply: FastifyReply, r: Refusal) {
  if (r.status === 401) {
    reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${r.description.replace(/["\\]/g, '')}"`);
  }
  if (r.status === 429) reply.header('retry-after', '900');
  if (r.code === 'method_not_allowed') reply.header('allow', 'POST');
  const code = /^\d+$/.test(r.code) ? r.code : String(r.status);
  return send(reply, r.status, { code, description: r.description });
}

export function registerProvisionAccount(scoped: FastifyInstance, d: Deps) {
  const env = d.env.config.name;
  const record = (clientId: string | undefined, r: Refusal | undefined, details: Record<string, unknown>) => {
    delete details.client;
    d.events.record(r
      ? { env, clientId, kind: 'provision', outcome: 'error', error: r.code, description: r.description, details }
      : { env, clientId, kind: 'provision', outcome: 'ok', details });
  };
  scoped.register(async (api) => {
    // The body is read as text and checked here, whatever its type says, so that every malformed one is 11010 (P§3.3.3).
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
    api.setErrorHandler((err: { statusCode?: number }, _req, reply) => {
      // Refused before the handler ran (a body too large, a NUL in the address, ...): the request is not valid.
      const r = err.statusCode && err.statusCode < 500 ? new Refusal('11010', 'refused before it was read') : new Refusal('11000');
      if (r.code === '11000') reply.log.error({ err }, 'Provision Account failed');
      record(undefined, r, { status: r.status, ...(r.detail ? { detail: r.detail } : {}) });
      return refuse(reply, r);
    });
    api.post('/provision-account', async (req, reply) => {
      const details: Record<string, unknown> = {};
      try {
        const done = await provision(d, req, details);
        record(done.client.clientId, undefined, { status: 200, code: done.kind, ...details });
        return send(reply, 200, { code: done.kind, description: ANSWER[done.kind] });
      } catch (e) {
        // Anything unexpected is the service not being available (brief §5 step 1), never a 500 page.
        if (!(e instanceof Refusal)) reply.log.error({ err: e }, 'Provision Account failed');
        const r = e instanceof Refusal ? e : new Refusal('11000');
        const clientId = (details.client as string | undefined) ?? (await clientNamed(d, bearer(req)));
        record(clientId, r, { status: r.status, ...details, ...(r.detail ? { detail: r.detail } : {}) });
        return refuse(reply, r);
      }
    });
    api.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: '/provision-account', handler: async (_req, reply) => {
      const r = new Refusal('method_not_allowed', undefined, 405, 'Method not allowed: send POST');
      record(undefined, r, { status: 405 });
      return refuse(reply, r);
    } });
    api.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/provision-account/*', handler: async (_req, reply) => {
      const r = new Refusal('not_found', undefined, 404, 'Not found: send POST /provision-account');
      record(undefined, r, { status: 404 });
      return refuse(reply, r);
    } });
  });
}
