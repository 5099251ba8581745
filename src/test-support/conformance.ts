/**
 * A service under conformance test: its own sandpit client and key, a relying party made for it on a free port, and one
 * run of a plan against it, answered as each test's status and detail (src/conformance/*.test.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { registerClient, type ClientRegistration } from '../identity/index.ts';
import { createRun, executeRun, getRun, type EngineDeps } from '../conformance/index.ts';
import type { TestApp } from './harness.ts';
import { freePort } from './ports.ts';

export const rsaKeyPair = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

/** What a relying party needs of its client: the issuer, its id and key, and its callback. */
export interface ServiceOptions {
  issuer: string;
  clientId: string;
  privateKeyPem: string;
  redirectUri: string;
}

export interface PlanRun {
  /** The client's registration, besides its env, callback and key (a sandpit P9 client with profile and email by default). */
  client?: Partial<Omit<ClientRegistration, 'env' | 'redirectUris' | 'publicKeyPem'>>;
  /** Set up the client before the run (session rules, an NHS App address). */
  prepare?: (clientId: string, url: string) => Promise<void>;
  make: (o: ServiceOptions) => Promise<FastifyInstance>;
  plan: string[];
}

export type Results = Record<string, { status: string; detail: string }>;

export async function runPlanOn(app: TestApp & { origin: string }, deps: EngineDeps, o: PlanRun): Promise<Results> {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const keys = rsaKeyPair();
  const client = await registerClient(app.database.db, {
    name: 'Service under test', scopes: ['openid', 'profile', 'email'], vtr: ['P9.Cp.Cd'], ...o.client,
    env: 'sandpit', redirectUris: [`${url}/callback`], publicKeyPem: keys.publicKey,
  });
  await o.prepare?.(client.clientId, url);
  const rp = await o.make({ issuer: `${app.origin}/sandpit`, clientId: client.clientId, privateKeyPem: keys.privateKey,
    redirectUri: `${url}/callback` });
  await rp.listen({ port, host: '127.0.0.1' });
  try {
    const id = await createRun(deps, { env: 'sandpit', clientId: client.clientId, startUrl: url, createdBy: 'test', only: o.plan });
    await executeRun(deps, id);
    const { results } = (await getRun(app.database.db, id))!;
    return Object.fromEntries(results.map((r) => [r.test_id, { status: r.status, detail: r.detail ?? '' }]));
  } finally {
    await rp.close();
  }
}
