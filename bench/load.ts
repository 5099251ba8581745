/**
 * The load generator, a separate process from the server it loads. It receives a plan over IPC, runs it
 * with a fixed concurrency over keep-alive HTTP, and answers with throughput and latency figures.
 */
import http from 'node:http';
import { Browser } from '../src/test-support/browser.ts';

export interface Req {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** `origins`, when given, are several instances behind one public URL: each request goes to the next (round-robin). */
export type Plan = { origins?: string[] } & (
  | { kind: 'requests'; origin: string; concurrency: number; requests: Req[]; expect: number }
  | {
      kind: 'sso';
      origin: string;
      concurrency: number;
      cookies: string[];
      authorizePaths: string[];
      tokenBodies: string[];
      tokenPath: string;
      userinfoPath: string;
    }
  | {
      kind: 'persona';
      origin: string;
      concurrency: number;
      authorizeUrls: string[];
      tokenBodies: string[];
      tokenPath: string;
      userinfoPath: string;
      emails: string[];
    }
);

export interface Result {
  count: number;
  errors: number;
  firstError?: string;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}

let agent: http.Agent;
let roundRobin: string[] | undefined;
let turn = 0;

function send(origin: string, r: Req): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const u = new URL(r.path, roundRobin ? roundRobin[turn++ % roundRobin.length] : origin);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: r.method,
        headers: { host: u.host, ...r.headers, ...(r.body ? { 'content-length': Buffer.byteLength(r.body) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    if (r.body) req.write(r.body);
    req.end();
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function tokenThenUserinfo(plan: { origin: string; tokenPath: string; userinfoPath: string }, code: string, body: string) {
  const t = await send(plan.origin, {
    method: 'POST',
    path: plan.tokenPath,
    headers: FORM,
    body: `${body}&code=${encodeURIComponent(code)}`,
  });
  if (t.status !== 200) throw new Error(`token ${t.status} ${t.body.slice(0, 200)}`);
  const at = (JSON.parse(t.body) as { access_token: string }).access_token;
  const u = await send(plan.origin, { method: 'GET', path: plan.userinfoPath, headers: { authorization: `Bearer ${at}` } });
  if (u.status !== 200) throw new Error(`userinfo ${u.status} ${u.body.slice(0, 200)}`);
}

async function run(plan: Plan): Promise<Result> {
  agent = new http.Agent({ keepAlive: true, maxSockets: plan.concurrency });
  roundRobin = plan.origins;
  const total =
    plan.kind === 'requests' ? plan.requests.length : plan.kind === 'sso' ? plan.authorizePaths.length : plan.authorizeUrls.length;
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;

  const iteration = async (i: number) => {
    if (plan.kind === 'requests') {
      const r = await send(plan.origin, plan.requests[i]!);
      if (r.status !== plan.expect) throw new Error(`${r.status} ${r.body.slice(0, 200)}`);
    } else if (plan.kind === 'sso') {
      const a = await send(plan.origin, {
        method: 'GET',
        path: plan.authorizePaths[i]!,
        headers: { cookie: plan.cookies[i % plan.cookies.length]! },
      });
      const code = new URL(String(a.headers.location ?? ''), plan.origin).searchParams.get('code');
      if (!code) throw new Error(`authorize ${a.status} ${String(a.headers.location)}`);
      await tokenThenUserinfo(plan, code, plan.tokenBodies[i]!);
    } else {
      const b = new Browser(fetch, plan.origin);
      let page = await b.get(plan.authorizeUrls[i]!);
      // Different people sign in at once (one account can have only a few checks under way: storage/lockout.ts).
      page = await b.post(page.url, { email: plan.emails[i % plan.emails.length]!, password: 'Passw0rd$1' });
      page = await b.post(page.url, { otp: '190696' });
      page = await b.post(page.url, {});
      const code = page.status === 0 ? new URL(page.url).searchParams.get('code') : null;
      if (!code) throw new Error(`journey ended at ${page.url} (${page.status})`);
      await tokenThenUserinfo(plan, code, plan.tokenBodies[i]!);
    }
  };

  const start = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      try {
        await iteration(i);
        latencies.push(performance.now() - t0);
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
  agent.destroy();
  return {
    count: latencies.length,
    errors,
    ...(firstError ? { firstError } : {}),
    seconds,
    rps: latencies.length / seconds,
    p50: pct(50),
    p99: pct(99),
  };
}

process.on('message', (plan: Plan) => {
  run(plan).then(
    (r) => process.send!(r, () => process.exit(0)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
});
