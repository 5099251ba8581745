/**
 * The toolkit as the benchmarks drive it: started as `npm start` starts it, a registered client with a
 * signed-in session to single sign-on from, codes minted by that session, client assertions signed ahead,
 * and loads run from a separate process (load.ts). Used by run.ts and ab.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { loadConfig } from '../src/config/index.ts';
import { openDatabase, type Database } from '../src/storage/index.ts';
import { ready, spawnInstance } from '../src/test-support/instances.ts';
import { registerClient } from '../src/identity/index.ts';
import { Browser } from '../src/test-support/browser.ts';
import type { Plan, Req, Result } from './load.ts';
import { cpuMs, freePort, peakRss, resetPeakRss, threadCpu, threadDelta } from './support.ts';

export const REDIRECT_URI = 'http://localhost:9/cb';
const HERE = import.meta.dirname;

/** A load's figures and the server's cost for it: peak RSS (bytes) and CPU per completed request (ms) by thread. */
export interface Measured {
  result: Result;
  rss: number;
  cpu: { all: number; main: number; gc: number };
  /** CPU milliseconds per thread name over the load (for BENCH_THREADS). */
  threads: string;
}

/**
 * Runs a load against server processes (one, or several instances behind the load's round-robin), measuring their
 * peak RSS (the largest) and their CPU per completed request (summed over them).
 */
export async function measureLoad(pids: number | number[], plan: Plan): Promise<Measured> {
  const all = [pids].flat();
  await Promise.all(all.map(resetPeakRss));
  const sample = () => Promise.all(all.map(async (pid) => ({ threads: await threadCpu(pid), cpu: await cpuMs(pid) })));
  const before = await sample();
  const result = await runLoad(plan);
  const after = await sample();
  const per = (ms: number) => ms / result.count;
  const sum = (f: (i: number) => number) => all.reduce((acc, _, i) => acc + f(i), 0);
  const delta = (name: string) => sum((i) => (after[i]!.threads.get(name) ?? 0) - (before[i]!.threads.get(name) ?? 0));
  return {
    result, rss: Math.max(...(await Promise.all(all.map(peakRss)))),
    cpu: { all: per(sum((i) => after[i]!.cpu - before[i]!.cpu)), main: per(delta('MainThread')), gc: per(delta('V8Worker')) },
    threads: all.map((_, i) => threadDelta(before[i]!.threads, after[i]!.threads)).join('\n'),
  };
}

export function runLoad(plan: Plan): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(HERE, 'load.ts'), { stdio: 'inherit' });
    child.once('message', (r) => resolve(r as Result));
    child.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited ${code}`)));
    child.send(plan);
  });
}

/**
 * Client assertions signed ahead of a phase. Relying parties sign them just before use with a short life
 * (openid-client, which the reference RP uses, gives 60 s); 120 s leaves room for signing a phase's batch first.
 */
export async function assertions(c: Pick<BenchClient, 'privateKey' | 'kid' | 'clientId'>, aud: string, n: number): Promise<string[]> {
  const { privateKey: key, kid, clientId } = c;
  const now = Math.floor(Date.now() / 1000);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS512', kid })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(aud)
      .setIssuedAt(now)
      .setExpirationTime(now + 120)
      .setJti(randomBytes(12).toString('hex'))
      .sign(key);
    out.push(
      `grant_type=authorization_code&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&` +
        `client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=${jwt}`,
    );
  }
  return out;
}

export const authorizePath = (clientId: string, i: number) =>
  `/sandpit/authorize?${new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    scope: 'openid profile',
    redirect_uri: REDIRECT_URI,
    state: `s${i}`,
    nonce: `n${i}`,
    vtr: '["P9.Cp.Cd"]',
  })}`;

export const tokenRequests = (codes: string[], bodies: string[], tokenPath: string): Req[] =>
  codes.map((c, i) => ({
    method: 'POST' as const,
    path: tokenPath,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `${bodies[i]}&code=${c}`,
  }));

/** A SQLite file's path, or already a DATABASE_URL. */
const asDatabaseUrl = (x: string) => (/^[a-z]+:/.test(x) ? x : `sqlite:${x}`);

export interface ToolkitServer {
  process: ChildProcess;
  origin: string;
  /** Milliseconds from start to /readyz answering. */
  readyMs: number;
}

/**
 * Starts the toolkit in `root` (a checkout) exactly as `npm start` would, on `databaseUrl` (a SQLite file by default).
 * `nodeOptions` and `flags` add Node options (NODE_OPTIONS) and flags that NODE_OPTIONS refuses (e.g. --trace-gc);
 * `publicUrl` names the address several instances share (the bench's round-robin sends to each one's own port).
 */
export async function startToolkit(
  root: string,
  database: string,
  extra: { nodeOptions?: string | undefined; flags?: string | undefined; publicUrl?: string; port?: number } = {},
): Promise<ToolkitServer> {
  const port = extra.port ?? (await freePort());
  const t0 = performance.now();
  const instance = await spawnInstance({
    root, port, stdio: 'inherit', nodeOptions: extra.nodeOptions ?? '', flags: (extra.flags ?? '').split(' ').filter(Boolean),
    env: { DATABASE_URL: asDatabaseUrl(database), ...(extra.publicUrl ? { PUBLIC_URL: extra.publicUrl } : {}) },
  });
  try {
    await ready(instance);
  } catch (e) {
    instance.process.kill();
    throw e;
  }
  return { process: instance.process, origin: `http://localhost:${port}`, readyMs: performance.now() - t0 };
}

export interface BenchClient {
  database: Database;
  clientId: string;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** The session cookie of one completed persona login, for single sign-on. */
  cookie: string;
}

/** Registers a sandpit client on the server's database (a SQLite file or a URL) and signs in once (password, OTP, consent). */
export async function benchClient(databaseUrlOrFile: string, origin: string): Promise<BenchClient> {
  const database = await openDatabase(loadConfig({ DATABASE_URL: asDatabaseUrl(databaseUrlOrFile) }).database);
  const { privateKey, publicKey } = await generateKeyPair('RS512', { extractable: true });
  const client = await registerClient(database.db, {
    env: 'sandpit',
    name: 'Bench',
    redirectUris: [REDIRECT_URI],
    scopes: ['openid', 'profile'],
    vtr: ['P9.Cp.Cd'],
    publicKeyPem: await exportSPKI(publicKey),
  });
  const browser = new Browser(fetch, origin);
  let page = await browser.get(authorizePath(client.clientId, 0));
  page = await browser.post(page.url, { email: 'testuserlive@demo.signin.nhs.uk', password: 'Passw0rd$1' });
  page = await browser.post(page.url, { otp: '190696' });
  page = await browser.post(page.url, {});
  if (page.status !== 0) throw new Error(`warm-up login failed at ${page.url}`);
  const cookie = browser.cookieHeader(new URL(`${origin}/sandpit/authorize`));
  return { database, clientId: client.clientId, kid: String(client.jwks!.keys[0]!.kid), privateKey, publicKey, cookie };
}

/** Codes for the token phase, minted by single sign-on before the clock starts. */
export async function mintCodes(origin: string, c: BenchClient, first: number, n: number): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${origin}${authorizePath(c.clientId, first + i)}`, { headers: { cookie: c.cookie }, redirect: 'manual' });
    codes.push(new URL(res.headers.get('location')!).searchParams.get('code')!);
  }
  return codes;
}
