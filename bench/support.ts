/** Helpers for the benchmark: ports, readiness, the server's peak RSS, and bulk sessions. */
import fs from 'node:fs/promises';
import { freePort } from '../src/test-support/ports.ts';
export { freePort };
export { startCommand, waitReady } from '../src/test-support/instances.ts';
import { createHmac, randomBytes } from 'node:crypto';
import { oidcAdapterFactory, type Db } from '../src/storage/index.ts';


/** VmHWM: the process's peak resident set since start or since the last reset. */
export async function peakRss(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Writing 5 to clear_refs resets VmHWM (Linux proc(5)), so each scenario reports its own peak. */
export async function resetPeakRss(pid: number): Promise<void> {
  await fs.writeFile(`/proc/${pid}/clear_refs`, '5').catch(() => undefined);
}

/** A cookie as Koa signs it (keygrip, HMAC-SHA1, base64url over "name=value"). */
export function signedCookie(name: string, value: string, key: string): string {
  const sig = createHmac('sha1', key).update(`${name}=${value}`).digest('base64url');
  return `${name}=${value}; ${name}.sig=${sig}`;
}

/**
 * Adds `n` signed-in sessions for one person through the provider's own storage adapter, each authorised
 * for the client with the grant the warm-up login created.
 */
export async function addSessions(db: Db, env: string, accountId: string, clientId: string, n: number): Promise<string[]> {
  const grant = await db
    .selectFrom('oidc_model')
    .select('id')
    .where('env', '=', env)
    .where('model', '=', 'Grant')
    .where('payload', 'like', `%"accountId":"${accountId}"%`)
    .where('payload', 'like', `%"clientId":"${clientId}"%`)
    .executeTakeFirstOrThrow();
  const sessions = oidcAdapterFactory(db, env)('Session');
  const now = Math.floor(Date.now() / 1000);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const jti = randomBytes(16).toString('base64url');
    await sessions.upsert(jti, {
      jti, kind: 'Session', uid: randomBytes(16).toString('base64url'), accountId, loginTs: now, acr: 'P9.Cp.Cd', amr: ['Cp', 'Cd'],
      authorizations: { [clientId]: { sid: randomBytes(16).toString('base64url'), grantId: grant.id } }, iat: now, exp: now + 3600,
    } as never, 3600);
    ids.push(jti);
  }
  return ids;
}

/** CPU time (user + system, all threads) the process has used, in milliseconds (proc(5) stat fields 14-15). */
export async function cpuMs(pid: number): Promise<number> {
  const fields = (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** CPU milliseconds per thread name (main thread, libuv pool, V8 workers), for "where did the time go". */
export async function threadCpu(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const t of await fs.readdir(`/proc/${pid}/task`)) {
    const st = await fs.readFile(`/proc/${pid}/task/${t}/stat`, 'utf8');
    const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
    const f = st.split(') ')[1]!.split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) * 10);
  }
  return out;
}

export function threadDelta(a: Map<string, number>, b: Map<string, number>): string {
  return [...b].map(([k, v]) => `${k}: ${v - (a.get(k) ?? 0)} ms`).join(', ');
}
