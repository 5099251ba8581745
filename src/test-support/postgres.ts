/**
 * A throwaway PostgreSQL cluster on a loopback port for the dialect matrix. Uses TEST_DATABASE_URL when
 * set (CI starts one); otherwise initdb + pg_ctl from Debian's postgresql package into a temp directory.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.ts';

function findBin(name: string): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = path.join(base, v, 'bin', name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(
    `PostgreSQL's ${name} was not found under ${base}: install Debian's ` +
      `postgresql package (apt-get install -y postgresql) or set TEST_DATABASE_URL`,
  );
}


export interface Cluster {
  url: string;
  stop(): void;
  /** Stops the server (fast shutdown: connections are ended), keeping its data, as a restart or failover would. */
  pause(): void;
  /** Starts it again on the same port and data. */
  resume(): void;
}

export async function startCluster(): Promise<Cluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  // initdb refuses to run as root: run the server as Debian's postgres user then.
  const run = (bin: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', bin, ...args], { stdio: 'pipe' })
      : execFileSync(bin, args, { stdio: 'pipe' });
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  run(findBin('initdb'), ['-D', data, '-U', 'toolkit', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const start = () =>
    run(findBin('pg_ctl'), [
      '-D',
      data,
      '-l',
      path.join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      'start',
    ]);
  start();
  return {
    url: `postgres://toolkit@127.0.0.1:${port}/postgres`,
    pause: () => run(findBin('pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: start,
    stop() {
      try {
        run(findBin('pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
