/**
 * From P5 to P9 (NHS login's user journeys, "High level verification (P9)"): with the details of the person's GP
 * online services account (Patient Online: linkage key, account ID and the surgery's ODS code, as on the letter
 * from the surgery), matched against the environment's test GP linkage records; by mobile (IDVM: a person registered
 * for GP online services whose mobile matches their GP record confirms a code sent to it); or by a simulated photo-ID
 * check. Wrong details and codes count as wrong secrets do (storage/lockout.ts): five free tries per account and
 * address, then waits.
 */
import type { FastifyRequest } from 'fastify';
import { checkPair, pairKey, throttledNetwork, updatePerson, waitText, type Refusal } from '../../storage/index.ts';
import type { PersonRow } from '../../storage/index.ts';
import { fieldError, type Journey, type JourneyDeps } from './flow.ts';
import { maskPhone, sameCode } from './otp.ts';

export type Body = Record<string, string | undefined>;
type Show = (ctx: Record<string, unknown>, status: number) => unknown;

const trimmed = (s: string | undefined) => String(s ?? '').replace(/\s+/g, '');

/**
 * Identity verification via mobile (user-journeys.md, "High level verification (P9)"): only for a P5 person registered
 * for GP online services (a GP linkage) whose mobile number matches the one on their GP record (the test-data switch
 * `phone_pds_matched`, else what the environment's PDS says). Returns the number as the page may show it.
 */
export function mobileRoute(deps: JourneyDeps, p: PersonRow): string | undefined {
  const matched = p.phone_pds_matched !== null ? p.phone_pds_matched === 1 : deps.env.capabilities.pds;
  const online = p.im1 === 1 || (p.nhs_number !== null && deps.people.linkage.has(p.nhs_number));
  return p.phone_number && matched && online ? maskPhone(p.phone_number) : undefined;
}

/** The way the person chose; a form from before the choice existed (a document only) is the photo-ID check. */
function methodOf(b: Body): 'gp_online' | 'mobile' | 'photo_id' | undefined {
  if (b.method === 'gp_online' || b.method === 'photo_id' || b.method === 'mobile') return b.method;
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
  const record = (ok: boolean, details: Record<string, unknown>, error?: 'gp_linkage_no_match' | 'wrong_code' | 'throttled') =>
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
    record(true, { to: 'P9', way: 'photo_id', document: b.document });
    return true;
  }
  if (method === 'mobile') return byMobile(deps, j, req, b, show, record);
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
  if (checked.refused || !checked.value) {
    record(false, { to: 'P9', way: 'gp_online' }, checked.refused ? 'throttled' : 'gp_linkage_no_match');
    const f = failure(checked, 'GP online details that do not match',
      'These details do not match your GP online services account. Check the letter from your GP surgery.');
    await show({ errors: [fieldError('linkage_key', f.text)], values }, f.status);
    return false;
  }
  // Proved by the GP account itself: the NHS login is linked to it from now on (gp_integration_credentials).
  await updatePerson(deps.db, env, person.id, {
    proofing_level: 'P9', highest_level: 'P9', im1: 1, gp_user_id: link!.gp_account_id, gp_linkage_key: link!.gp_linkage_key,
    gp_ods_code: link!.gp_ods_code,
  });
  record(true, { to: 'P9', way: 'gp_online' });
  return true;
}

/** What a refused or failed check tells the person (how long to wait, or how many tries are left), and its status. */
function failure(c: { refused?: Refusal | undefined; waitMs?: number; left?: number }, tooMany: string, wrong: string) {
  const waitMs = c.refused ? (c.refused.reason === 'wait' ? c.refused.waitMs : 0) : (c.waitMs ?? 0);
  if (c.refused?.reason === 'busy') return { text: 'These details are being checked: try again in a few seconds.', status: 429 };
  if (c.refused || waitMs) {
    return { text: `You have entered ${tooMany} too many times. Wait ${waitText(waitMs)} before you try again.`, status: 429 };
  }
  const left = c.left ?? 0;
  return { text: `${wrong} You have ${left} more ${left === 1 ? 'try' : 'tries'} before you must wait.`, status: 400 };
}

type Record_ = (ok: boolean, details: Record<string, unknown>, error?: 'gp_linkage_no_match' | 'wrong_code' | 'throttled') => void;

/** IDVM: the code sent to the mobile on the GP record (the test accounts' security code), checked as security codes are. */
async function byMobile(deps: JourneyDeps, j: Journey, req: FastifyRequest, b: Body, show: Show, record: Record_): Promise<boolean> {
  const person = j.person!;
  const code = trimmed(b.mobile_code);
  if (!mobileRoute(deps, person)) {
    await show({ errors: [fieldError('method', 'Your mobile number does not match your GP record: use another way')] }, 400);
    return false;
  }
  if (!code) {
    await show({ errors: [fieldError('mobile_code', 'Enter the security code sent to your mobile')] }, 400);
    return false;
  }
  const checked = await checkPair(deps.db, pairKey(`idvm:${deps.env.name}:${person.id}`, throttledNetwork(req.ip)), async () => {
    const ok = sameCode(code, person.otp);
    return { ok, value: ok };
  });
  if (checked.refused || !checked.value) {
    record(false, { to: 'P9', way: 'mobile' }, checked.refused ? 'throttled' : 'wrong_code');
    const f = failure(checked, 'the wrong security code', 'The security code is incorrect.');
    await show({ errors: [fieldError('mobile_code', f.text)] }, f.status);
    return false;
  }
  // The mobile was matched to the GP record: phone_number_pds_matched says so from now on.
  await updatePerson(deps.db, deps.env.name, person.id, { proofing_level: 'P9', highest_level: 'P9', phone_pds_matched: 1 });
  record(true, { to: 'P9', way: 'mobile' });
  return true;
}
