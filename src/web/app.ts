/** Composes the faces into one Fastify app: the environments, health and metrics. */
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { Config } from '../config/index.ts';
import { createEventSink, openDatabase, purgeExpired, type Database, type EventSink } from '../storage/index.ts';
import { createIdentity, matchEnvironment, mountEnvironments, type Identity } from '../identity/index.ts';
import { Metrics, meteredSink } from '../observability/metrics.ts';
import { ASSET_PREFIX, createRenderer, INIT_SCRIPT, INIT_SCRIPT_PATH, NHSUK_DIST } from './views.ts';
import { createMailer, deliverWebhooks, notifyDeps, partnersPerStage, purgeSessions, type Mailer } from '../onboarding/index.ts';
import { PORTAL_VIEWS, portalRoutes } from '../portal/index.ts';
import { apiRoutes } from '../api/routes.ts';
import { CONSOLE_VIEWS, consoleRoutes } from '../console/index.ts';
import { CONFORMANCE_VIEWS, createRunScheduler, refusedToRunBrowser, type RunScheduler } from '../conformance/index.ts';
import { PasswordHashingBusy } from '../security/passwords.ts';

export interface App {
  fastify: FastifyInstance;
  database: Database;
  identity: Identity;
  events: EventSink;
  metrics: Metrics;
  mailer: Mailer;
  conformance: RunScheduler;
  close(): Promise<void>;
}

const PURGE_EVERY_MS = 60_000;
const KEY_REFRESH_MS = 30_000;
const FORM_LIMIT = 64 * 1024;
const STAGES_EVERY_MS = 10_000;
const DELIVERY_EVERY_MS = 10_000;

export async function buildApp(config: Config, options: { database?: Database } = {}): Promise<App> {
  const database = options.database ?? (await openDatabase(config.database));
  const fastify = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
  });
  const metrics = new Metrics();
  const events = meteredSink(createEventSink(database.db, (err) => fastify.log.error({ err }, 'protocol record write failed')), metrics);
  const render = createRenderer([path.join(import.meta.dirname, '..', 'identity', 'journeys', 'views'), PORTAL_VIEWS, CONSOLE_VIEWS, CONFORMANCE_VIEWS]);
  const identity = await createIdentity(config, database.db, events, render, fastify.log);

  // Set before any plugin is registered: plugins inherit the handlers in force when they load.
  // Anything unexpected: logged in full, answered without internals — JSON under /api/v1, an NHS-style page
  // elsewhere. Client errors Fastify raises itself (a body too large, bad content type) keep their status.
  fastify.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    if (err instanceof PasswordHashingBusy) {
      return reply.code(503).header('retry-after', '5').header('cache-control', 'no-store').type('text/html; charset=utf-8')
        .send(render('error.njk', { title: 'Sorry, the service is busy', message: 'Too many people are signing in at this moment. Try again in a few seconds.' }));
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'unhandled error');
    const message = status === 500 ? 'Something went wrong on our side. Try again; if it keeps happening, tell the NHS login team.' : err.message;
    if (req.url.startsWith('/api/')) return reply.code(status).send({ error: status === 500 ? 'server_error' : 'invalid_request', message });
    return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8')
      .send(render('error.njk', { title: status === 500 ? 'Sorry, there is a problem with the service' : 'There is a problem with the request', message }));
  });
  fastify.setNotFoundHandler((_req, reply) =>
    reply.code(404).type('text/html; charset=utf-8').send(render('error.njk', { title: 'Page not found', message: 'If you typed the web address, check it is correct. If you pasted it, check you copied the entire address.' })),
  );

  // Forms are small (the longest field is a pasted public key or a 4,000-character description). Anyone can post
  // one, and parsing a 1 MB form of 100,000 fields held the event loop for a third of a second.
  await fastify.register(formbody, { bodyLimit: FORM_LIMIT });
  await fastify.register(cookie);
  await fastify.register(fastifyStatic, { root: NHSUK_DIST, prefix: `${ASSET_PREFIX}/`, maxAge: '1d' });
  fastify.get(INIT_SCRIPT_PATH, async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(INIT_SCRIPT));
  // Counted when the response finishes, so protocol requests handed to the engine (hijacked) count too.
  fastify.addHook('onRequest', async (req, reply) => {
    const url = req.url; // before the environment hook hands the request to the engine relative to its issuer
    reply.raw.once('finish', () => {
      // By now the environment hook has pinned Host to the issuer's, so host-routed environments match too.
      const env = matchEnvironment(identity.environments, String(req.raw.headers.host ?? ''), url)?.env.config.name ?? 'none';
      metrics.requests.inc({ env, status: `${Math.floor(reply.raw.statusCode / 100)}xx` });
    });
  });
  // A conformance run's browser may open the environments' journeys here, nothing else (conformance/browsing.ts).
  fastify.addHook('onRequest', async (req, reply) => {
    if (!refusedToRunBrowser(config, req.headers['user-agent'], req.url)) return;
    return reply.code(403).type('text/plain; charset=utf-8').send('A conformance run may open only the sign-in journeys on the toolkit');
  });
  mountEnvironments(fastify, identity.environments, { db: database.db, events, render, people: identity.people });

  const mailer = createMailer(database.db, { smtpUrl: config.smtpUrl, from: config.mailFrom });
  const conformance = createRunScheduler({ config, db: database.db, events }, fastify.log);
  await fastify.register((scoped) => portalRoutes(scoped, { config, db: database.db, events, mailer, render, people: identity.people, conformance }), { prefix: '/portal' });
  await fastify.register((scoped) => apiRoutes(scoped, { config, db: database.db, events, render, mailer, people: identity.people, conformance }), { prefix: '/api/v1' });
  await fastify.register((scoped) => consoleRoutes(scoped, { config, db: database.db, mailer, render, events }), { prefix: '/console' });

  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.get('/readyz', async (_req, reply) => {
    try {
      await database.ping();
      return { status: 'ready', database: database.kind };
    } catch (err) {
      // The reason goes to the log, not to whoever asks: it can name hosts and users.
      fastify.log.error({ err }, 'readiness check failed: the database does not answer');
      return reply.code(503).send({ status: 'not ready', database: database.kind, error: 'the database does not answer (see the server log)' });
    }
  });
  // Partners per stage, read from the database (shared by every instance, so a gauge) at most every 10 s: the read
  // loads every organisation, and /metrics is open to anyone who can reach it.
  let stagesRead: { at: number; stages: ReturnType<typeof partnersPerStage> } | undefined;
  fastify.get('/metrics', async (_req, reply) => {
    if (!stagesRead || Date.now() - stagesRead.at > STAGES_EVERY_MS) stagesRead = { at: Date.now(), stages: partnersPerStage(database.db) };
    const read = stagesRead;
    const stages = (await read.stages.catch((err: unknown) => {
      if (stagesRead === read) stagesRead = undefined; // a failed read is not kept
      throw err;
    })).map(({ stage, count }) => ({ labels: { stage }, value: count }));
    return reply.type('text/plain; version=0.0.4').send(metrics.render([{ name: 'toolkit_partners', help: 'Partners by stage of the NHS login process.', values: stages }]));
  });
  fastify.get('/', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(render('home.njk', { title: 'NHS login integration toolkit', environments: config.environments })),
  );

  // Mail the SMTP server refused and chat webhook deliveries that failed are retried here, on every instance
  // (each retry is recorded in the database first, so instances do not send the same message twice at once).
  const deliveries = setInterval(() => {
    Promise.all([mailer.retry(), deliverWebhooks(notifyDeps({ db: database.db, mailer, config }))])
      .catch((err) => fastify.log.warn({ err }, 'notification delivery failed'));
  }, DELIVERY_EVERY_MS).unref();
  const purge = setInterval(() => Promise.all([purgeExpired(database.db), purgeSessions(database.db)]).catch((err) => fastify.log.warn({ err }, 'purge failed')), PURGE_EVERY_MS).unref();
  // Key rotation (toolkit keys rotate) is written to the database; every instance picks it up from there.
  const rotate = setInterval(() => {
    for (const env of identity.environments) {
      env.refreshKeys().then(
        (changed) => changed && fastify.log.info({ env: env.config.name }, 'signing keys reloaded'),
        (err) => fastify.log.error({ err, env: env.config.name }, 'signing key reload failed'),
      );
    }
  }, KEY_REFRESH_MS).unref();

  return {
    fastify,
    database,
    identity,
    events,
    metrics,
    mailer,
    conformance,
    async close() {
      clearInterval(purge);
      clearInterval(deliveries);
      clearInterval(rotate);
      await conformance.close();
      await fastify.close();
      await events.close();
      if (!options.database) await database.close();
    },
  };
}
