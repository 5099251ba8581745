/**
 * From P5 to P9 (NHS login's user journeys, "High level verification (P9)"): with the details of the person's GP
 * online services account (Patient Online: linkage key, account ID and the surgery's ODS code, as on the letter
 * from the surgery), matched against the environment's test GP linkage records; or by a simulated photo-ID check.
 * Wrong GP details count as wrong secrets do (storage/lockout.ts): five free tries per account and address, then waits.
 */
import type { FastifyRequest } from 'fastify';
import { checkPair, pairKey, throttledNetwork, updatePerson, waitText } from '../../storage/index.ts';
import { fieldError, type Journey, type JourneyDeps } from './flow.ts';

export type Body = Record<string, string | undefined>;
type Show = (ctx: Record<string, unknown>, status: number) => unknown;

const trimmed = (s: string | undefined) => String(s ?? '').replace(/\s+/g, '');

/** The way the person chose; a form from before the choice existed (a document only) is the photo-ID check. */
function methodOf(b: Body): 'gp_online' | 'photo_id' | undefined {
  if (b.method === 'gp_online' || b.method === 'photo_id') return b.method;
  return b.method === undefined && b.document !== undefined ? 'photo_id' : undefined;
}

/**
 * Takes the person to P9 if what they sent proves it; otherwise answers with the page again. Returns whether the
 * level was reached (the caller then goes on with the journey).
 */
export async function upliftToP9(deps: JourneyDeps, j: Journey, req: FastifyRequest, b: Body, show: Show): Promise<boolean> {
  const person = j.person!;
  const clientId = String(j.details.params.client_id);
  const env = deps.env.name;
  const values = { method: b.method, linkage_key: b.linkage_key, account_id: b.account_id, ods_code: b.ods_code };
  const record = (ok: boolean, details: Record<string, unknown>, error?: 'gp_linkage_no_match' | 'throttled') =>
    deps.events.record(ok
      ? { env, clientId, kind: 'uplift', outcome: 'ok', person: person.id, correlationId: j.uid, details }
      : { env, clientId, kind: 'uplift', outcome: 'error', error: error!, person: person.id, correlationId: j.uid, details });
  const method = methodOf(b);
  if (!method) {
    await show({ errors: [fieldError('method', 'Select how you will prove your identity')], values }, 400);
    return false;
  }
  if (method === 'photo_id') {
    if (b.document !== 'passport' && b.document !== 'driving_licence') {
      await show({ errors: [fieldError('document', 'Select the photo ID you will use')], values }, 400);
      return false;
    }
    await updatePerson(deps.db, env, person.id, { proofing_level: 'P9', highest_level: 'P9' });
    record(true, { to: 'P9', route: 'photo_id', document: b.document });
    return true;
  }
  const given = { linkage_key: trimmed(b.linkage_key), account_id: trimmed(b.account_id), ods_code: trimmed(b.ods_code).toUpperCase() };
  const missing = [
    !given.linkage_key && fieldError('linkage_key', 'Enter your linkage key'),
    !given.account_id && fieldError('account_id', 'Enter your account ID'),
    !given.ods_code && fieldError('ods_code', 'Enter your GP surgery ODS code'),
  ].filter((e) => e !== false);
  if (missing.length) {
    await show({ errors: missing, values }, 400);
    return false;
  }
  const link = person.nhs_number ? deps.people.linkage.get(person.nhs_number) : undefined;
  const checked = await checkPair(deps.db, pairKey(`gp-online:${env}:${person.id}`, throttledNetwork(req.ip)), async () => {
    // The linkage key is case-sensitive (the test data mixes cases); the ODS code is not.
    const ok = Boolean(link) && link!.gp_linkage_key === given.linkage_key && link!.gp_account_id === given.account_id
      && link!.gp_ods_code.toUpperCase() === given.ods_code;
    return { ok, value: ok };
  });
  if (checked.refused) {
    record(false, { to: 'P9', route: 'gp_online' }, 'throttled');
    const r = checked.refused;
    const wait = r.reason === 'wait' ? `Wait ${waitText(r.waitMs)} before you try again.` : 'Try again in a few seconds.';
    const text = `You have entered GP online details that do not match too many times. ${wait}`;
    await show({ errors: [fieldError('linkage_key', text)], values }, 429);
    return false;
  }
  if (!checked.value) {
    record(false, { to: 'P9', route: 'gp_online' }, 'gp_linkage_no_match');
    const after = checked.waitMs
      ? `Wait ${waitText(checked.waitMs)} before you try again.`
      : `You have ${checked.left} more ${checked.left === 1 ? 'try' : 'tries'} before you must wait.`;
    const text = `These details do not match your GP online services account. Check the letter from your GP surgery. ${after}`;
    await show({ errors: [fieldError('linkage_key', text)], values }, checked.waitMs ? 429 : 400);
    return false;
  }
  // Proved by the GP account itself: the NHS login is linked to it from now on (gp_integration_credentials).
  await updatePerson(deps.db, env, person.id, {
    proofing_level: 'P9', highest_level: 'P9', im1: 1, gp_user_id: link!.gp_account_id, gp_linkage_key: link!.gp_linkage_key,
    gp_ods_code: link!.gp_ods_code,
  });
  record(true, { to: 'P9', route: 'gp_online' });
  return true;
}
