/**
 * Traffic for the reliability suite, sent over real sockets to toolkit processes (instances.ts): sandpit logins by
 * single sign-on and their token requests, and client registrations through the API. Every answer the toolkit gave
 * is kept, so that a test can check afterwards that nothing it acknowledged was lost.
 */
import { randomBytes } from 'node:crypto';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { registerClient } from '../identity/index.ts';
import { createApiToken, createOrganisation } from '../onboarding/index.ts';
import { loadConfig } from '../config/index.ts';
import { openDatabase, type Database, type Db } from '../storage/index.ts';
import { Browser } from './browser.ts';
import { startInstance, stopInstance, type Instance } from './instances.ts';
import { freePort } from './ports.ts';

const REDIRECT_URI = 'http://localhost:9/cb';

export interface SandpitClient {
  clientId: string;
  kid: string;
  privateKey: CryptoKey;
  publicKeyPem: string;
  /** The sandpit session of one completed persona login, for single sign-on. */
  cookie: string;
  /** The token endpoint URL as the issuer names it (the client assertion's audience). */
  tokenEndpoint: string;
}

const authorizePath = (clientId: string) => `/sandpit/authorize?${new URLSearchParams({
  client_id: clientId, response_type: 'code', scope: 'openid profile', redirect_uri: REDIRECT_URI, state: randomBytes(6).toString('hex'),
  nonce: randomBytes(6).toString('hex'), vtr: '["P9.Cp.Cd"]',
})}`;

/**
 * Registers a sandpit client on the database the instances share and signs in once at `publicUrl` (the journey
 * returns to the issuer's own URL), through `fetchImpl` when that URL is not an instance's own (several behind it).
 */
export async function sandpitClient(db: Db, publicUrl: string, fetchImpl: typeof fetch = fetch): Promise<SandpitClient> {
  const { privateKey, publicKey } = await generateKeyPair('RS512', { extractable: true });
  const publicKeyPem = await exportSPKI(publicKey);
  const client = await registerClient(db, {
    env: 'sandpit',
    name: 'Reliability',
    redirectUris: [REDIRECT_URI],
    scopes: ['openid', 'profile'],
    vtr: ['P9.Cp.Cd'],
    publicKeyPem,
  });
  const browser = new Browser(fetchImpl, publicUrl);
  let page = await browser.get(authorizePath(client.clientId));
  page = await browser.post(page.url, { email: 'testuserlive@demo.signin.nhs.uk', password: 'Passw0rd$1' });
  page = await browser.post(page.url, { otp: '190696' });
  page = await browser.post(page.url, {});
  if (page.status !== 0) throw new Error(`warm-up login failed at ${page.url}`);
  return {
    clientId: client.clientId, kid: String(client.jwks!.keys[0]!.kid), privateKey, publicKeyPem,
    cookie: browser.cookieHeader(new URL(`${publicUrl}/sandpit/authorize`)), tokenEndpoint: `${publicUrl}/sandpit/token`,
  };
}

/** An organisation with an API token, on the shared database, for client registrations through /api/v1. */
export async function apiToken(db: Db): Promise<string> {
  const user = `user-${randomBytes(4).toString('hex')}`;
  await db
    .insertInto('partner_user')
    .values({ id: user, email: `${user}@example.org`, name: user, password_hash: 'x', email_confirmed_at: 1, created_at: 1 })
    .execute();
  const org = await createOrganisation(db, user, { name: `Reliability ${user}` });
  return (await createApiToken(db, org.id, user, 'reliability')).token;
}

/** How a request failed: refused before it was sent (no instance listening), or cut after it was sent. */
function failure(e: unknown): 'refused' | 'cut' {
  const code = (e as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNREFUSED' ? 'refused' : 'cut';
}

export interface Traffic {
  /** Access tokens the toolkit answered with, and the ID tokens beside them. */
  tokens: string[];
  idTokens: string[];
  /** Client ids the API answered 201 for. */
  clients: string[];
  /** Answers that were not what a healthy toolkit gives (status codes), requests refused, and requests cut. */
  failed: { status: number; refused: number; cut: number };
  /** The first few failures, described (for a test's message). */
  samples: string[];
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

/**
 * Sends, from `workers` loops at once, a single sign-on login and its token request, or a client registration (one
 * in five), round-robin over `origins`, until stopped.
 */
export function startTraffic(c: SandpitClient, origins: string[], o: { workers?: number; api?: string } = {}): Traffic {
  const t: Traffic = {
    tokens: [],
    idTokens: [],
    clients: [],
    failed: { status: 0, refused: 0, cut: 0 },
    samples: [],
    stop: async () => undefined,
  };
  const sample = (what: string) => void (t.samples.length < 5 && t.samples.push(what));
  let running = true;
  let n = 0;
  const next = () => origins[n++ % origins.length]!;
  async function login(origin: string) {
    const auth = await fetch(`${origin}${authorizePath(c.clientId)}`, { headers: { cookie: c.cookie }, redirect: 'manual' });
    await auth.arrayBuffer();
    const code = auth.status === 303 || auth.status === 302 ? new URL(auth.headers.get('location')!).searchParams.get('code') : null;
    if (!code) {
      sample(`authorize ${auth.status}`);
      return void t.failed.status++;
    }
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({}).setProtectedHeader({ alg: 'RS512', kid: c.kid }).setIssuer(c.clientId).setSubject(c.clientId)
      .setAudience(c.tokenEndpoint).setIssuedAt(now).setExpirationTime(now + 60).setJti(randomBytes(12).toString('hex')).sign(c.privateKey);
    const res = await fetch(`${next()}/sandpit/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; id_token?: string };
    if (res.status === 200 && body.access_token) {
      t.tokens.push(body.access_token);
      if (body.id_token) t.idTokens.push(body.id_token);
    }
    else {
      sample(`token ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      t.failed.status++;
    }
  }
  async function register(origin: string) {
    const res = await fetch(`${origin}/api/v1/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.api}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: `Client ${n}`,
        redirect_uris: ['http://localhost:9/cb'],
        vtr: ['P9.Cp.Cd'],
        public_key_pem: c.publicKeyPem,
      }),
    });
    const body = (await res.json().catch(() => ({}))) as { client_id?: string };
    if (res.status === 201 && body.client_id) t.clients.push(body.client_id);
    else {
      sample(`register ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      t.failed.status++;
    }
  }
  const loops = Array.from({ length: o.workers ?? 4 }, async (_, w) => {
    for (let i = 0; running; i++) {
      try {
        if (o.api && (i + w) % 5 === 4) await register(next());
        else await login(next());
      } catch (e) {
        const kind = failure(e);
        if (kind === 'cut') sample(`cut: ${String(e)} ${String((e as { cause?: unknown }).cause)}`);
        t.failed[kind]++;
        await new Promise((r) => setTimeout(r, 20)); // no instance to talk to: do not spin
      }
    }
  });
  t.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return t;
}

/**
 * What the toolkit acknowledged and no longer has: tokens that stopped working at userinfo, registered clients that are
 * gone, and answered token requests without their protocol record entry. Every figure should be 0.
 */
export async function lost(
  db: Db,
  origin: string,
  client: SandpitClient,
  t: Traffic,
): Promise<{ tokens: number; clients: number; entries: number }> {
  const clients = t.clients.length ? await db.selectFrom('client').select('client_id').where('client_id', 'in', t.clients).execute() : [];
  const entries = await db
    .selectFrom('protocol_event')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('client_id', '=', client.clientId)
    .where('kind', '=', 'token')
    .where('outcome', '=', 'ok')
    .executeTakeFirstOrThrow();
  return {
    tokens: (await lostTokens(origin, t.tokens)).length,
    clients: t.clients.length - clients.length,
    entries: Math.max(0, t.tokens.length - Number(entries.n)),
  };
}

/** Which of `tokens` no longer work at userinfo (an acknowledged token the toolkit lost). */
export async function lostTokens(origin: string, tokens: string[]): Promise<string[]> {
  const lost: string[] = [];
  for (const at of tokens) {
    const res = await fetch(`${origin}/sandpit/userinfo`, { headers: { authorization: `Bearer ${at}` } });
    await res.arrayBuffer();
    if (res.status !== 200) lost.push(at);
  }
  return lost;
}

export interface Loaded {
  env: Record<string, string>;
  port: number;
  instance: Instance;
  database: Database;
  client: SandpitClient;
  traffic: Traffic;
}

/** One toolkit process on `databaseUrl`, with a sandpit client signed in and traffic from `workers` loops under way. */
export async function loadedInstance(databaseUrl: string, workers: number): Promise<Loaded> {
  const port = await freePort();
  const env = { DATABASE_URL: databaseUrl, PUBLIC_URL: `http://localhost:${port}` };
  const instance = await startInstance({ env, port });
  const database = await openDatabase(loadConfig(env).database);
  try {
    const client = await sandpitClient(database.db, env.PUBLIC_URL);
    const traffic = startTraffic(client, [instance.origin], { api: await apiToken(database.db), workers });
    return { env, port, instance, database, client, traffic };
  } catch (e) {
    await stopInstance(instance, 'SIGKILL');
    await database.close();
    throw e;
  }
}
