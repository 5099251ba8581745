/** `toolkit team create-admin` and `toolkit audit verify|export`. */
import type { Config } from '../config/index.ts';
import type { Onboarding } from '../onboarding/index.ts';
import { CliError, type Io } from './main.ts';

type Values = Record<string, string | boolean | string[] | undefined>;

export async function teamCreateAdmin(onboarding: Onboarding, config: Config, v: Values, io: Io): Promise<number> {
  if (typeof v.email !== 'string') throw new CliError('--email is required');
  const { user, setupSecret } = await onboarding.createTeamAdmin(v.email);
  const link = `${config.publicUrl}/console/setup/${setupSecret}`;
  io.out(
    v.json
      ? JSON.stringify({ email: user.email, role: user.role, setup_link: link })
      : `Team admin ${user.email} created. Send them this one-time set-up link (valid 24 hours):\n${link}`,
  );
  return 0;
}

export async function auditVerify(onboarding: Onboarding, v: Values, io: Io): Promise<number> {
  const verdict = await onboarding.verifyAudit(typeof v.head === 'string' ? v.head : undefined);
  io.out(
    v.json
      ? JSON.stringify(verdict)
      : verdict.ok
        ? `Audit trail intact: ${verdict.entries} ` +
          `entries.${verdict.head ? ` Head: ${verdict.head} (keep it elsewhere; pass it as --head later to detect removed entries).` : ''}`
        : `AUDIT TRAIL BROKEN at entry ${verdict.brokenAt}: ${verdict.problem}.`,
  );
  return verdict.ok ? 0 : 1;
}

export async function auditExport(onboarding: Onboarding, io: Io): Promise<number> {
  io.out(JSON.stringify((await onboarding.auditEntries(1_000_000)).reverse()));
  return 0;
}
