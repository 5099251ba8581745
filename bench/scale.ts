/**
 * (4) PostgreSQL, one instance and two: the token and single sign-on loads against the toolkit on PostgreSQL, first
 * one instance, then two on the same database behind the load generator's round-robin (the bench's, not a product
 * feature: each request goes to the next instance, as a load balancer would send it). Prints throughput and server
 * CPU per request (summed over the instances) for each, and the two-instance cost against one (target: within 10%).
 * On this machine's two cores two instances cannot double throughput; what must hold is that a second instance
 * costs nothing per request (no contention, no duplicated work) and that nothing fails.
 *
 *   BENCH_DATABASE_URL: a PostgreSQL server to create the bench's database on (default: a throwaway cluster)
 */
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { startCluster, type Cluster } from '../src/test-support/postgres.ts';
import { freePort } from './support.ts';
import { assertions, authorizePath, benchClient, measureLoad, mintCodes, startToolkit, tokenRequests, type Measured, type ToolkitServer } from './toolkit-server.ts';

interface Sizes { tokens: number; concurrency: number; rounds: number }

async function freshDatabase(admin: string): Promise<string> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`create database ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.href;
}

export async function scalePhase(s: Sizes, adminUrl: string | undefined, line: (name: string, m: Measured, unit: string) => void): Promise<void> {
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
    const token = async (targets: ToolkitServer[]) => {
      const codes = await mintCodes(a.origin, client, minted, s.tokens);
      minted += s.tokens;
      const bodies = await assertions(client, tokenAud, s.tokens);
      return measureLoad(targets.map((t) => t.process.pid!), { kind: 'requests', origin: a.origin, origins: targets.map((t) => t.origin), concurrency: s.concurrency, expect: 200, requests: tokenRequests(codes, bodies, '/sandpit/token') });
    };
    const ssoN = Math.max(200, Math.floor(s.tokens / 3));
    const sso = async (targets: ToolkitServer[], round: number) => {
      const bodies = await assertions(client, tokenAud, ssoN);
      return measureLoad(targets.map((t) => t.process.pid!), {
        kind: 'sso', origin: a.origin, origins: targets.map((t) => t.origin), concurrency: s.concurrency, cookies: [client.cookie], tokenPath: '/sandpit/token', userinfoPath: '/sandpit/userinfo',
        authorizePaths: Array.from({ length: ssoN }, (_, i) => authorizePath(client.clientId, 500000 + round * 2 * ssoN + i + (targets.length - 1) * ssoN)), tokenBodies: bodies,
      });
    };
    // A warm-up on both first: the second instance's code is not compiled yet, which would count against two.
    await token([a, b]);
    await sso([a, b], s.rounds);
    const rows: { name: string; one: Measured; two: Measured; unit: string }[] = [];
    for (let round = 0; round < s.rounds; round++) {
      rows.push({ name: 'token endpoint', one: await token([a]), two: await token([a, b]), unit: 'response' });
      rows.push({ name: 'single sign-on logins', one: await sso([a], round), two: await sso([a, b], round), unit: 'login' });
    }
    console.log(`\n(4) PostgreSQL: one instance, then two on the same database behind the bench's round-robin (${s.rounds} rounds)`);
    for (const [i, r] of rows.entries()) {
      line(`    round ${Math.floor(i / 2) + 1}: ${r.name}, one instance`, r.one, r.unit);
      line(`             ${r.name}, two instances`, r.two, r.unit);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    for (const name of ['token endpoint', 'single sign-on logins']) {
      const of = rows.filter((r) => r.name === name);
      const cpu = of.map((r) => r.two.cpu.all / r.one.cpu.all);
      const rps = of.map((r) => r.two.result.rps / r.one.result.rps);
      const failures = of.reduce((n, r) => n + r.one.result.errors + r.two.result.errors, 0);
      console.log(`    ${name}: two instances' CPU per request vs one ${cpu.map((x) => x.toFixed(2)).join(' ')} -> median ${median(cpu).toFixed(2)}x (target <= 1.10); throughput ${median(rps).toFixed(2)}x; failures ${failures} (target 0)`);
    }
    await client.database.close();
  } finally {
    for (const server of servers) server.process.kill();
    cluster?.stop();
  }
}
