/**
 * Test people: the sandpit's 25-account pack, the integration environment's three fixed accounts, the test
 * PDS records new integration users are matched against, and the GP linkage records for IM1.
 * The files are copies of the packs NHS login publishes (see src/identity/people/data/).
 */
import path from 'node:path';
import { createHash } from 'node:crypto';
import { countPeople, insertPeopleIfAbsent, type Db, type PersonRow } from '../../storage/index.ts';
import { capabilitiesOf, ENVIRONMENT_NAMES } from '../../config/index.ts';
import { hashPassword } from '../../security/passwords.ts';
import { readCsv } from './csv.ts';

const DATA = path.join(import.meta.dirname, 'data');

export interface PdsRecord {
  nhs_number: string;
  birthdate: string;
  date_of_death: string;
  family_name: string;
  given_name: string;
  postcode: string;
  gp_ods_code: string;
}

export interface GpLinkage {
  gp_linkage_key: string;
  gp_ods_code: string;
  gp_account_id: string;
  nhs_number: string;
}

/** Reference data, read once at start-up; it never changes while running. */
export interface PeopleData {
  pds: Map<string, PdsRecord>;
  linkage: Map<string, GpLinkage>;
  /**
   * Per environment, the accounts of its published pack (lower-case emails). Their passwords and security codes are
   * public, and every partner signs in with them: nobody's failures may lock one for anybody else.
   */
  shared: Record<string, Set<string>>;
}

export function loadPeopleData(): PeopleData {
  const pds = new Map(readCsv(path.join(DATA, 'integration-pds-patients.csv')).map((r) => [r.nhs_number!, r as unknown as PdsRecord]));
  const linkage = new Map(readCsv(path.join(DATA, 'integration-gp-linkage.csv')).map((r) => [r.nhs_number!, r as unknown as GpLinkage]));
  const shared: Record<string, Set<string>> = {};
  for (const env of ENVIRONMENT_NAMES) {
    const file = seedFile(env);
    if (file) shared[env] = new Set(readCsv(path.join(DATA, file)).map((r) => r.email!.toLowerCase()));
  }
  return { pds, linkage, shared };
}

/** A stable, opaque `sub` for a seeded account: the same on every install, distinct per environment. */
function seededSub(env: string, email: string): string {
  return createHash('sha256').update(`${env}:${email.toLowerCase()}`).digest('hex').slice(0, 32);
}

/** The environment's published accounts (data/<env>-accounts.csv), if it has any. */
function seedFile(env: string): string | undefined {
  return capabilitiesOf(env)?.testAccounts ? `${env}-accounts.csv` : undefined;
}

/**
 * Loads an environment's prepared accounts on first start (the table is empty). Safe when instances start at once:
 * the accounts' ids are stable, so a second instance's insert adds nothing.
 */
export async function seedPeople(db: Db, env: string, data: PeopleData): Promise<number> {
  const file = seedFile(env);
  if (!file || (await countPeople(db, env)) > 0) return 0;
  const rows = readCsv(path.join(DATA, file));
  // The packs publish one password for every account: hash each distinct password once (a published test
  // password gains nothing from per-account salts), which keeps a fresh start well inside its 3 s budget.
  const distinct = [...new Set(rows.map((r) => r.password!))];
  const byPassword = new Map(await Promise.all(distinct.map(async (pw) => [pw, await hashPassword(pw)] as const)));
  const now = Date.now();
  const people = rows.map((r, i): PersonRow => {
    const im1 = r.im1 === 'Yes';
    const link = r.nhs_number ? data.linkage.get(r.nhs_number) : undefined;
    return {
      env,
      id: seededSub(env, r.email!),
      email: r.email!,
      password_hash: byPassword.get(r.password!)!,
      otp: r.otp!,
      proofing_level: r.proofing_level!,
      highest_level: r.proofing_level!,
      nhs_number: r.nhs_number || null,
      given_name: r.given_name || null,
      family_name: r.family_name || null,
      birthdate: r.birthdate || null,
      postcode: r.postcode || null,
      phone_number: r.phone_number || (r.proofing_level === 'P0' ? null : '+447700900000'),
      gp_ods_code: r.gp_ods_code || data.pds.get(r.nhs_number ?? '')?.gp_ods_code || null,
      im1: im1 ? 1 : 0,
      // Sandpit IM1 accounts have no real GP system behind them: NHS login's sandpit returns test values.
      gp_user_id: im1 ? (link?.gp_account_id ?? `SANDPIT-${r.nhs_number}`) : null,
      gp_linkage_key: im1 ? (link?.gp_linkage_key ?? `SANDPIT${r.nhs_number?.slice(-6)}`) : null,
      created_at: now + i,
      organisation_id: null,
      otp_disabled: 0,
      phone_pds_matched: null,
      pds_trace_fails: 0,
    };
  });
  await insertPeopleIfAbsent(db, people);
  return rows.length;
}

export { seededSub };
