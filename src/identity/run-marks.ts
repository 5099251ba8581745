/**
 * The fault registry for conformance runs: faults scoped to one run's own requests, so that runs for
 * different clients (and normal traffic of the same client) are never affected.
 *
 * The conformance driver's browser carries a mark cookie (an unguessable id) on the environment's host. An
 * authorization made with it is tagged with the run and test; the code it issues is linked to the mark, the
 * token request that redeems that code is tagged (and spoiled if the test says so), and so is the access
 * token it returns, for userinfo. All of it lives in the database (kv), so every instance sees the same.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { kvGet, kvPut, markClientInConformance, type Db } from '../storage/index.ts';
import { newSecret } from '../security/tokens.ts';
import type { AnyFault } from './faults.ts';
import { nhsClient } from './steps/context.ts';
import { capabilitiesOf } from '../config/index.ts';

export const MARK_COOKIE = 'toolkit_conformance';
/** Long enough for one test's journey and the relying party's calls after it. */
const MARK_TTL_MS = 15 * 60 * 1000;

export interface RunMark {
  runId: string;
  testId: string;
  /** The fault this test applies to its own responses, if any. */
  fault?: AnyFault | undefined;
}

/**
 * Makes a mark for one test of a run against `clientId`; returns the cookie value the driver's browser
 * carries. The client is flagged for as long as the mark lives, so that only its token and userinfo requests
 * look for marks (runActive).
 */
export async function createRunMark(db: Db, env: string, clientId: string, mark: RunMark): Promise<string> {
  const value = newSecret();
  await kvPut(db, 'run-mark', `${env}:${value}`, mark, MARK_TTL_MS);
  await markClientInConformance(db, env, clientId, Date.now() + MARK_TTL_MS);
  return value;
}

/** Whether a conformance run may be driving this client now (its flag outlives every mark made for it). */
export function runActive(client: unknown): boolean {
  const until = nhsClient(client)?.conformanceUntil;
  return typeof until === 'number' && until > Date.now();
}

/** What leads to a mark: the browser's cookie, a code issued to that browser, an access token from that code. */
export type MarkedBy = 'run-mark' | 'run-code' | 'run-token';

/** The mark a request's browser carries (its MARK_COOKIE value), if a run made it; never in live. */
export function browserMark(db: Db, env: string, cookie: string | undefined): Promise<RunMark | undefined> {
  return capabilitiesOf(env)?.conformanceRuns ? findMark(db, 'run-mark', env, cookie) : Promise.resolve(undefined);
}

/** The mark `ref` (a cookie value, or the reference of a code or access token) leads to, if any. */
export function findMark(db: Db, by: MarkedBy, env: string, ref: string | undefined): Promise<RunMark | undefined> {
  return ref ? kvGet<RunMark>(db, by, `${env}:${ref}`) : Promise.resolve(undefined);
}

/** Links an issued code or access token (by its reference) to the mark, so what it leads to is known and can be spoiled. */
export function linkMark(db: Db, by: Exclude<MarkedBy, 'run-mark'>, env: string, ref: string, mark: RunMark): Promise<void> {
  return kvPut(db, by, `${env}:${ref}`, mark, MARK_TTL_MS);
}

/**
 * A signing key published in the environment's JWKS for one run (the key-rotation test): the relying party
 * must fetch it when it meets its kid. Published for the mark's lifetime; it signs nothing but that test's
 * ID tokens.
 */
export async function runSigningKey(db: Db, env: string, runId: string): Promise<JWK> {
  const existing = await kvGet<JWK>(db, 'run-key', `${env}:${runId}`);
  if (existing) return existing;
  const { privateKey } = await generateKeyPair('RS512', { modulusLength: 2048, extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `rotation-${runId.slice(0, 8)}`, alg: 'RS512', use: 'sig' };
  await kvPut(db, 'run-key', `${env}:${runId}`, jwk, MARK_TTL_MS);
  return jwk;
}

/** The public parts of the run keys now published in an environment's JWKS. */
export async function publishedRunKeys(db: Db, env: string): Promise<JWK[]> {
  const rows = await db
    .selectFrom('kv')
    .select('value')
    .where('ns', '=', 'run-key')
    .where('key', 'like', `${env}:%`)
    .where('expires_at', '>', Date.now())
    .execute();
  return rows.map((r) => {
    const { kty, n, e, kid, alg, use } = JSON.parse(r.value) as JWK;
    return { kty, n, e, kid, alg, use } as JWK;
  });
}
