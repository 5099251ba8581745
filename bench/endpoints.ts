/**
 * `npm run bench:endpoints`: what each request of a single sign-on login costs the server, measured alone:
 * authorize (with a session: straight back with a code), token, userinfo. Prints throughput and server CPU per
 * request (main thread and all threads) for each, so a change to one endpoint, or the ratio between (2) and
 * (1) in `npm run bench`, can be explained by where the CPU goes. Rounds repeat the set; the first warms up.
 *
 *   ENDPOINT_ROUNDS (3), BENCH_TOKENS (3000), BENCH_CONCURRENCY (32)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Plan } from './load.ts';
import { assertions, authorizePath, benchClient, measureLoad, mintCodes, startToolkit, tokenRequests } from './toolkit-server.ts';

const ROUNDS = Number(process.env.ENDPOINT_ROUNDS ?? 3);
const N = Number(process.env.BENCH_TOKENS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
/** Access tokens userinfo is called with (each many times: the endpoint's work does not depend on reuse). */
const ACCESS_TOKENS = 200;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-endpoints-'));
const dbFile = path.join(dir, 'toolkit.db');
const server = await startToolkit(path.join(import.meta.dirname, '..'), dbFile);
const pid = server.process.pid!;
const { origin } = server;
try {
  const client = await benchClient(dbFile, origin);
  console.log(
    `Server CPU per request, each endpoint of a single sign-on login measured alone ` +
      `— ${os.cpus().length} cores, concurrency ${CONCURRENCY}, ${N} requests each`,
  );
  const measure = async (name: string, requests: Extract<Plan, { kind: 'requests' }>['requests'], expect: number) => {
    const {
      result: r,
      cpu: { all, main },
    } = await measureLoad(pid, { kind: 'requests', origin, concurrency: CONCURRENCY, expect, requests });
    const errors = r.errors ? `   errors ${r.errors} (${r.firstError})` : '';
    console.log(
      `    ${name.padEnd(10)} ${r.rps.toFixed(0).padStart(6)} req/s   ` +
        `CPU ${all.toFixed(2)} ms/request (main thread ${main.toFixed(2)})${errors}`,
    );
    return all;
  };
  for (let round = 0; round < ROUNDS; round++) {
    console.log(`  round ${round + 1}${round === 0 ? ' (warm-up)' : ''}`);
    const first = 1 + round * (2 * N + ACCESS_TOKENS);
    const authorize = await measure(
      'authorize',
      Array.from({ length: N }, (_, i) => ({
        method: 'GET' as const,
        path: authorizePath(client.clientId, first + i),
        headers: { cookie: client.cookie },
      })),
      303,
    );
    const codes = await mintCodes(origin, client, first + N, N + ACCESS_TOKENS);
    const requests = tokenRequests(codes, await assertions(client, `${origin}/sandpit/token`, N + ACCESS_TOKENS), '/sandpit/token');
    const accessTokens: string[] = [];
    for (const r of requests.slice(N)) {
      const res = await fetch(`${origin}${r.path}`, { method: 'POST', headers: r.headers, body: r.body! });
      accessTokens.push(((await res.json()) as { access_token: string }).access_token);
    }
    const token = await measure('token', requests.slice(0, N), 200);
    const userinfo = await measure(
      'userinfo',
      Array.from({ length: N }, (_, i) => ({
        method: 'GET' as const,
        path: '/sandpit/userinfo',
        headers: { authorization: `Bearer ${accessTokens[i % ACCESS_TOKENS]}` },
      })),
      200,
    );
    console.log(
      `    one login: ${(authorize + token + userinfo).toFixed(2)} ms of server ` +
        `CPU, ${((authorize + userinfo) / token).toFixed(2)}x a token request's on top of it`,
    );
  }
  await client.database.close();
} finally {
  server.process.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
