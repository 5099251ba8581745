/**
 * `npm run bench:instructions`: the work a request costs, one instance against two on one PostgreSQL, counted in
 * machine instructions rather than CPU time. Phase 4 of `npm run bench` measures CPU time, and on a machine with two
 * cores two instances, PostgreSQL and the load generator time-share those cores: each instance runs colder (caches,
 * branch predictors, more context switches), so CPU time per request rises with no more work done. Valgrind's
 * callgrind counts each instruction the instances execute (all their threads, OpenSSL's and V8's included), the same
 * count whatever else the machine is doing; a second instance that duplicated work (each doing the other's background
 * jobs, double writes, a lock both wait on while spinning) shows up here as more instructions per request.
 *
 * Each instance runs under `valgrind --tool=callgrind` (Debian's valgrind package; some forty times slower); after a
 * warm-up on both, each load is bracketed by callgrind_control dumps, and the instructions of the instances that took
 * the load (both for two, with each one's background work in the window) are divided by the requests answered. One
 * load's count still varies by up to a tenth from the next (when V8 collects garbage and compiles is not the same
 * from one load to the next), so it runs in rounds and gives the median.
 *
 *   BENCH_REQUESTS (300), BENCH_CONCURRENCY (8), BENCH_ROUNDS (4); BENCH_DATABASE_URL as for `npm run bench`
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, type Cluster } from '../src/test-support/postgres.ts';
import { startCommand, waitReady } from '../src/test-support/instances.ts';
import { freePort } from './support.ts';
import { freshDatabase } from './scale.ts';
import { assertions, authorizePath, benchClient, mintCodes, runLoad, tokenRequests } from './toolkit-server.ts';
import type { Plan, Result } from './load.ts';

const N = Number(process.env.BENCH_REQUESTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const ROOT = path.join(import.meta.dirname, '..');
const OUT = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-callgrind-'));

interface Counted { pid: number; origin: string; stop(): Promise<unknown> }

/** Starts one toolkit instance as `npm start` does, under callgrind (counting from the start; zeroed before each load). */
async function startCounted(database: string, publicUrl: string, port?: number): Promise<Counted> {
  const p = port ?? (await freePort());
  const start = startCommand(ROOT);
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', '--cache-sim=no', '--dump-instr=no', `--callgrind-out-file=${OUT}/cg.%p`, '-q',
      process.execPath, ...start.flags, start.script],
    {
      cwd: ROOT,
      env: { ...process.env, ...start.env, PORT: String(p), LOG_LEVEL: 'warn', NODE_OPTIONS: '', DATABASE_URL: database,
        PUBLIC_URL: publicUrl },
      stdio: 'inherit',
    },
  );
  await waitReady(`http://localhost:${p}/readyz`, 300_000);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { pid: child.pid!, origin: `http://localhost:${p}`, stop: () => {
    child.kill();
    return exited;
  } };
}

/** Instructions the process executed since its last dump: callgrind_control writes a dump, whose totals line says. */
function dump(pid: number): number {
  const before = new Set(fs.readdirSync(OUT));
  execFileSync('callgrind_control', ['-d', String(pid)], { stdio: 'ignore' });
  const file = fs.readdirSync(OUT).find((f) => f.startsWith(`cg.${pid}.`) && !before.has(f));
  if (!file) throw new Error(`callgrind wrote no dump for ${pid}`);
  const text = fs.readFileSync(path.join(OUT, file), 'utf8');
  fs.rmSync(path.join(OUT, file));
  return Number(/^(?:totals|summary): (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** Runs a load and counts the instructions of `counted` over it, per answered request. */
async function count(all: Counted[], counted: Counted[], plan: Plan): Promise<Load> {
  for (const c of all) dump(c.pid);
  const t0 = performance.now();
  const result = await runLoad({ ...plan, origins: counted.map((c) => c.origin) });
  const seconds = (performance.now() - t0) / 1000;
  const each = counted.map((c) => dump(c.pid));
  const ir = each.reduce((sum, x) => sum + x, 0);
  for (const c of all.filter((c) => !counted.includes(c))) dump(c.pid);
  const share = result.count / counted.length;
  return { perRequest: ir / result.count, each: each.map((x) => x / share), idle: (idleRate * seconds) / share, result };
}

interface Load {
  perRequest: number;
  /** Each instance's instructions per request it took (the round-robin gives each the same share). */
  each: number[];
  /** The part of perRequest that the instances' idle background work (timers, polling for due work) accounts for. */
  idle: number;
  result: Result;
}

/**
 * Instructions per second an idle instance spends on its timers (web/app.ts: deliveries and key reloads every 10 s,
 * conformance leases every 5 s, purging expired rows every minute).
 */
let idleRate = 0;
// A minute, so that timers firing every few seconds to every minute are all in it.
async function measureIdle(all: Counted[], seconds = 60): Promise<void> {
  for (const c of all) dump(c.pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  idleRate = all.reduce((sum, c) => sum + dump(c.pid), 0) / all.length / seconds;
}

async function main(): Promise<void> {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error("valgrind was not found: install Debian's valgrind package (apt-get install -y valgrind)");
  }
  let cluster: Cluster | undefined;
  const servers: Counted[] = [];
  try {
    if (!process.env.BENCH_DATABASE_URL) cluster = await startCluster();
    const url = await freshDatabase(process.env.BENCH_DATABASE_URL ?? cluster!.url);
    const port = await freePort();
    const publicUrl = `http://localhost:${port}`;
    // One after the other: both starting at once is the reliability suite's test, and here would only slow start-up.
    servers.push(await startCounted(url, publicUrl, port));
    servers.push(await startCounted(url, publicUrl));
    const [a, b] = servers as [Counted, Counted];
    const client = await benchClient(url, a.origin);
    const aud = `${publicUrl}/sandpit/token`;
    let minted = 0;
    const token = async (to: Counted[]) => {
      const codes = await mintCodes(a.origin, client, minted, N);
      minted += N;
      const requests = tokenRequests(codes, await assertions(client, aud, N), '/sandpit/token');
      return count(servers, to, { kind: 'requests', origin: a.origin, concurrency: CONCURRENCY, expect: 200, requests });
    };
    let slot = 0;
    const sso = async (to: Counted[]) => {
      slot++;
      const authorizePaths = Array.from({ length: N }, (_, i) => authorizePath(client.clientId, 900000 + slot * N + i));
      return count(servers, to, {
        kind: 'sso', origin: a.origin, concurrency: CONCURRENCY, cookies: [client.cookie], tokenPath: '/sandpit/token',
        userinfoPath: '/sandpit/userinfo', authorizePaths, tokenBodies: await assertions(client, aud, N),
      });
    };
    // Warm-up on both: V8 compiles by how often code runs, so each instance needs its share before counting.
    for (let i = 0; i < 2; i++) await token([a, b]);
    for (let i = 0; i < 2; i++) await sso([a, b]);
    await measureIdle(servers);
    console.log(`  an idle instance: ${(idleRate / 1e6).toFixed(1)} M instructions per second`);
    const rows: { name: string; one: Load; two: Load }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, load] of [['token endpoint', token], ['single sign-on logins', sso]] as const) {
        // The instance loaded alone takes turns, so that neither is the better compiled for having run more.
        const one = await load([round % 2 ? b : a]);
        const two = await load([a, b]);
        rows.push({ name, one, two });
        const mi = (x: number) => `${(x / 1e6).toFixed(2)} M`;
        const m = (l: Load) => `${mi(l.perRequest)} (${l.each.length > 1 ? `${l.each.map(mi).join(' and ')} each, ` : ''}`
          + `${mi(l.idle)} idle background)`;
        console.log(`  round ${round + 1}: ${name}: instructions per request on one instance ${m(one)}, on two ${m(two)}`);
      }
    }
    for (const name of ['token endpoint', 'single sign-on logins']) {
      const of = rows.filter((r) => r.name === name);
      const failures = of.reduce((n, r) => n + r.one.result.errors + r.two.result.errors, 0);
      const list = (xs: number[]) => {
        const sorted = [...xs].sort((x, y) => x - y);
        return `${xs.map((x) => x.toFixed(3)).join(' ')} -> median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)}x`;
      };
      console.log(`${name}: two instances' instructions per request vs one ${list(of.map((r) => r.two.perRequest / r.one.perRequest))}`
        + ` (target <= 1.10); failures ${failures} (target 0)`);
      // Under valgrind a load takes some forty times as long, so each instance's idle timers weigh forty times as much
      // per request as they do at full speed; without them, what is left is the work the requests themselves cost.
      const net = (l: Load) => l.perRequest - l.idle;
      console.log(`  without the instances' idle background: ${list(of.map((r) => net(r.two) / net(r.one)))}`);
    }
    await client.database.close();
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    cluster?.stop();
    fs.rmSync(OUT, { recursive: true, force: true });
  }
}

await main();
