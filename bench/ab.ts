/**
 * `npm run bench:ab -- BASELINE_DIR`: is a change faster? Runs the token phase against two toolkits side by side,
 * the baseline (another checkout, e.g. `git worktree add /tmp/base main && ln -s "$PWD/node_modules" /tmp/base/`)
 * and this checkout, taking turns round by round, and prints each one's throughput, p99 latency, server CPU per response
 * (main thread, all threads, V8's GC threads) and peak RSS, then the median of the per-round ratios. This
 * machine's speed drifts by a third within minutes: a single before/after run cannot see a 5% change, rounds
 * that alternate can.
 *
 *   AB_ROUNDS (5), BENCH_TOKENS (3000), BENCH_CONCURRENCY (32), AB_FLAGS (extra Node flags for this checkout only)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assertions, type benchClient, measureLoad, mintCodes, startToolkit, tokenRequests, type ToolkitServer } from './toolkit-server.ts';

const baseline = process.argv[2];
if (!baseline || !fs.existsSync(path.join(baseline, 'package.json'))) {
  console.error('usage: npm run bench:ab -- BASELINE_DIR   (a checkout of the baseline with node_modules)');
  process.exit(2);
}
const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);
const N = Number(process.env.BENCH_TOKENS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

interface Figures { rps: number; p99: number; main: number; total: number; gc: number; rss: number }

async function contender(root: string, flags?: string) {
  const dbFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-ab-')), 'toolkit.db');
  const server: ToolkitServer = await startToolkit(root, dbFile, { flags });
  // The bench's client is registered by the contender's own code: its database is at its own migration (this
  // checkout's storage would migrate the baseline's database past the schema the baseline writes).
  const own = (await import(path.join(root, 'bench/toolkit-server.ts'))) as { benchClient: typeof benchClient };
  const client = await own.benchClient(dbFile, server.origin);
  let minted = 1;
  const pid = server.process.pid!;
  return {
    server,
    async round(): Promise<Figures> {
      const codes = await mintCodes(server.origin, client, minted, N);
      minted += N;
      const bodies = await assertions(client, `${server.origin}/sandpit/token`, N);
      const {
        result: r,
        rss,
        cpu,
      } = await measureLoad(pid, {
        kind: 'requests',
        origin: server.origin,
        concurrency: CONCURRENCY,
        expect: 200,
        requests: tokenRequests(codes, bodies, '/sandpit/token'),
      });
      if (r.errors) throw new Error(`${root}: ${r.errors} errors (${r.firstError})`);
      const µs = (ms: number) => ms * 1000;
      return { rps: r.rps, p99: r.p99, main: µs(cpu.main), total: µs(cpu.all), gc: µs(cpu.gc), rss: rss / 1048576 };
    },
  };
}

const show = (f: Figures) =>
  `${f.rps.toFixed(0).padStart(5)} resp/s  p99 ${f.p99.toFixed(0).padStart(3)} ms  main ${f.main.toFixed(0).padStart(4)} ` +
    `µs  all ${f.total.toFixed(0).padStart(4)} µs  gc ${f.gc.toFixed(0).padStart(3)} µs  RSS ${f.rss.toFixed(0)} MB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const a = await contender(path.resolve(baseline));
const b = await contender(path.join(import.meta.dirname, '..'), process.env.AB_FLAGS);
try {
  console.log(
    `token endpoint, ${N} requests per round at concurrency ${CONCURRENCY}; CPU per response. A = ${baseline}, B = this checkout`,
  );
  const rounds: { a: Figures; b: Figures }[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = { a: await a.round(), b: await b.round() };
    rounds.push(r);
    console.log(`round ${i + 1}  A ${show(r.a)}\n         B ${show(r.b)}`);
  }
  const ratio = (k: keyof Figures) => median(rounds.map((r) => r.b[k] / r.a[k])).toFixed(3);
  console.log(
    `median B/A: throughput ${ratio('rps')}, p99 ${ratio('p99')}, main-thread CPU ${ratio('main')}, ` +
      `all CPU ${ratio('total')}, GC threads ${ratio('gc')}, peak RSS ${ratio('rss')}`,
  );
} finally {
  a.server.process.kill();
  b.server.process.kill();
}
