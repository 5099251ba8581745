/**
 * Proxy access in the stand-in NHS App ("Manage health services for others", issue 15 §4): a person who manages
 * health services for someone else opens a service for them, and the assertion names the patient, not the person
 * logged in. The links are a fixture of the sandpit's published test accounts (ASSUMPTION: NHS login's documents give
 * neither proxy test data nor how the NHS App asserts a patient; here the stand-in holds an identity for the patient
 * on the proxy's authority, as the NHS App does once it has checked the proxy relationship).
 */
import { randomBytes } from 'node:crypto';
import { findPerson, findPersonByEmail, proxyPatientIds, type Db } from '../../storage/index.ts';
import { rememberIdentity } from '../sso.ts';
import { NHS_APP_CLIENT_ID, NHS_APP_VTR } from './host.ts';

/** Per environment: the account logged in to the NHS App → the accounts it manages health services for. */
const PROXY_LINKS: Record<string, Record<string, string[]>> = {
  sandpit: { 'testuserlive+21@demo.signin.nhs.uk': ['testuserlive+22@demo.signin.nhs.uk', 'testuserlive+23@demo.signin.nhs.uk'] },
};

export interface Patient {
  sub: string;
  name: string;
  nhsNumber: string | null;
}

/** The people `email` manages health services for in `env` (none for most accounts). */
export async function patientsOf(db: Db, env: string, email: string | undefined): Promise<Patient[]> {
  if (!email) return [];
  const emails = PROXY_LINKS[env]?.[email.toLowerCase()] ?? [];
  const proxy = await findPersonByEmail(db, env, email);
  const linked = proxy ? await proxyPatientIds(db, env, proxy.id) : [];
  const people = await Promise.all([...emails.map((e) => findPersonByEmail(db, env, e)), ...linked.map((id) => findPerson(db, env, id))]);
  return people.filter((p) => p !== undefined).map((p) => ({
    sub: p.id,
    name: [p.given_name, p.family_name].filter(Boolean).join(' ') || p.email,
    nhsNumber: p.nhs_number,
  }));
}

/** An identity the stand-in holds for the patient, for an hour: the `code` its assertions for them carry. */
export async function patientIdentity(db: Db, env: string, patient: Patient): Promise<string> {
  const code = randomBytes(16).toString('hex');
  await rememberIdentity(db, env, code, { sub: patient.sub, clientId: NHS_APP_CLIENT_ID, acr: NHS_APP_VTR[0]!, amr: ['Cp', 'Cd'] });
  return code;
}

/** Every proxy link of the environment, for its reference page. */
export const proxyLinks = (env: string) =>
  Object.entries(PROXY_LINKS[env] ?? {}).map(([proxy, patients]) => ({ proxy, patients }));
