/**
 * Members of a partner organisation and invitations. Partner admins invite (by an emailed, single-use link
 * for that email address) and remove members; an organisation always keeps at least one admin.
 */
import { randomUUID } from 'node:crypto';
import { countRequest, LOCKOUT_MS, type Db, type MembershipTable, type OrganisationTable } from '../storage/index.ts';
import { hashSecret, newSecret } from '../security/tokens.ts';
import { normaliseEmail } from './accounts.ts';
import { OnboardingError } from './errors.ts';
import { appendAudit } from './audit.ts';
import type { Mailer } from './mailer.ts';
import { insertOrganisation, type Organisation } from './organisations.ts';
import { createApiToken, OPERATOR } from './api-tokens.ts';
import { isEmailAddress } from '../security/email.ts';

const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;
export const MAX_INVITATIONS = 20;
export const ROLES = { partner_admin: 'Partner admin', developer: 'Developer' } as const;

function requireAdmin(org: Organisation) {
  if (org.role !== 'partner_admin') throw new OnboardingError('not_a_member', 'Only a partner admin can manage members');
}

export function membersOf(db: Db, organisationId: string) {
  return db
    .selectFrom('membership')
    .innerJoin('partner_user', 'partner_user.id', 'membership.user_id')
    .select(['partner_user.id', 'partner_user.name', 'partner_user.email', 'membership.role'])
    .where('membership.organisation_id', '=', organisationId)
    .orderBy('partner_user.name')
    .execute();
}

export function pendingInvitations(db: Db, organisationId: string) {
  return db
    .selectFrom('invitation')
    .select(['id', 'email', 'role', 'expires_at'])
    .where('organisation_id', '=', organisationId)
    .where('accepted_at', 'is', null)
    .where('expires_at', '>', Date.now())
    .execute();
}

export async function invite(
  d: { db: Db; mailer: Mailer; publicUrl: string },
  org: Organisation,
  inviterId: string,
  emailRaw: string,
  role: string,
): Promise<void> {
  requireAdmin(org);
  const email = normaliseEmail(emailRaw);
  if (role !== 'partner_admin' && role !== 'developer') throw new OnboardingError('invalid_role', 'Choose a role', 'role');
  const already = await d.db
    .selectFrom('membership')
    .innerJoin('partner_user', 'partner_user.id', 'membership.user_id')
    .select('partner_user.id')
    .where('membership.organisation_id', '=', org.id)
    .where('partner_user.email', '=', email)
    .executeTakeFirst();
  if (already) throw new OnboardingError('email_taken', `${email} is already a member`, 'email');
  // Each invitation emails someone outside the toolkit: an organisation sends at most this many per 15 minutes.
  if (!(await countRequest(d.db, `invitations:${org.id}`, MAX_INVITATIONS))) {
    throw new OnboardingError(
      'rate_limited',
      `Your organisation has sent ${MAX_INVITATIONS} invitations ` +
        `in ${LOCKOUT_MS / 60000} minutes: wait a few minutes before sending another`,
      'email',
    );
  }
  const secret = await recordInvitation(d.db, org.id, email, role, inviterId);
  await d.mailer.send({
    to: email,
    subject: `You are invited to ${org.name} on the NHS login integration toolkit`,
    body: `You have been invited to join ${org.name} as a ${ROLES[role].toLowerCase()}.\n\nSign in or create an account ` +
      `with this email address, then open this link within 7 days:\n\n${d.publicUrl}/portal/invitations/${secret}\n`,
  });
}

/** A pending invitation: its secret, for the link, is returned once and stored only as a hash. */
async function recordInvitation(db: Db, organisationId: string, email: string, role: keyof typeof ROLES, by: string): Promise<string> {
  const secret = newSecret();
  const now = Date.now();
  await db
    .insertInto('invitation')
    .values({
      id: randomUUID(),
      organisation_id: organisationId,
      email,
      role,
      token_hash: hashSecret(secret),
      invited_by: by,
      created_at: now,
      expires_at: now + INVITATION_TTL_MS,
      accepted_at: null,
    })
    .execute();
  return secret;
}

/**
 * The operator's organisation for a partner (`toolkit organisations create`, e.g. for a CI's own toolkit): no member yet, its
 * first partner admin invited by a link the operator passes on (the CLI sends no mail), and an API token when asked for one.
 */
export async function createInvitedOrganisation(
  db: Db,
  input: { name: string; odsCode?: string | undefined; adminEmail: string; tokenName?: string | undefined },
): Promise<{ organisation: OrganisationTable; invitationSecret: string; token?: { id: string; token: string } }> {
  const email = normaliseEmail(input.adminEmail);
  if (!isEmailAddress(email)) throw new OnboardingError('invalid_email', 'Enter the partner admin\'s email address', 'email');
  // All or nothing: an organisation nobody can join (its invitation lost) would be one the operator cannot hand over.
  const { organisation, invitationSecret, token } = await db.transaction().execute(async (tx) => {
    const organisation = await insertOrganisation(tx, input);
    const invitationSecret = await recordInvitation(tx, organisation.id, email, 'partner_admin', OPERATOR);
    const token = input.tokenName === undefined ? undefined : await createApiToken(tx, organisation.id, OPERATOR, input.tokenName);
    return { organisation, invitationSecret, token };
  });
  await appendAudit(db, {
    actor: OPERATOR, action: 'operator.create_organisation', subject: organisation.id,
    details: { name: organisation.name, invited: email, ...(token ? { api_token: input.tokenName } : {}) },
  });
  return { organisation, invitationSecret, ...(token ? { token } : {}) };
}

/** Accepts an invitation for the signed-in user, whose email must be the invited one. */
export async function acceptInvitation(db: Db, user: { id: string; email: string }, secret: string): Promise<string> {
  const inv = await db.selectFrom('invitation').selectAll().where('token_hash', '=', hashSecret(secret)).executeTakeFirst();
  if (!inv || inv.accepted_at !== null || inv.expires_at <= Date.now())
    throw new OnboardingError('invalid_link', 'This invitation has expired or has already been used. Ask for a new one.');
  if (inv.email !== user.email)
    throw new OnboardingError('invalid_link', `This invitation is for ${inv.email}: sign in with that address to accept it.`);
  await db.transaction().execute(async (tx) => {
    await tx.updateTable('invitation').set({ accepted_at: Date.now() }).where('id', '=', inv.id).execute();
    await tx
      .insertInto('membership')
      .values({ organisation_id: inv.organisation_id, user_id: user.id, role: inv.role, created_at: Date.now() })
      .onConflict((oc) => oc.columns(['organisation_id', 'user_id']).doNothing())
      .execute();
  });
  return inv.organisation_id;
}

export async function removeMember(db: Db, org: Organisation, userId: string, by = 'partner admin'): Promise<void> {
  requireAdmin(org);
  const members = await membersOf(db, org.id);
  const target = members.find((m) => m.id === userId);
  if (!target) throw new OnboardingError('not_found', 'There is no such member');
  if (target.role === 'partner_admin' && members.filter((m) => m.role === 'partner_admin').length === 1) {
    throw new OnboardingError('last_admin', 'An organisation needs at least one partner admin: make someone else an admin first');
  }
  await db.deleteFrom('membership').where('organisation_id', '=', org.id).where('user_id', '=', userId).execute();
  await appendAudit(db, { actor: by, action: 'partner.remove_member', subject: org.id, details: { member: target.email } });
}

/** Makes a member an admin or a developer; the organisation keeps at least one admin. */
export async function changeRole(db: Db, org: Organisation, userId: string, role: string, by = 'partner admin'): Promise<void> {
  requireAdmin(org);
  if (role !== 'partner_admin' && role !== 'developer') throw new OnboardingError('invalid_role', 'Choose a role', 'role');
  const members = await membersOf(db, org.id);
  const target = members.find((m) => m.id === userId);
  if (!target) throw new OnboardingError('not_found', 'There is no such member');
  if (target.role === 'partner_admin' && role !== 'partner_admin' && members.filter((m) => m.role === 'partner_admin').length === 1) {
    throw new OnboardingError('last_admin', 'An organisation needs at least one partner admin: make someone else an admin first');
  }
  await db.updateTable('membership').set({ role }).where('organisation_id', '=', org.id).where('user_id', '=', userId).execute();
  await appendAudit(db, {
    actor: by,
    action: 'partner.change_role',
    subject: org.id,
    details: { member: target.email, from: target.role, to: role },
  });
}

/** Withdraws a pending invitation: its link stops working. */
export async function revokeInvitation(db: Db, org: Organisation, invitationId: string): Promise<void> {
  requireAdmin(org);
  const res = await db
    .deleteFrom('invitation')
    .where('id', '=', invitationId)
    .where('organisation_id', '=', org.id)
    .where('accepted_at', 'is', null)
    .executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) throw new OnboardingError('not_found', 'There is no such pending invitation');
}

export type Role = MembershipTable['role'];
