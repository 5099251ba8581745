/** Partner organisations and their members. Every tenant-scoped read goes through `requireMembership`. */
import { randomUUID } from 'node:crypto';
import type { Db, MembershipTable, OrganisationTable } from '../storage/index.ts';
import { OnboardingError } from './errors.ts';

export type Organisation = OrganisationTable & { role: MembershipTable['role'] };

/** ODS codes: 3 to 10 letters and digits (e.g. RXX, A12345, 8HK45). */
const ODS_CODE = /^[A-Z0-9]{3,10}$/;

function checkDetails(input: { name: string; odsCode?: string | undefined }): { name: string; ods: string | null } {
  const name = input.name.trim();
  if (!name || name.length > 160) throw new OnboardingError('invalid_name', 'Enter your organisation\'s name', 'name');
  const ods = input.odsCode?.trim().toUpperCase() || null;
  if (ods && !ODS_CODE.test(ods))
    throw new OnboardingError(
      'invalid_ods_code',
      'Enter an ODS code of 3 to 10 letters and numbers, like 8HK45, or leave it empty',
      'ods_code',
    );
  return { name, ods };
}

/** Partner admins change the organisation's name and ODS code (needed before integration). */
export async function updateOrganisation(
  db: Db,
  userId: string,
  organisationId: string,
  input: { name: string; odsCode?: string | undefined },
): Promise<void> {
  const org = await requireMembership(db, userId, organisationId);
  if (org.role !== 'partner_admin') throw new OnboardingError('not_a_member', 'Only partner admins can change the organisation\'s details');
  const { name, ods } = checkDetails(input);
  await db.updateTable('organisation').set({ name, ods_code: ods }).where('id', '=', organisationId).execute();
}

/** An organisation with no member yet (its first admin is invited: members.ts createInvitedOrganisation). */
export async function insertOrganisation(db: Db, input: { name: string; odsCode?: string | undefined }): Promise<OrganisationTable> {
  const { name, ods } = checkDetails(input);
  const org: OrganisationTable = { id: randomUUID(), name, ods_code: ods, created_at: Date.now(), delivery_manager: null };
  await db.insertInto('organisation').values(org).execute();
  return org;
}

export async function createOrganisation(
  db: Db,
  userId: string,
  input: { name: string; odsCode?: string | undefined },
): Promise<OrganisationTable> {
  return db.transaction().execute(async (tx) => {
    const org = await insertOrganisation(tx, input);
    await tx
      .insertInto('membership')
      .values({ organisation_id: org.id, user_id: userId, role: 'partner_admin', created_at: org.created_at })
      .execute();
    return org;
  });
}

export function organisationsOf(db: Db, userId: string): Promise<Organisation[]> {
  return db
    .selectFrom('membership')
    .innerJoin('organisation', 'organisation.id', 'membership.organisation_id')
    .select([
      'organisation.id',
      'organisation.name',
      'organisation.ods_code',
      'organisation.created_at',
      'organisation.delivery_manager',
      'membership.role',
    ])
    .where('membership.user_id', '=', userId)
    .orderBy('organisation.created_at')
    .execute();
}

/** The organisation, if the user is a member; otherwise "not found", so ids of other tenants reveal nothing. */
export async function requireMembership(db: Db, userId: string, organisationId: string): Promise<Organisation> {
  const org = (await organisationsOf(db, userId)).find((o) => o.id === organisationId);
  if (!org) throw new OnboardingError('not_found', 'There is no such organisation in your account');
  return org;
}

/**
 * The organisation named by its id or by its exact name (for the operator's CLI, which has no signed-in
 * partner); a name two organisations share is refused rather than guessed.
 */
export async function findOrganisation(db: Db, idOrName: string): Promise<OrganisationTable> {
  const byId = await db.selectFrom('organisation').selectAll().where('id', '=', idOrName).executeTakeFirst();
  if (byId) return byId;
  const named = await db.selectFrom('organisation').selectAll().where('name', '=', idOrName.trim()).limit(2).execute();
  if (named.length > 1) {
    throw new OnboardingError(
      'not_found',
      `Two or more organisations are called "${idOrName}": give the organisation's id`,
      'organisation',
    );
  }
  if (!named[0]) throw new OnboardingError('not_found', `There is no organisation with the id or name "${idOrName}"`, 'organisation');
  return named[0];
}
