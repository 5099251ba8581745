/** The operator's commands: `toolkit team create-admin`, `toolkit organisations create` and `toolkit audit verify|export`. */
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

/** A partner organisation made by the operator: its admin's invitation link, and an API token (shown once) with --token-name. */
export async function organisationsCreate(onboarding: Onboarding, config: Config, v: Values, io: Io): Promise<number> {
  if (typeof v.name !== 'string') throw new CliError('--name is required');
  if (typeof v.email !== 'string') throw new CliError('--email is required: the partner admin, invited to the organisation');
  const { organisation, invitationSecret, token } = await onboarding.createInvitedOrganisation({
    name: v.name, odsCode: typeof v.ods === 'string' ? v.ods : undefined, adminEmail: v.email,
    tokenName: typeof v['token-name'] === 'string' ? v['token-name'] : undefined,
  });
  const link = `${config.publicUrl}/portal/invitations/${invitationSecret}`;
  if (v.json) {
    io.out(JSON.stringify({ organisation_id: organisation.id, name: organisation.name, invitation_link: link, api_token: token?.token }));
    return 0;
  }
  io.out(`Organisation ${organisation.name} created: ${organisation.id}. Send its partner admin this invitation link (valid 7 days; `
    + `they sign up or sign in with ${String(v.email)}):\n${link}`
    + (token ? `\nAPI token (shown once; keep it as TOOLKIT_TOKEN in your CI's secrets):\n${token.token}` : ''));
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
