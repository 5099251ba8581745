/**
 * Users Endpoint V2 (its interface specification v1.1): `GET /<env>/v2/Users?filter=…`, a read-only SCIM 2.0 look-up
 * of NHS login accounts by NHS number or email, for a client the NHS login team approved, with a token of the
 * jwt-bearer grant (grant.ts). NHS login serves it on its own host; each environment here serves it under its issuer.
 *
 * Order of the checks: the token (who asks), its scopes (what it may see), then the filter (what it asks), so that a
 * client without access learns nothing from the answers to its filters. Every call is in the protocol record.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EnvironmentConfig } from '../../config/index.ts';
import { findPeopleByEmail, findPeopleByNhsNumber, getClient, type Db, type EventSink, type PersonRow,
  type UsersV2Error } from '../../storage/index.ts';
import { levelAtLeast } from '../vectors.ts';
import type { Environment } from '../environment.ts';
import { bearer, clientNamed } from '../steps/bearer.ts';
import { FILTER_ERROR_TEXT, parseFilter, type Predicate } from './filter.ts';
import { approvedScopes } from './grant.ts';
import { listResponse, scimUser } from './resource.ts';
import { effectiveScopes } from './scopes-check.ts';

const SCIM = 'application/scim+json';

interface Deps {
  env: Environment;
  db: Db;
  events: EventSink;
}

/** A refusal: the status, the record's code, and the description the specification gives for it (Tables 9, 10). */
class Refusal {
  readonly status: number;
  readonly error: UsersV2Error;
  readonly description: string;
  readonly detail: string | undefined;
  constructor(status: number, error: UsersV2Error, description: string, detail?: string) {
    this.status = status;
    this.error = error;
    this.description = description;
    this.detail = detail;
  }
}

/** The token's client and scopes, or the 401 the specification leaves to RFC 6750 §3.1. */
async function authorise(d: Deps, token: string | undefined) {
  const c = d.env.config;
  const invalid = (why: string) => new Refusal(401, 'invalid_token', why);
  if (!token) throw invalid('send the access token from the jwt-bearer grant as Authorization: Bearer <token>');
  const handle = await d.env.codec.unwrap(token);
  const issued = handle ? await d.env.provider.ClientCredentials.find(handle) : undefined;
  if (!issued) throw invalid('the access token is not one this environment issued for Users Endpoint V2, or it has expired');
  const client = issued.clientId ? await getClient(d.db, c.name, issued.clientId) : undefined;
  if (!client || client.status === 'suspended') throw invalid('this client is suspended by the NHS login team');
  if (!client.usersV2) throw invalid('this client is no longer approved for Users Endpoint V2');
  const requested = String(issued.scope ?? '').split(' ').filter(Boolean);
  return { client, requested };
}

/** One AND-group: its first predicate is looked up (both are indexed), the others are checked on what it found. */
async function matchGroup(d: Deps, group: Predicate[]): Promise<PersonRow[]> {
  const env = d.env.config.name;
  const [first, ...rest] = group;
  const lookUp = first!.attribute === 'email' ? findPeopleByEmail : findPeopleByNhsNumber;
  const found = await lookUp(d.db, env, first!.value);
  return found.filter((p) => [first!, ...rest].every((q) => matches(p, q)));
}

/** An account is known by its NHS number only once its identity is verified (P5 or P9): a P0 account's is unproven. */
function matches(p: PersonRow, q: Predicate): boolean {
  return q.attribute === 'email' ? p.email === q.value : levelAtLeast(p.proofing_level, 'P5') && p.nhs_number === q.value;
}

async function search(d: Deps, req: FastifyRequest, details: Record<string, unknown>) {
  const token = bearer(req);
  const { client, requested } = await authorise(d, token);
  details.client = client.clientId;
  const scopes = effectiveScopes(d.env.config.name, requested, approvedScopes(d.env.config.name, client.scopes));
  if (!scopes.ok) throw new Refusal(403, scopes.refusal.error, scopes.refusal.description);
  details.scope = [...scopes.scopes].join(' ');
  const filter = (req.query as Record<string, unknown>).filter;
  // The filter names the people looked for: kept in the record of the test environments only.
  if (d.env.config.name !== 'live' && typeof filter === 'string') details.filter = filter.slice(0, 2000);
  const parsed = parseFilter(filter);
  if (!parsed.ok) throw new Refusal(400, parsed.error, FILTER_ERROR_TEXT[parsed.error], parsed.detail);
  details.expressions = parsed.expressions;
  const people = new Map<string, PersonRow>();
  for (const group of parsed.groups) for (const p of await matchGroup(d, group)) people.set(p.id, p);
  const ordered = [...people.values()].sort((a, b) => a.created_at - b.created_at || a.id.localeCompare(b.id));
  details.results = ordered.length;
  const view = { env: d.env.config.name, clientIm1: client.im1, scopes: scopes.scopes };
  return { clientId: client.clientId, body: listResponse(ordered.map((p) => scimUser(p, view))), people: ordered.map((p) => p.id) };
}

function scimError(reply: FastifyReply, r: Refusal) {
  if (r.status === 401) {
    reply.header('www-authenticate', `Bearer error="invalid_token", error_description="${r.description.replace(/["\\]/g, '')}"`);
  }
  return reply.code(r.status).type(SCIM).send({ Errors: [{ description: r.description, code: String(r.status) }] });
}

export function registerUsersV2(scoped: FastifyInstance, d: Deps) {
  const c: EnvironmentConfig = d.env.config;
  type Outcome = { error?: UsersV2Error; description?: string };
  const record = (clientId: string | undefined, outcome: Outcome, details: Record<string, unknown>) => {
    delete details.client;
    d.events.record(outcome.error
      ? { env: c.name, clientId, kind: 'users_v2', outcome: 'error', error: outcome.error, description: outcome.description, details }
      : { env: c.name, clientId, kind: 'users_v2', outcome: 'ok', details });
  };
  scoped.register(async (api) => {
    // Its own answers for whatever a request carries: never the journeys' HTML error pages.
    api.addContentTypeParser('*', (_req, _payload, done) => done(null));
    api.setErrorHandler((err: { statusCode?: number }, _req, reply) => {
      // Refused before the handler ran (the app's checks of the address, e.g. a NUL in it): the filter's syntax error.
      if (err.statusCode === 400) {
        record(undefined, { error: 'invalid_syntax', description: FILTER_ERROR_TEXT.invalid_syntax }, { status: 400 });
        return scimError(reply, new Refusal(400, 'invalid_syntax', FILTER_ERROR_TEXT.invalid_syntax));
      }
      reply.log.error({ err }, 'Users Endpoint V2 failed');
      return reply.code(500).type('application/json').send({ error: 'Internal server error' }); // §3.3.3 "Other Possible Errors"
    });
    api.get('/v2/Users', async (req, reply) => {
      const details: Record<string, unknown> = {};
      try {
        const found = await search(d, req, details);
        record(found.clientId, {}, { status: 200, ...details, people: found.people });
        return reply.code(200).type(SCIM).header('cache-control', 'no-store').send(found.body);
      } catch (e) {
        if (!(e instanceof Refusal)) {
          record(details.client as string | undefined, { error: 'server_error' }, { status: 500, ...details });
          throw e;
        }
        const clientId = (details.client as string | undefined) ?? (await clientNamed(d, bearer(req)));
        const said = { status: e.status, ...details, ...(e.detail ? { detail: e.detail } : {}) };
        record(clientId, { error: e.error, description: e.description }, said);
        return scimError(reply.header('cache-control', 'no-store'), e);
      }
    });
    // A read-only endpoint (§2.2): other methods, and paths below it, are answered in its own shape.
    api.route({
      method: ['POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/v2/Users',
      handler: async (_req, reply) => {
        record(undefined, { error: 'method_not_allowed' }, { status: 405 });
        return scimError(reply.header('allow', 'GET'), new Refusal(405, 'method_not_allowed', 'Method not allowed'));
      },
    });
    api.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v2/Users/*', handler: async (_req, reply) => {
      record(undefined, { error: 'not_found' }, { status: 404 });
      return scimError(reply, new Refusal(404, 'not_found', 'Not found: look users up with GET /v2/Users?filter=…'));
    } });
  });
}
