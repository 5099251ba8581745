/**
 * The email that invites the patient to claim their account (PW "How it works" 1 step 4, 2 step 1): who asked, the
 * link, how long it works, and what to do if it was not expected. Only its token's hash is stored (storage/provisioning.ts).
 */
import type { EnvironmentConfig } from '../../config/index.ts';
import { provisionerName, type Db, type ProvisionRequestRow } from '../../storage/index.ts';

export function claimLink(env: EnvironmentConfig, token: string): string {
  return `${env.issuer}/provision/claim/${token}`;
}

export async function invitation(db: Db, env: EnvironmentConfig, row: ProvisionRequestRow, token: string) {
  const who = `${(await provisionerName(db, row.organisation_id)) ?? 'A healthcare service'} (ODS code ${row.ods_code})`;
  const create = row.kind === 'create';
  return {
    to: row.email,
    subject: create ? 'Set up your NHS login' : 'Finish setting up your NHS login',
    body: [
      create
        ? `${who} has asked NHS login to set up an NHS login for you. It will be fully verified (P9), so you will not need to `
          + 'prove who you are again.'
        : `${who} has asked NHS login to fully verify your NHS login (P9), so you will not need to prove who you are again.`,
      `Continue here: ${claimLink(env, token)}`,
      'The link works for 7 days, until your NHS login is set up. You will need your mobile phone for a security code.',
      'If you did not expect this email, ignore it: nothing changes unless you use the link.',
    ].join('\n\n'),
  };
}
