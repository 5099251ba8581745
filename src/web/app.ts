/** Composes the faces into one Fastify app: the environments, health and metrics. */
import { hash, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import formbody from '@fastify/formbody';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { Config } from '../config/index.ts';
import { createEventSink, openDatabase, purgeExpired, type Database, type EventSink } from '../storage/index.ts';
import { createIdentity, matchEnvironment, mountEnvironments, type Identity } from '../identity/index.ts';
import { Metrics, meteredSink } from '../observability/metrics.ts';
import { ASSET_PREFIX, createRenderer, INIT_SCRIPT, INIT_SCRIPT_PATH, NHSUK_DIST, STYLESHEET, STYLESHEET_PATH } from './views.ts';
import {
  createDeliveries, createOnboarding, keepEvidence, partnersPerStage, purgeSessions, type Deliveries, type Mailer,
} from '../onboarding/index.ts';
import { MAILBOX_PATH, PORTAL_VIEWS, portalRoutes } from '../portal/index.ts';
import { apiRoutes } from '../api/routes.ts';
import { CONSOLE_VIEWS, consoleRoutes } from '../console/index.ts';
import { CONFORMANCE_VIEWS, createRunScheduler, refusedToRunBrowser, type RunScheduler } from '../conformance/index.ts';
import { trackConnections } from './shutdown.ts';
import { inlineScriptHashes, registerSecurityHeaders } from './headers.ts';
import { answerError, FORM_LIMIT, UnusableAddress } from './errors.ts';

export interface App {
  fastify: FastifyInstance;
  /** Serves /metrics alone; main.ts listens on METRICS_PORT with it when that is set. */
  metricsServer: FastifyInstance;
  database: Database;
  identity: Identity;
  events: EventSink;
  metrics: Metrics;
  mailer: Mailer;
  deliveries: Deliveries;
  conformance: RunScheduler;
  /** Before a shutdown: /readyz answers 503 for `ms`, still serving, so that a load balancer moves its traffic away. */
  drain(ms: number): Promise<void>;
  /** Every route Fastify registered (method, URL, schema), as its onRoute hook saw them: what exists to be reached. */
  routes: RouteOptions[];
  close(): Promise<void>;
}

const PURGE_EVERY_MS = 60_000;
/** Instances may differ by this much: a run's lease (15 s, renewed every 5 s) and token lifetimes tolerate it. */
export const CLOCK_SKEW_LIMIT_MS = 2000;

/** What an operator is told at start when this host's clock and the database's differ by more than the limit. */
export function clockSkewWarning(skewMs: number | undefined): string | undefined {
  if (skewMs === undefined || Math.abs(skewMs) <= CLOCK_SKEW_LIMIT_MS) return undefined;
  const s = (Math.abs(skewMs) / 1000).toFixed(1);
  return `This host's clock is ${s} s ${skewMs > 0 ? 'behind' : 'ahead of'} the database server's: instances on one database `
    + 'share leases, lockouts and token lifetimes, each in its own time. Synchronise the clocks (NTP).';
}
const KEY_REFRESH_MS = 10_000;
const STAGES_EVERY_MS = 10_000;
const DELIVERY_EVERY_MS = 10_000;

export async function buildApp(config: Config, options: { database?: Database } = {}): Promise<App> {
  const database = options.database ?? (await openDatabase(config.database));
  let answer: ReturnType<typeof answerError> = () => undefined as never;
  const fastify = Fastify({
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel },
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    // Shutdown (close below, shutdown.ts): Fastify's defaults destroy at once every connection without a request under
    // way, which cuts a client writing its next request at that moment, and answer 503 to requests while closing.
    forceCloseConnections: false,
    return503OnClosing: false,
    // A path Fastify cannot route (broken percent-encoding, a parameter over 100 characters): the same answers.
    frameworkErrors: (err, req, reply) => answer(err, req, reply),
  });
  const connections = trackConnections(fastify.server);
  let closing = false;
  // Before Fastify closes the server: the listener closes, requests on open connections are still served, each answer
  // closing its connection, so that a client's next request gets a clean refusal instead of a cut (shutdown.ts).
  fastify.addHook('preClose', async () => {
    closing = true;
    await connections.close();
  });
  const routes: RouteOptions[] = [];
  fastify.addHook('onRoute', (route) => void routes.push(route));
  const metrics = new Metrics();
  const events = meteredSink(
    createEventSink(database.db, (err) => fastify.log.error({ err }, 'protocol record write failed')),
    metrics,
  );
  const render = createRenderer([
    path.join(import.meta.dirname, '..', 'identity', 'journeys', 'views'),
    PORTAL_VIEWS,
    CONSOLE_VIEWS,
    CONFORMANCE_VIEWS,
  ]);
  const identity = await createIdentity(config, database.db, events, render, fastify.log);
  answer = answerError(render, config.publicUrl, (req) => {
    const url = req.url;
    if (url.startsWith('/portal')) return { layoutName: 'portal/layout.njk', home: '/portal' };
    if (url.startsWith('/console')) return { layoutName: 'console/layout.njk', home: '/console' };
    const env = matchEnvironment(identity.environments, String(req.headers.host ?? '').toLowerCase(), url)?.env.config;
    if (env)
      return {
        layoutName: 'layout.njk',
        home: `${env.mountPath}/settings`,
        context: { environmentLabel: env.name[0]!.toUpperCase() + env.name.slice(1) },
        oauth: true,
      };
    return { layoutName: 'layout.njk', home: '/' };
  });
  // First of the onRequest hooks: the environments' hook hands protocol requests to the engine after it.
  registerSecurityHeaders(fastify, config, identity.environments, inlineScriptHashes(render('error.njk', { title: '', message: '' })));

  // Set before any plugin is registered: plugins inherit the handlers in force when they load. Anything
  // unexpected is logged in full and answered without internals; client errors Fastify raises itself (a body too
  // large, a bad content type, a malformed address) keep their status, with a message of our own.
  fastify.setErrorHandler(answer);
  fastify.setNotFoundHandler((_req, reply) =>
    reply
      .code(404)
      .type('text/html; charset=utf-8')
      .send(
        render('error.njk', {
          title: 'Page not found',
          message: 'If you typed the web address, check it is correct. If you pasted it, check you copied the entire address.',
        }),
      ),
  );

  // Forms are small (the longest field is a pasted public key or a 4,000-character description). Anyone can post
  // one, and parsing a 1 MB form of 100,000 fields held the event loop for a third of a second.
  await fastify.register(formbody, { bodyLimit: FORM_LIMIT });
  await fastify.register(cookie);
  await fastify.register(fastifyStatic, { root: NHSUK_DIST, prefix: `${ASSET_PREFIX}/`, maxAge: '1d' });
  fastify.get(INIT_SCRIPT_PATH, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=86400').send(INIT_SCRIPT),
  );
  fastify.get(STYLESHEET_PATH, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').send(STYLESHEET),
  );
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
  // Built before the environments, which mail patients their Provision Account links through it (identity/provision).
  const deliveries = createDeliveries(database.db, {
    smtpUrl: config.smtpUrl,
    from: config.mailFrom,
    chatWebhookUrl: config.chatWebhookUrl,
    log: fastify.log,
    mailboxUrl: config.localMailbox ? `${config.publicUrl}${MAILBOX_PATH}` : undefined,
  });
  const mailer = deliveries.mailer;
  const mail = { send: (m: { to: string; subject: string; body: string }) => mailer.send(m) };
  mountEnvironments(fastify, identity.environments, { db: database.db, events, render, people: identity.people, mail });
  // A NUL is never in an address a person or a relying party uses (the environments answer their JSON endpoints'
  // own way first), and PostgreSQL cannot compare text with one.
  fastify.addHook('onRequest', async (req) => {
    if (req.url.includes('%00')) throw new UnusableAddress();
  });

  const conformance = createRunScheduler({ config, db: database.db, events }, fastify.log);
  // One set of use-cases for every face: the portal, the API and the console reach the database only through it.
  const onboarding = createOnboarding({ db: database.db, config, events, mailer, people: identity.people });
  await fastify.register(
    (scoped) => portalRoutes(scoped, { config, onboarding, render, people: identity.people, conformance }),
    { prefix: '/portal' },
  );
  await fastify.register((scoped) => apiRoutes(scoped, { config, onboarding, render, conformance }), { prefix: '/api/v1' });
  await fastify.register((scoped) => consoleRoutes(scoped, { config, onboarding, mailer, render }), { prefix: '/console' });

  fastify.get('/healthz', async () => ({ status: 'ok' }));
  let draining = false;
  fastify.addHook('onRequest', async (_req, reply) => {
    if (closing) reply.raw.shouldKeepAlive = false; // raw, so the engine's hijacked answers close theirs too
  });
  fastify.get('/readyz', async (_req, reply) => {
    if (draining || closing) return reply.code(503).send({ status: 'shutting down', database: database.kind });
    try {
      await database.ping();
      return { status: 'ready', database: database.kind };
    } catch (err) {
      // The reason goes to the log, not to whoever asks: it can name hosts and users.
      fastify.log.error({ err }, 'readiness check failed: the database does not answer');
      return reply
        .code(503)
        .send({ status: 'not ready', database: database.kind, error: 'the database does not answer (see the server log)' });
    }
  });
  // Partners per stage, read from the database (shared by every instance, so a gauge) at most every 10 s: the read
  // loads every organisation. Every other series is this instance's own (each instance is scraped on its own).
  let stagesRead: { at: number; stages: ReturnType<typeof partnersPerStage> } | undefined;
  const serveMetrics = async (_req: FastifyRequest, reply: FastifyReply) => {
    if (!stagesRead || Date.now() - stagesRead.at > STAGES_EVERY_MS) stagesRead = { at: Date.now(), stages: partnersPerStage(database.db) };
    const read = stagesRead;
    const stages = (
      await read.stages.catch((err: unknown) => {
        if (stagesRead === read) stagesRead = undefined; // a failed read is not kept
        throw err;
      })
    ).map(({ stage, count }) => ({ labels: { stage }, value: count }));
    return reply
      .type('text/plain; version=0.0.4')
      .send(metrics.render([{ name: 'toolkit_partners', help: 'Partners by stage of the NHS login process.', values: stages }]));
  };
  // /metrics names every client with traffic: never open on the public port. Its own listener (METRICS_PORT, on
  // 127.0.0.1 unless METRICS_HOST), and on the public port only with METRICS_TOKEN as a bearer token.
  const metricsServer = Fastify({ loggerInstance: fastify.log });
  metricsServer.setErrorHandler((err, req, reply) => {
    req.log.error({ err }, 'metrics failed');
    return reply.code(500).type('text/plain; charset=utf-8').send('metrics are unavailable (see the server log)\n');
  });
  metricsServer.get('/metrics', serveMetrics);
  const token = config.metrics.token;
  if (token) {
    const expected = hash('sha256', token, 'buffer');
    fastify.get('/metrics', async (req, reply) => {
      const sent = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (sent && timingSafeEqual(hash('sha256', sent, 'buffer'), expected)) return serveMetrics(req, reply);
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').type('text/plain; charset=utf-8')
        .send('/metrics needs Authorization: Bearer METRICS_TOKEN\n');
    });
  }
  // The address a report's reader is given (README): the page itself is the portal's, public like its guidance.
  fastify.get('/conformance/verify', (_req, reply) => reply.redirect('/portal/conformance/verify', 302));
  fastify.get('/', async (_req, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .send(render('home.njk', { title: 'NHS login integration toolkit', environments: config.environments })),
  );

  // Mail and chat notifications are sent here, on every instance, each message claimed in the database first; requests
  // that queue one wake this up, and the timer catches retries and what other instances queued.
  // (A pass still running when the timer fires is not queued behind again and again: wake asks for one at most.)
  const delivering = setInterval(() => deliveries.wake(), DELIVERY_EVERY_MS).unref();
  // Leases, lockouts, rate windows and code and token lifetimes are each in the time of the instance that writes them.
  database.clockSkewMs().then((skew) => {
    const warning = clockSkewWarning(skew);
    if (warning) fastify.log.warn({ skewMs: skew }, warning);
  }, () => undefined);
  // Journey ticks whose events retention will soon remove are kept first (onboarding/evidence.ts).
  const purge = setInterval(() => keepEvidence(database.db).then(() => Promise.all([purgeExpired(database.db), purgeSessions(database.db)]))
    .catch((err) => fastify.log.warn({ err }, 'purge failed')), PURGE_EVERY_MS).unref();
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
    metricsServer,
    database,
    identity,
    events,
    metrics,
    mailer,
    deliveries,
    conformance,
    async drain(ms) {
      draining = true;
      await new Promise((r) => setTimeout(r, ms));
    },
    routes,
    async close() {
      clearInterval(purge);
      clearInterval(delivering);
      clearInterval(rotate);
      await conformance.close();
      await fastify.close();
      await deliveries.idle();
      await metricsServer.close();
      await events.close();
      if (!options.database) await database.close();
    },
  };
}
