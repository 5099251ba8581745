/**
 * Client administration that only the NHS login team does (console, and the CLI for SSO pairs): the scopes and
 * vectors approved per client (IM1, client_metadata; Users Endpoint V2), which client pairs may single sign-on,
 * suspension, and a forced key rotation. Every change is audited; the partner is told of those that stop their client working.
 */
import { getClient, setClientSsoTo, updateClient, type ClientRecord, type Db } from '../storage/index.ts';
import { SCOPES } from '../identity/claims.ts';
import { SUPPORTED_VECTORS } from '../identity/vectors.ts';
import { appendAudit } from './audit.ts';
import { OnboardingError } from './errors.ts';
import { notify, type NotifyDeps } from './notify.ts';

async function clientOf(db: Db, env: string, clientId: string): Promise<ClientRecord> {
  const client = await getClient(db, env, clientId);
  if (!client) throw new OnboardingError('not_found', `There is no client "${clientId}" in ${env}`, 'client_id');
  return client;
}

/** Sets the clients `clientId` may single sign-on into (replacing the list); returns the new list. */
export async function setSsoPairs(db: Db, actor: string, env: string, clientId: string, to: string[]): Promise<string[]> {
  const client = await clientOf(db, env, clientId);
  const targets = [...new Set(to.map((t) => t.trim()).filter(Boolean))];
  for (const t of targets) {
    if (t === clientId) throw new OnboardingError('invalid_sso_pair', 'A client cannot single sign-on into itself', 'to');
    if (!(await getClient(db, env, t)))
      throw new OnboardingError('not_found', `There is no client "${t}" in ${env} to single sign-on into`, 'to');
  }
  await setClientSsoTo(db, env, clientId, targets);
  await appendAudit(db, { actor, action: 'client.sso_pairs', subject: `${env}:${clientId}`, details: { from: client.ssoTo, to: targets } });
  return targets;
}

/**
 * The scopes and vectors approved for a client, IM1 (GP system) access, and Users Endpoint V2 (server-to-server
 * look-up of its users). Users Endpoint V2 needs no scope of its own here: what it returns is limited by the
 * client's approved scopes at the endpoint, so approving it alone grants no attribute the client did not have.
 */
/** The ODS codes Provision Account accepts (identity/provision/request.ts): a letter and 5 or 6 digits. */
const PROVISIONING_ODS = /^[A-Z]\d{5,6}$/;

export async function approveClient(
  db: Db,
  actor: string,
  env: string,
  clientId: string,
  a: { scopes: string[]; vtr: string[]; im1: boolean; usersV2: boolean; provisioning?: boolean; provisioningOds?: string[] },
): Promise<void> {
  const client = await clientOf(db, env, clientId);
  const scopes = [...new Set(['openid', ...a.scopes])];
  const unknownScope = scopes.find((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknownScope) throw new OnboardingError('invalid_scope', `"${unknownScope}" is not an NHS login scope`, 'scopes');
  if (scopes.includes('gp_integration_credentials') && !a.im1)
    throw new OnboardingError('invalid_scope', 'gp_integration_credentials needs IM1 access: tick IM1 too', 'scopes');
  if (!a.vtr.length) throw new OnboardingError('invalid_vtr', 'Approve at least one vector of trust', 'vtr');
  const unknownVector = a.vtr.find((v) => !(SUPPORTED_VECTORS as readonly string[]).includes(v));
  if (unknownVector) throw new OnboardingError('invalid_vtr', `"${unknownVector}" is not a vector of trust NHS login supports`, 'vtr');
  // Provision Account's ODS codes are those its requests may name (spec-Provision_Account_v1 §3.3.1 T7, the format the
  // endpoint accepts), kept when the approval is withdrawn so that approving again needs no retyping.
  const ods = a.provisioningOds && [...new Set(a.provisioningOds.map((o) => o.trim().toUpperCase()).filter(Boolean))];
  const badOds = ods?.find((o) => !PROVISIONING_ODS.test(o));
  const odsError = (m: string) => new OnboardingError('invalid_ods_code', m, 'provisioning_ods');
  if (badOds) throw odsError(`"${badOds}" is not an ODS code of a letter and 5 or 6 digits, like A00002`);
  if (a.provisioning && !ods?.length) throw odsError('Enter the ODS codes it may provision for');
  const provisioning = a.provisioning === undefined ? {} : { provisioning: a.provisioning, provisioningOds: ods ?? [] };
  await updateClient(db, env, clientId, { scopes, vtr: [...new Set(a.vtr)], im1: a.im1, usersV2: a.usersV2, ...provisioning });
  await appendAudit(db, {
    actor,
    action: 'client.approvals',
    subject: `${env}:${clientId}`,
    details: {
      from: { scopes: client.scopes, vtr: client.vtr, im1: client.im1, usersV2: client.usersV2,
        ...(a.provisioning === undefined ? {} : { provisioning: client.provisioning, provisioningOds: client.provisioningOds }) },
      to: { scopes, vtr: a.vtr, im1: a.im1, usersV2: a.usersV2, ...provisioning },
    },
  });
}

const STATUS_WORDS = {
  suspended: { subject: 'Your NHS login client is suspended', body: 'Its requests now fail and its tokens no longer work.' },
  active: { subject: 'Your NHS login client is working again', body: 'It can sign people in again.' },
  rotate_key: {
    subject: 'Register a new public key for your NHS login client',
    body: 'The client cannot get tokens until you register a new public key on its page in the portal and sign with the new private key.',
  },
} as const;
/** The same in the team's words (its copy of the email, and the chat). */
const TEAM_STATUS_WORDS = { suspended: 'suspended', active: 'reinstated', rotate_key: 'asked for a new public key' } as const;

/** Suspends or reinstates a client, or asks for a new key; always with a reason, which the partner is told. */
export async function setClientStatus(
  d: NotifyDeps,
  actor: string,
  env: string,
  clientId: string,
  status: string,
  reasonRaw: string,
): Promise<void> {
  if (status !== 'active' && status !== 'suspended' && status !== 'rotate_key')
    throw new OnboardingError('invalid_choice', 'Choose suspend, reinstate or force a key rotation', 'status');
  const reason = reasonRaw.trim();
  if (!reason || reason.length > 2000) throw new OnboardingError('invalid_text', 'Give the reason (the partner will see it)', 'reason');
  const client = await clientOf(d.db, env, clientId);
  await updateClient(d.db, env, clientId, { status });
  await appendAudit(d.db, {
    actor,
    action: `client.${status === 'active' ? 'reinstate' : status === 'suspended' ? 'suspend' : 'force_key_rotation'}`,
    subject: `${env}:${clientId}`,
    details: { from: client.status, reason },
  });
  if (client.organisationId) {
    const org =
      (await d.db.selectFrom('organisation').select('name').where('id', '=', client.organisationId).executeTakeFirst())?.name ??
      client.organisationId;
    const teamWords = `${org}'s client ${client.name} (${env}) ${TEAM_STATUS_WORDS[status]}`;
    await notify(d, {
      organisationId: client.organisationId, to: 'both', subject: STATUS_WORDS[status].subject,
      body: `${client.name} (${env}, ${clientId}): ${STATUS_WORDS[status].body}\n\nReason: ${reason}\n`,
      team: {
        subject: teamWords,
        body: `${teamWords} by ${actor}.\n\nReason: ${reason}\n\nIn the console: ${d.publicUrl}/console/clients/${env}/${clientId}\n`,
      },
    });
  }
}
