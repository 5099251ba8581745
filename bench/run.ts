/**
 * `npm run bench`: the toolkit in its own process on SQLite, load from a second process over HTTP, and a
 * bare oidc-provider (in-memory store) doing the same token work as the yardstick, measured in the same run.
 * Prints responses/s, p50/p99 latency and the server's peak RSS for each scenario.
 *
 *   BENCH_TOKENS (3000), BENCH_CONCURRENCY (32), BENCH_PERSONAS (200), BENCH_SESSIONS (10000), BENCH_ROUNDS (3)
 *   BENCH_ONLY=token|sso|postgres runs that phase alone; the PostgreSQL phase (scale.ts) reads BENCH_DATABASE_URL.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK } from 'jose';
import type { Db } from '../src/storage/index.ts';
import { hashPassword, PASSWORD_HASH_COST } from '../src/security/passwords.ts';
import type { Plan, Result } from './load.ts';
import { addSessions, freePort, peakRss, resetPeakRss, signedCookie } from './support.ts';
import { scalePhase } from './scale.ts';
import {
  assertions,
  authorizePath,
  benchClient,
  measureLoad,
  mintCodes,
  REDIRECT_URI,
  runLoad,
  startToolkit,
  tokenRequests,
  type Measured,
} from './toolkit-server.ts';

const N_TOKENS = Number(process.env.BENCH_TOKENS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const N_PERSONAS = Number(process.env.BENCH_PERSONAS ?? 200);
const N_SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HERE = import.meta.dirname;

function line(name: string, r: Result, rss?: number, extra = '') {
  const f = (x: number | null) => (x ?? NaN).toFixed(1).padStart(8);
  console.log(
    `${name.padEnd(46)} ${f(r.rps)} resp/s   p50 ${f(r.p50)} ms   p99 ${f(r.p99)} ` +
      `ms${rss ? `   peak RSS ${(rss / 1048576).toFixed(0)} MB` : ''}${r.errors ? `   errors ${r.errors} (${r.firstError})` : ''}${extra}`,
  );
}

async function main() {
  if (process.env.BENCH_ONLY === 'postgres') return postgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-bench-'));
  const dbFile = path.join(dir, 'toolkit.db');
  // Started exactly as `npm start` starts it (same environment variables and Node flags).
  const started = await startToolkit(path.join(HERE, '..'), dbFile, {
    nodeOptions: process.env.BENCH_SERVER_NODE_OPTIONS,
    flags: process.env.BENCH_SERVER_FLAGS,
  });
  const { origin, process: server } = started;
  const children: ChildProcess[] = [server];
  try {
    console.log(`NHS login toolkit benchmark — ${os.cpus().length} cores, Node ${process.version}, SQLite, concurrency ${CONCURRENCY}`);
    console.log(`ready after start: ${started.readyMs.toFixed(0)} ms (fresh database: migrations, signing keys, test people seeded)\n`);

    const bench = await benchClient(dbFile, origin);
    const { database, publicKey, kid, cookie } = bench;
    const db: Db = database.db;

    /** Runs a load against a server process (BENCH_THREADS=1 also prints its CPU by thread). */
    const measure = async (pid: number, plan: Plan): Promise<Measured> => {
      const m = await measureLoad(pid, plan);
      if (process.env.BENCH_THREADS) console.log(m.threads);
      return m;
    };
    // (1) Token endpoint: codes minted by single sign-on before the clock starts; assertions pre-signed.
    const oursToken = async (round: number): Promise<Measured> => {
      const codes = await mintCodes(origin, bench, round * N_TOKENS, N_TOKENS);
      const bodies = await assertions(bench, `${origin}/sandpit/token`, N_TOKENS);
      return measure(server.pid!, {
        kind: 'requests',
        origin,
        concurrency: CONCURRENCY,
        expect: 200,
        requests: tokenRequests(codes, bodies, '/sandpit/token'),
      });
    };
    const ssoN = Math.max(200, Math.floor(N_TOKENS / 3));
    // The bare engine, in memory (the yardstick) and on our SQLite adapter (to split our gap: persisting vs our layers).
    const startBare = async (sqliteFile?: string) => {
      const barePort = await freePort();
      const bare = fork(path.join(HERE, 'bare-provider.ts'), {
        env: {
          ...process.env,
          PORT: String(barePort),
          CLIENT_ID: bench.clientId,
          REDIRECT_URI,
          CLIENT_JWK: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'RS512', use: 'sig' }),
          ...(sqliteFile ? { BARE_SQLITE: sqliteFile } : {}),
        },
        stdio: 'inherit',
      });
      children.push(bare);
      await new Promise((r) => bare.once('message', r));
      const bareOrigin = `http://localhost:${barePort}`;
      const bareCookie = await (await fetch(`${bareOrigin}/bench/session`)).text();
      return {
        async token(): Promise<Measured> {
          const codes = (await (await fetch(`${bareOrigin}/bench/codes?n=${N_TOKENS}`)).json()) as string[];
          const bodies = await assertions(bench, `${bareOrigin}/token`, N_TOKENS);
          return measure(bare.pid!, {
            kind: 'requests',
            origin: bareOrigin,
            concurrency: CONCURRENCY,
            expect: 200,
            requests: tokenRequests(codes, bodies, '/token'),
          });
        },
        /** Its own single sign-on logins (see bare-provider.ts: one signature per token request where ours makes two). */
        async sso(round: number): Promise<Measured> {
          const bodies = await assertions(bench, `${bareOrigin}/token`, ssoN);
          const paths = Array.from({ length: ssoN }, (_, i) =>
            authorizePath(bench.clientId, 100000 + round * ssoN + i).replace('/sandpit/authorize', '/auth'),
          );
          return measure(bare.pid!, {
            kind: 'sso',
            origin: bareOrigin,
            concurrency: CONCURRENCY,
            cookies: [bareCookie],
            tokenPath: '/token',
            userinfoPath: '/me',
            authorizePaths: paths,
            tokenBodies: bodies,
          });
        },
      };
    };
    // (2) Single sign-on logins: authorize -> code -> token -> userinfo with an existing session.
    const oursSso = async (round: number): Promise<Measured> => {
      const bodies = await assertions(bench, `${origin}/sandpit/token`, ssoN);
      return measure(server.pid!, {
        kind: 'sso',
        origin,
        concurrency: CONCURRENCY,
        cookies: [cookie],
        tokenPath: '/sandpit/token',
        userinfoPath: '/sandpit/userinfo',
        authorizePaths: Array.from({ length: ssoN }, (_, i) => authorizePath(bench.clientId, 100000 + round * ssoN + i)),
        tokenBodies: bodies,
      });
    };

    // The machine's speed drifts within minutes, so the servers take turns: each round measures all of them
    // back to back, ratios are taken within a round, and the median round is what counts.
    const onlySso = process.env.BENCH_ONLY === 'sso';
    const bareMemory = onlySso ? undefined : await startBare();
    const bareSqlite = onlySso ? undefined : await startBare(path.join(dir, 'bare.db'));
    const rounds: { ours?: Measured; yard?: Measured; onSqlite?: Measured; sso?: Measured; yardSso?: Measured }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const r: (typeof rounds)[number] = {};
      if (!onlySso) {
        r.ours = await oursToken(round);
        r.yard = await bareMemory!.token();
        r.onSqlite = await bareSqlite!.token();
      }
      if (process.env.BENCH_ONLY !== 'token') {
        r.sso = await oursSso(round);
        if (!onlySso) r.yardSso = await bareMemory!.sso(round);
      }
      rounds.push(r);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
    const cpuNote = (m: Measured, unit: string) => `   server CPU ${m.cpu.all.toFixed(2)} ms/${unit}`;
    if (!onlySso) {
      console.log(`(1) token endpoint: authorization_code + private_key_jwt + RS512 ID and access tokens (${ROUNDS} rounds)`);
      for (const [i, r] of rounds.entries()) {
        line(`    round ${i + 1}: toolkit (SQLite)`, r.ours!.result, r.ours!.rss, cpuNote(r.ours!, 'response'));
        line('             bare engine (memory)', r.yard!.result, r.yard!.rss, cpuNote(r.yard!, 'response'));
        line('             bare engine, our SQLite adapter', r.onSqlite!.result, r.onSqlite!.rss, cpuNote(r.onSqlite!, 'response'));
      }
      const thr = rounds.map((r) => r.ours!.result.rps / r.yard!.result.rps);
      const p99 = rounds.map((r) => r.ours!.result.p99 / r.yard!.result.p99);
      const persisting = rounds.map((r) => r.onSqlite!.result.rps / r.yard!.result.rps);
      const layers = rounds.map((r) => r.ours!.result.rps / r.onSqlite!.result.rps);
      console.log(`    throughput vs bare engine by round: ${list(thr)} -> median ${median(thr).toFixed(2)}x (target >= 0.9)`);
      console.log(`    p99 vs bare engine by round:        ${list(p99)} -> median ${median(p99).toFixed(2)}x (target <= 1.25)`);
      console.log(`    toolkit peak RSS: max ${(Math.max(...rounds.map((r) => r.ours!.rss)) / 1048576).toFixed(0)} MB (target <= 250)`);
      console.log(
        `    split: persisting alone ${list(persisting)} -> median ${median(persisting).toFixed(2)}x the ` +
          `bare engine's rate; our layers on top ${list(layers)} -> median ${median(layers).toFixed(2)}x\n`,
      );
    }
    if (process.env.BENCH_ONLY === 'token') return;
    console.log('(2) single sign-on logins: authorize -> code -> token -> userinfo');
    for (const [i, r] of rounds.entries()) {
      line(`    round ${i + 1}: toolkit (SQLite)`, r.sso!.result, r.sso!.rss, cpuNote(r.sso!, 'login'));
      if (r.yardSso) line('             bare engine (memory), lighter login', r.yardSso.result, r.yardSso.rss, cpuNote(r.yardSso, 'login'));
    }
    if (!onlySso) {
      const ratio = rounds.map((r) => r.sso!.result.rps / r.ours!.result.rps);
      const bareRatio = rounds.map((r) => r.yardSso!.result.rps / r.yard!.result.rps);
      console.log(`    vs our token rate by round: ${list(ratio)} -> median ${median(ratio).toFixed(2)}x (target >= 0.6)`);
      console.log(
        `    the bare engine's own logins vs its token rate: ${list(bareRatio)} -> ` +
          `median ${median(bareRatio).toFixed(2)}x (its login's token request signs once, ours twice)`,
      );
    }
    if (process.env.BENCH_ONLY === 'sso') return;

    // Memory against live sessions: sessions live in the database, so RSS should not grow with their number.
    console.log('\nPeak RSS under single sign-on load against many live sessions (before any password hashing inflates the heap):');
    const cookieKeys = JSON.parse(
      (await db.selectFrom('kv').select('value').where('ns', '=', 'cookie-keys').where('key', '=', 'sandpit').executeTakeFirstOrThrow())
        .value,
    ) as string[];
    const accountId = (
      await db.selectFrom('person').select('id').where('email', '=', 'testuserlive@demo.signin.nhs.uk').executeTakeFirstOrThrow()
    ).id;
    const cookies: string[] = [];
    // A warm-up round first, so that the two measured rounds compare steady states, not heap growth.
    for (const [round, target] of [[0, 1000], [1, 1000], [2, N_SESSIONS]] as const) {
      const ids = await addSessions(db, 'sandpit', accountId, bench.clientId, target - cookies.length);
      cookies.push(...ids.map((id) => signedCookie('_nhsl_sandpit', id, cookieKeys[0]!)));
      const n = 2000;
      const b2 = await assertions(bench, `${origin}/sandpit/token`, n);
      await resetPeakRss(server.pid!);
      const r = await runLoad({
        kind: 'sso',
        origin,
        concurrency: CONCURRENCY,
        cookies,
        tokenPath: '/sandpit/token',
        userinfoPath: '/sandpit/userinfo',
        authorizePaths: Array.from({ length: n }, (_, i) => authorizePath(bench.clientId, 300000 + round * n + i)),
        tokenBodies: b2,
      });
      line(`    ${String(target).padStart(6)} live sessions${round === 0 ? ' (warm-up)' : ''}`, r, await peakRss(server.pid!));
    }

    // (3) Complete persona logins, bounded by password hashing (scrypt, on the libuv pool).
    const personaBodies = await assertions(bench, `${origin}/sandpit/token`, N_PERSONAS);
    await resetPeakRss(server.pid!);
    const emails = ['', '+1', '+3', '+4', '+5', '+6', '+7', '+8', '+9', '+11', '+12', '+13'].map(
      (n) => `testuserlive${n}@demo.signin.nhs.uk`,
    );
    const persona = await runLoad({
      kind: 'persona',
      origin,
      concurrency: 8,
      emails,
      tokenPath: '/sandpit/token',
      userinfoPath: '/sandpit/userinfo',
      authorizeUrls: Array.from({ length: N_PERSONAS }, (_, i) => `${origin}${authorizePath(bench.clientId, 200000 + i)}`),
      tokenBodies: personaBodies,
    });
    console.log('\n(3) persona logins: authorize -> sign in -> OTP -> consent -> token -> userinfo (concurrency 8)');
    const h0 = performance.now();
    await hashPassword('bench-password-1');
    const hashMs = performance.now() - h0;
    line('    toolkit (SQLite)', persona, await peakRss(server.pid!));
    console.log(
      `    password hash: ${PASSWORD_HASH_COST}, ${hashMs.toFixed(0)} ms each on this machine, on the libuv pool (off the event loop)`,
    );

    await database.close();
  } finally {
    for (const c of children) c.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await postgres();
}

/** (4) PostgreSQL with one instance and with two (scale.ts). */
function postgres() {
  const cpu = (m: Measured, unit: string) => `   server CPU ${m.cpu.all.toFixed(2)} ms/${unit}`;
  return scalePhase({ tokens: N_TOKENS, concurrency: CONCURRENCY, rounds: ROUNDS }, process.env.BENCH_DATABASE_URL, (name, m, unit) =>
    line(name, m.result, m.rss, cpu(m, unit)),
  );
}

await main();
