/**
 * (4) PostgreSQL, one instance and two: the token and single sign-on loads against the toolkit on PostgreSQL, first
 * one instance, then two on the same database behind the load generator's round-robin (the bench's, not a product
 * feature: each request goes to the next instance, as a load balancer would send it). Prints throughput and server
 * CPU per request (summed over the instances) for each, and the two-instance cost against one (target: within 10%).
 * On this machine's two cores two instances cannot double throughput; what must hold is that a second instance
 * costs nothing per request (no contention, no duplicated work) and that nothing fails.
 *
 * Each of two instances carries half the load, and a Node process less loaded spends more CPU per request (fewer
 * requests share each wake-up of its event loop, each write to a socket, each group commit of the protocol record).
 * So each round also loads one instance at half the concurrency, and prints two instances against that too: the
 * part of the two-instance cost a second instance adds, apart from the part that comes with a lighter load.
 *
 *   BENCH_DATABASE_URL: a PostgreSQL server to create the bench's database on (default: a throwaway cluster)
 */
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { startCluster, type Cluster } from '../src/test-support/postgres.ts';
import { freePort } from './support.ts';
import {
  assertions,
  authorizePath,
  benchClient,
  measureLoad,
  mintCodes,
  startToolkit,
  tokenRequests,
  type Measured,
  type ToolkitServer,
} from './toolkit-server.ts';

interface Sizes { tokens: number; concurrency: number; rounds: number }

export async function freshDatabase(admin: string): Promise<string> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.href;
}

export async function scalePhase(
  s: Sizes,
  adminUrl: string | undefined,
  line: (name: string, m: Measured, unit: string) => void,
): Promise<void> {
  let cluster: Cluster | undefined;
  const servers: ToolkitServer[] = [];
  try {
    if (!adminUrl) cluster = await startCluster();
    const url = await freshDatabase(adminUrl ?? cluster!.url);
    // Both instances answer as one toolkit at one public URL (the first one's address), as behind a load balancer.
    const port = await freePort();
    const publicUrl = `http://localhost:${port}`;
    const root = path.join(import.meta.dirname, '..');
    servers.push(await startToolkit(root, url, { publicUrl, port }), await startToolkit(root, url, { publicUrl }));
    const [a, b] = servers as [ToolkitServer, ToolkitServer];
    const client = await benchClient(url, a.origin);
    const tokenAud = `${publicUrl}/sandpit/token`;
    let minted = 0;
    const token = async (targets: ToolkitServer[], concurrency = s.concurrency) => {
      const codes = await mintCodes(a.origin, client, minted, s.tokens);
      minted += s.tokens;
      const bodies = await assertions(client, tokenAud, s.tokens);
      return measureLoad(
        targets.map((t) => t.process.pid!),
        {
          kind: 'requests',
          origin: a.origin,
          origins: targets.map((t) => t.origin),
          concurrency,
          expect: 200,
          requests: tokenRequests(codes, bodies, '/sandpit/token'),
        },
      );
    };
    const ssoN = Math.max(200, Math.floor(s.tokens / 3));
    // Each load has its own slot of authorize requests (their state and nonce must not repeat).
    const sso = async (targets: ToolkitServer[], slot: number, concurrency = s.concurrency) => {
      const bodies = await assertions(client, tokenAud, ssoN);
      return measureLoad(
        targets.map((t) => t.process.pid!),
        {
          kind: 'sso',
          origin: a.origin,
          origins: targets.map((t) => t.origin),
          concurrency,
          cookies: [client.cookie],
          tokenPath: '/sandpit/token',
          userinfoPath: '/sandpit/userinfo',
          authorizePaths: Array.from({ length: ssoN }, (_, i) => authorizePath(client.clientId, 500000 + slot * ssoN + i)),
          tokenBodies: bodies,
        },
      );
    };
    // A warm-up on both first: the second instance's code is not compiled yet, which would count against two.
    await token([a, b]);
    await sso([a, b], 0);
    const rows: { name: string; one: Measured; half: Measured; two: Measured; unit: string }[] = [];
    const half = Math.max(1, Math.floor(s.concurrency / 2));
    for (let round = 0; round < s.rounds; round++) {
      const tokenRow = { one: await token([a]), half: await token([a], half), two: await token([a, b]) };
      rows.push({ name: 'token endpoint', ...tokenRow, unit: 'response' });
      const slot = 1 + round * 3;
      const ssoRow = { one: await sso([a], slot), half: await sso([a], slot + 1, half), two: await sso([a, b], slot + 2) };
      rows.push({ name: 'single sign-on logins', ...ssoRow, unit: 'login' });
    }
    console.log(`\n(4) PostgreSQL: one instance, then two on the same database behind the bench's round-robin (${s.rounds} rounds)`);
    for (const [i, r] of rows.entries()) {
      line(`    round ${Math.floor(i / 2) + 1}: ${r.name}, one instance`, r.one, r.unit);
      line(`             ${r.name}, one instance, concurrency ${half}`, r.half, r.unit);
      line(`             ${r.name}, two instances`, r.two, r.unit);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    for (const name of ['token endpoint', 'single sign-on logins']) {
      const of = rows.filter((r) => r.name === name);
      const cpu = of.map((r) => r.two.cpu.all / r.one.cpu.all);
      const rps = of.map((r) => r.two.result.rps / r.one.result.rps);
      const light = of.map((r) => r.two.cpu.all / r.half.cpu.all);
      const failures = of.reduce((n, r) => n + r.one.result.errors + r.half.result.errors + r.two.result.errors, 0);
      const list = (xs: number[]) => `${xs.map((x) => x.toFixed(2)).join(' ')} -> median ${median(xs).toFixed(2)}x`;
      console.log(`    ${name}: two instances' CPU per request vs one ${list(cpu)} (target <= 1.10); throughput ${median(rps).toFixed(2)}x;`
        + ` failures ${failures} (target 0)`);
      console.log(`      vs one instance at concurrency ${half} (the load each of two carries): ${list(light)}`);
    }
    // CPU time also counts the instances time-sharing the cores with each other, PostgreSQL and the load generator.
    console.log('    (on a machine with fewer cores than processes, `npm run bench:instructions` counts the work itself)');
    await client.database.close();
  } finally {
    for (const server of servers) server.process.kill();
    cluster?.stop();
  }
}
