/**
 * /api/v1: the portal's self-service as JSON for partners' CI. Every route acts for the organisation of its
 * bearer token and nothing else; errors are JSON with a stable code and a message that says what to change.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.ts';
import { getClient, listClients, type ClientRecord, type Db, type EventSink } from '../storage/index.ts';
import { armFault, clearFault, FaultError, registerClient, RegistrationError } from '../identity/index.ts';
import { journeyChecklist, organisationForToken, requestTrace } from '../onboarding/index.ts';
import type { Render } from '../web/views.ts';
import { openApiDocument } from './openapi.ts';

export interface ApiDeps {
  config: Config;
  db: Db;
  events: EventSink;
  render: Render;
}

type ErrorCode = 'unauthorized' | 'not_found' | 'invalid_request' | string;

function fail(reply: FastifyReply, status: number, error: ErrorCode, message: string, field?: string) {
  return reply.code(status).header('cache-control', 'no-store').send({ error, message, ...(field ? { field } : {}) });
}

async function organisationOf(d: ApiDeps, req: FastifyRequest): Promise<string | undefined> {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m ? organisationForToken(d.db, m[1]!) : undefined;
}

function view(d: ApiDeps, c: ClientRecord) {
  const issuer = d.config.environments.find((e) => e.name === c.env)!.issuer;
  return { client_id: c.clientId, env: c.env, name: c.name, redirect_uris: c.redirectUris, scopes: c.scopes, vtr: c.vtr, discovery: `${issuer}/.well-known/openid-configuration`, fault: c.fault };
}

export async function apiRoutes(app: FastifyInstance, d: ApiDeps) {
  app.get('/openapi.json', async () => openApiDocument(d.config.publicUrl));
  app.get('/docs', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(d.render('api-docs.njk', { title: 'API reference', serviceName: 'NHS login integration toolkit', doc: openApiDocument(d.config.publicUrl) })));

  // Everything else needs a token; the organisation is decided by it, never by the request.
  app.register(async (authed) => {
    authed.decorateRequest('organisationId', '');
    authed.addHook('preHandler', async (req, reply) => {
      const org = await organisationOf(d, req);
      if (!org) return fail(reply.header('www-authenticate', 'Bearer'), 401, 'unauthorized', 'Send an organisation API token: Authorization: Bearer nhslt_... (create one in the portal)');
      (req as unknown as { organisationId: string }).organisationId = org;
    });
    const orgOf = (req: FastifyRequest) => (req as unknown as { organisationId: string }).organisationId;
    const ownClient = async (req: FastifyRequest<{ Params: { clientId: string } }>, reply: FastifyReply) => {
      const c = await getClient(d.db, 'sandpit', req.params.clientId);
      if (!c || c.organisationId !== orgOf(req)) {
        fail(reply, 404, 'not_found', 'There is no such client in your organisation');
        return undefined;
      }
      return c;
    };

    authed.get('/organisation', async (req) => {
      const org = await d.db.selectFrom('organisation').selectAll().where('id', '=', orgOf(req)).executeTakeFirstOrThrow();
      return { id: org.id, name: org.name, ods_code: org.ods_code };
    });
    authed.get('/clients', async (req) => (await listClients(d.db, 'sandpit', orgOf(req))).map((c) => view(d, c)));
    authed.post<{ Body: Record<string, unknown> }>('/clients', async (req, reply) => {
      const b = req.body ?? {};
      const strings = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
      if (typeof b.name !== 'string' || !strings(b.redirect_uris) || !strings(b.vtr) || (b.scopes !== undefined && !strings(b.scopes))) {
        return fail(reply, 400, 'invalid_request', 'Send JSON with name (string), redirect_uris, vtr and optionally scopes (arrays of strings), and public_key_pem or jwks_uri');
      }
      try {
        const c = await registerClient(d.db, {
          env: 'sandpit', organisationId: orgOf(req), name: b.name, redirectUris: strings(b.redirect_uris)!, vtr: strings(b.vtr)!, scopes: strings(b.scopes) ?? ['openid'],
          publicKeyPem: typeof b.public_key_pem === 'string' ? b.public_key_pem : undefined, jwksUri: typeof b.jwks_uri === 'string' ? b.jwks_uri : undefined,
        });
        return reply.code(201).send(view(d, c));
      } catch (e) {
        if (e instanceof RegistrationError) return fail(reply, 400, e.code, e.message, e.field);
        throw e;
      }
    });
    authed.get<{ Params: { clientId: string } }>('/clients/:clientId', async (req, reply) => {
      const c = await ownClient(req, reply);
      return c && view(d, c);
    });
    authed.get<{ Params: { clientId: string } }>('/clients/:clientId/checklist', async (req, reply) => {
      const c = await ownClient(req, reply);
      if (!c) return;
      await d.events.flush();
      return journeyChecklist(d.db, c);
    });
    authed.get<{ Params: { clientId: string } }>('/clients/:clientId/trace', async (req, reply) => {
      const c = await ownClient(req, reply);
      if (!c) return;
      await d.events.flush();
      return requestTrace(d.db, c.env, c.clientId);
    });
    authed.put<{ Params: { clientId: string }; Body: { kind?: unknown; count?: unknown } }>('/clients/:clientId/fault', async (req, reply) => {
      const c = await ownClient(req, reply);
      if (!c) return;
      const count = req.body?.count === undefined || req.body.count === null ? null : Number(req.body.count);
      try {
        await armFault(d.db, c.env, c.clientId, req.body?.kind, count);
        return reply.code(204).send();
      } catch (e) {
        if (e instanceof FaultError) return fail(reply, 400, 'invalid_fault', e.message, 'kind');
        throw e;
      }
    });
    authed.delete<{ Params: { clientId: string } }>('/clients/:clientId/fault', async (req, reply) => {
      const c = await ownClient(req, reply);
      if (!c) return;
      await clearFault(d.db, c.env, c.clientId);
      return reply.code(204).send();
    });
  });

  app.setNotFoundHandler((_req, reply) => fail(reply, 404, 'not_found', 'No such API route: see /api/v1/openapi.json'));
}
