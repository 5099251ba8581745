/**
 * Public pages, readable before sign-up: what happens at each stage, how to connect, the journeys to try,
 * and each environment's interface reference generated from its live configuration.
 */
import type { FastifyInstance } from 'fastify';
import { ENVIRONMENT_NAMES } from '../config/index.ts';
import { gpSystemFacts, interfaceFacts, nhsAppFacts, passkeyFacts, provisionFacts, usersV2Facts } from '../identity/reference.ts';
import { page, signedIn, type PortalDeps } from './context.ts';
import { TEST_OTP, TEST_PASSWORD } from '../onboarding/index.ts';

export function registerGuidanceRoutes(app: FastifyInstance, d: PortalDeps) {
  app.get('/guidance', async (req, reply) => {
    const signed = await signedIn(d, req);
    return page(d, reply, 'portal/guidance.njk', {
      title: 'How integrating with NHS login works',
      user: signed?.user,
      environments: d.config.environments,
    });
  });

  app.get<{ Params: { env: string } }>('/reference/:env', async (req, reply) => {
    const env = d.config.environments.find((e) => e.name === req.params.env);
    if (!env || !(ENVIRONMENT_NAMES as readonly string[]).includes(req.params.env)) {
      return page(d, reply, 'error.njk', { title: 'Page not found', message: 'There is no such environment.' }, 404);
    }
    // The environment's own discovery document, asked of it in-process: the reference shows what it serves.
    const res = await app.inject({ method: 'GET', url: `${env.mountPath}/.well-known/openid-configuration`, headers: { host: env.host } });
    const discovery = res.json() as Record<string, unknown>;
    const signed = await signedIn(d, req);
    // The environment's own prepared accounts, read from its data (never live's people).
    const accounts =
      !env.capabilities.testAccounts
        ? []
        : await d.onboarding.demoAccounts(env.name);
    return page(d, reply, 'portal/reference.njk', {
      accounts, testPassword: TEST_PASSWORD, testOtp: TEST_OTP,
      title: `${env.name[0]!.toUpperCase()}${env.name.slice(1)} interface reference`,
      user: signed?.user,
      env,
      discovery,
      discoveryJson: JSON.stringify(discovery, null, 2),
      facts: interfaceFacts(),
      usersV2: usersV2Facts(env),
      // The GP online services details that take a P5 person with that NHS number to P9 ("prove your identity").
      gpLinkage: env.capabilities.testAccounts ? [...d.people.linkage.values()] : [],
      provisioning: provisionFacts(env),
      gpSystem: gpSystemFacts(env),
      nhsApp: nhsAppFacts(env),
      passkeys: passkeyFacts(env),
      environments: d.config.environments,
    });
  });
}
