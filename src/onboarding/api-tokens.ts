/** API tokens: created and revoked by members of an organisation, shown once, stored as a hash. */
import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/index.ts';
import { hashSecret, newSecret } from '../security/tokens.ts';
import { OnboardingError } from './errors.ts';
import { organisationsOf, type Organisation } from './organisations.ts';

export const TOKEN_PREFIX = 'nhslt_';
/** The creator of the tokens the operator makes (`toolkit organisations create`): no member, so they act as a developer. */
export const OPERATOR = 'operator';

export async function createApiToken(
  db: Db,
  organisationId: string,
  userId: string,
  nameRaw: string,
): Promise<{ id: string; token: string }> {
  const name = nameRaw.trim();
  if (!name || name.length > 80)
    throw new OnboardingError('invalid_name', 'Give the token a name of up to 80 characters, like "CI pipeline"', 'name');
  const token = `${TOKEN_PREFIX}${newSecret()}`;
  const id = randomUUID();
  await db
    .insertInto('api_token')
    .values({
      id,
      organisation_id: organisationId,
      name,
      token_hash: hashSecret(token),
      created_by: userId,
      created_at: Date.now(),
      last_used_at: null,
      revoked_at: null,
    })
    .execute();
  return { id, token };
}

export function listApiTokens(db: Db, organisationId: string) {
  return db
    .selectFrom('api_token')
    .select(['id', 'name', 'created_at', 'last_used_at', 'revoked_at'])
    .where('organisation_id', '=', organisationId)
    .orderBy('created_at', 'desc')
    .execute();
}

export async function revokeApiToken(db: Db, organisationId: string, id: string): Promise<void> {
  await db
    .updateTable('api_token')
    .set({ revoked_at: Date.now() })
    .where('id', '=', id)
    .where('organisation_id', '=', organisationId)
    .where('revoked_at', 'is', null)
    .execute();
}

/**
 * Who a bearer token acts for: its organisation, with the rights of the member who created it as they are
 * now (a developer's for the operator's). Unknown or revoked tokens, and tokens of people no longer members, act for no one.
 */
export async function actorForToken(db: Db, token: string): Promise<{ organisation: Organisation; userId: string } | undefined> {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const hash = hashSecret(token);
  const row = await db
    .selectFrom('api_token')
    .select(['organisation_id', 'created_by', 'revoked_at', 'last_used_at'])
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  if (!row || row.revoked_at !== null) return undefined;
  const organisation = row.created_by === OPERATOR
    ? await db.selectFrom('organisation').selectAll().where('id', '=', row.organisation_id).executeTakeFirst()
      .then((o) => o && { ...o, role: 'developer' as const })
    : (await organisationsOf(db, row.created_by)).find((o) => o.id === row.organisation_id);
  if (!organisation) return undefined;
  const now = Date.now();
  if (!row.last_used_at || now - row.last_used_at > 60_000)
    await db.updateTable('api_token').set({ last_used_at: now }).where('token_hash', '=', hash).execute();
  return { organisation, userId: row.created_by };
}
