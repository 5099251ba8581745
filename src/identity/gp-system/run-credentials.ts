/**
 * A conformance run's own GP credentials (the plan's GP tests, conformance/plan.ts): the test's userinfo carries
 * credentials made for that test alone instead of the test person's, so that the GP system stand-in can answer them as
 * the test needs (refused every time, or Restricted until the person signs in again) without changing the shared test
 * person other tests use at the same time, and so that its calls are in the run's record.
 *
 * The credentials are derived from the run and test, so every sign-in of the test gets the same ones, as NHS login
 * keeps returning stored credentials it cannot refresh (gp-credentials.md). Stored in the database (kv) for as long
 * as a run mark lives: every instance answers the same.
 */
import { createHash } from 'node:crypto';
import { kvGet, kvPut, type Db, type EventSink } from '../../storage/index.ts';
import type { RunMark } from '../run-marks.ts';

/** The run faults that hand out a test's own GP credentials. */
export type GpRunFault = 'userinfo_gp_revoked' | 'userinfo_gp_restricted';
export const isGpRunFault = (f: unknown): f is GpRunFault => f === 'userinfo_gp_revoked' || f === 'userinfo_gp_restricted';

interface Stored {
  runId: string;
  testId: string;
  clientId: string;
  fault: GpRunFault;
  linkageKey: string;
  /** Restricted only: the person signed in with credentials after the credentials were handed out. */
  lifted?: boolean;
}

const NS = 'run-gp';
/** As long as a run mark (run-marks.ts). */
const TTL_MS = 15 * 60 * 1000;

/** The test's credentials: an account id and linkage key no test person has (digits and 13 characters, as the test data's). */
function derive(mark: RunMark): { gp_user_id: string; gp_linkage_key: string } {
  const h = createHash('sha256').update(`${mark.runId}:${mark.testId}`).digest();
  const digits = (h.readBigUInt64BE(0) % 10n ** 9n).toString().padStart(9, '0');
  return { gp_user_id: `9${digits}`, gp_linkage_key: `run${h.subarray(8, 16).toString('base64url').slice(0, 10)}` };
}

/** The claim the test's userinfo carries in place of `claim` (the person's ODS code kept), stored for the stand-in. */
export async function handOut(
  db: Db, env: string, clientId: string, mark: RunMark & { fault: GpRunFault }, claim: { gp_ods_code?: unknown },
): Promise<Record<string, string>> {
  const c = { ...derive(mark), gp_ods_code: typeof claim.gp_ods_code === 'string' ? claim.gp_ods_code : 'A12345' };
  const key = `${env}:${c.gp_user_id}`;
  // Handed out again on each sign-in of the test: what the first sign-in stored (and whether it was lifted) stays.
  if (!(await kvGet<Stored>(db, NS, key))) {
    const stored: Stored = { runId: mark.runId, testId: mark.testId, clientId, fault: mark.fault, linkageKey: c.gp_linkage_key };
    await kvPut(db, NS, key, stored, TTL_MS);
  }
  return c;
}

/** What the GP system stand-in answers for a test's credentials; undefined when they are not a test's. */
export async function runGpAnswer(
  db: Db, env: string, c: { accountId: string; linkageKey: string },
): Promise<{ level: 'Linked' | 'Restricted' | 'refused'; run: { run: string; test: string }; clientId: string } | undefined> {
  const s = await kvGet<Stored>(db, NS, `${env}:${c.accountId}`);
  if (!s || s.linkageKey !== c.linkageKey) return undefined;
  const level = s.fault === 'userinfo_gp_revoked' ? 'refused' : s.lifted ? 'Linked' : 'Restricted';
  return { level, run: { run: s.runId, test: s.testId }, clientId: s.clientId };
}

/**
 * Called when a person completes a sign-in with credentials in a browser carrying `mark` (journeys/consent.ts): lifts the
 * test's Restricted, as a real sign-in lifts EMIS's (states.ts), and records it in the run's record.
 */
export async function liftOnSignIn(d: { db: Db; events: EventSink }, env: string, mark: RunMark | undefined): Promise<void> {
  if (mark?.fault !== 'userinfo_gp_restricted') return;
  const key = `${env}:${derive(mark).gp_user_id}`;
  const s = await kvGet<Stored>(d.db, NS, key);
  if (!s || s.lifted) return;
  await kvPut(d.db, NS, key, { ...s, lifted: true }, TTL_MS);
  d.events.record({
    env, clientId: s.clientId, kind: 'gp_state', outcome: 'ok',
    details: { from: 'restricted', to: 'current', by: 'sign_in', run: s.runId, test: s.testId },
  });
}
