/** Start-up: configuration -> storage -> app -> listen. */
import { ConfigError, loadConfig } from './config/index.ts';
import { buildApp } from './web/app.ts';

let config;
try {
  config = loadConfig(process.env);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`Configuration error: ${e.message}`);
    process.exit(2);
  }
  throw e;
}

const app = await buildApp(config);
await app.fastify.listen({ port: config.port, host: config.host });
if (config.metrics.port !== undefined) await app.metricsServer.listen({ port: config.metrics.port, host: config.metrics.host });
for (const e of config.environments) app.fastify.log.info(`${e.name}: ${e.issuer}/.well-known/openid-configuration`);

/** How long a stopping instance keeps serving, with /readyz at 503, so that a load balancer moves its traffic away. */
const DRAIN_MS = 1000;

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.drain(DRAIN_MS).then(() => app.close()).then(() => process.exit(0), () => process.exit(1));
  });
}
