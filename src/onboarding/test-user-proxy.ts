/**
 * A partner lets one of its test users manage health services for another (issue 15 §4, proxy access):
 * in the stand-in NHS App the proxy then sees "Manage health services for others" and may open the partner's service
 * for the patient, whose identity the assertion carries (identity/nhs-app/proxy.ts).
 */
import { addProxyLink, proxyLinksOf, proxyPatientIds, removeProxyLink, type Db } from '../storage/index.ts';
import { OnboardingError } from './errors.ts';
import { ownTestUser, TEST_USER_ENVS } from './test-users.ts';

/** ASSUMPTION: the documents give no limit; a few patients per proxy is what a test needs, and keeps the NHS App page short. */
export const MAX_PATIENTS = 5;

/** Links (or, with `link` false, unlinks) `proxyId` to act for `patientId`; both must be the organisation's own test users. */
export async function setTestUserProxy(db: Db, organisationId: string, proxyId: string, patientId: unknown, link: boolean) {
  const proxy = await ownTestUser(db, organisationId, proxyId);
  const patient = await ownTestUser(db, organisationId, patientId, 'patient');
  // The stand-in NHS App of one environment knows only that environment's people.
  if (patient.env !== proxy.env) throw new OnboardingError('invalid_choice', `Choose another of your ${proxy.env} test users`, 'patient');
  if (!link) return removeProxyLink(db, proxy.env, proxy.id, patient.id);
  if (patient.id === proxy.id)
    throw new OnboardingError('invalid_choice', 'A test user cannot manage health services for themselves: choose another', 'patient');
  const now = await proxyPatientIds(db, proxy.env, proxy.id);
  if (!now.includes(patient.id) && now.length >= MAX_PATIENTS)
    throw new OnboardingError('invalid_choice', `A test user can manage health services for up to ${MAX_PATIENTS} people`, 'patient');
  await addProxyLink(db, proxy.env, proxy.id, patient.id);
}

/** Each of these test users' patients (ids), oldest link first, for the test users page and the API. */
export async function testUserPatients(db: Db, ids: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = Object.fromEntries(ids.map((id) => [id, []]));
  for (const env of TEST_USER_ENVS) for (const l of await proxyLinksOf(db, env, ids)) out[l.proxy_id]?.push(l.patient_id);
  return out;
}
