/**
 * The toolkit as separate processes, started exactly as `npm start` starts it (its environment and Node flags read
 * from package.json), for the reliability suite and the benchmarks: several instances on one database, killed,
 * stopped and restarted for real.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './ports.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');

/** `npm start`'s command split into environment, Node flags and script. */
export function startCommand(root = ROOT): { env: Record<string, string>; flags: string[]; script: string } {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const env: Record<string, string> = {};
  const flags: string[] = [];
  let script = '';
  for (const w of pkg.scripts.start.split(/\s+/)) {
    if (/^[A-Z_]+=/.test(w)) env[w.slice(0, w.indexOf('='))] = w.slice(w.indexOf('=') + 1);
    else if (w.startsWith('--')) flags.push(w);
    else if (w !== 'node') script = w;
  }
  return { env, flags, script };
}

export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

export interface Instance {
  process: ChildProcess;
  port: number;
  /** This instance's own address (PUBLIC_URL may name another, e.g. a proxy in front of several). */
  origin: string;
  /** The exit code, or the signal that ended it. */
  exited: Promise<number | NodeJS.Signals>;
  /** What it wrote to stderr and stdout so far (for failure messages). */
  output(): string;
}

export interface InstanceOptions {
  /** Variables beside the defaults (LOG_LEVEL warn, PORT); DATABASE_URL is required. */
  env: Record<string, string>;
  root?: string;
  nodeOptions?: string;
  /** Node flags that NODE_OPTIONS refuses (e.g. --trace-gc). */
  flags?: string[];
  port?: number;
  stdio?: 'pipe' | 'inherit';
}

/** Starts one toolkit process; resolves as soon as it is spawned (see `ready`). */
export async function spawnInstance(o: InstanceOptions): Promise<Instance> {
  const port = o.port ?? (await freePort());
  const root = o.root ?? ROOT;
  const start = startCommand(root);
  const child = fork(path.join(root, start.script), {
    cwd: root,
    env: { ...process.env, ...start.env, PORT: String(port), LOG_LEVEL: 'warn', NODE_OPTIONS: o.nodeOptions ?? '', ...o.env },
    execArgv: [...start.flags, ...(o.flags ?? [])],
    stdio: o.stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  child.stderr?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-20_000)));
  const exited = new Promise<number | NodeJS.Signals>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal!)));
  return { process: child, port, origin: `http://127.0.0.1:${port}`, exited, output: () => out };
}

/** Resolves when the instance answers /readyz; rejects with its output if it exits first. */
export async function ready(i: Instance, timeoutMs = 30_000): Promise<void> {
  const exit = i.exited.then((code) => {
    throw new Error(`the toolkit exited (${code}) before it was ready:\n${i.output()}`);
  });
  await Promise.race([waitReady(`${i.origin}/readyz`, timeoutMs), exit]);
}

export async function startInstance(o: InstanceOptions): Promise<Instance> {
  const i = await spawnInstance(o);
  try {
    await ready(i);
  } catch (e) {
    i.process.kill('SIGKILL');
    throw e;
  }
  return i;
}

/** Ends an instance with `signal` and waits for it to exit. */
export async function stopInstance(i: Instance, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | NodeJS.Signals> {
  if (i.process.exitCode === null && i.process.signalCode === null) i.process.kill(signal);
  return i.exited;
}
