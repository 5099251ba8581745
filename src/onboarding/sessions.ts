/**
 * Browser sessions for the portal (and later the console): a random cookie value, stored only as a hash,
 * with a CSRF token per session; idle and absolute timeouts.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Db, WebSessionTable } from '../storage/index.ts';
import { hashSecret, newSecret } from '../security/tokens.ts';

export const IDLE_MS = 2 * 60 * 60 * 1000;
export const ABSOLUTE_MS = 12 * 60 * 60 * 1000;
/** The console guards every partner's data: shorter idle and absolute timeouts. */
const TIMEOUTS: Record<WebSessionTable['kind'], { idle: number; absolute: number }> = {
  portal: { idle: IDLE_MS, absolute: ABSOLUTE_MS },
  console: { idle: 15 * 60 * 1000, absolute: 8 * 60 * 60 * 1000 },
};

export interface WebSession {
  userId: string;
  csrf: string;
}

export async function startSession(
  db: Db,
  kind: WebSessionTable['kind'],
  userId: string,
): Promise<{ cookie: string; session: WebSession }> {
  const cookie = newSecret();
  const now = Date.now();
  const csrf = newSecret(24);
  await db
    .insertInto('web_session')
    .values({ id_hash: hashSecret(cookie), kind, user_id: userId, csrf, created_at: now, last_seen_at: now })
    .execute();
  return { cookie, session: { userId, csrf } };
}

export async function findSession(db: Db, kind: WebSessionTable['kind'], cookie: string | undefined): Promise<WebSession | undefined> {
  if (!cookie) return undefined;
  const idHash = hashSecret(cookie);
  const row = await db.selectFrom('web_session').selectAll().where('id_hash', '=', idHash).where('kind', '=', kind).executeTakeFirst();
  if (!row) return undefined;
  const now = Date.now();
  const limits = TIMEOUTS[kind];
  if (now - row.last_seen_at > limits.idle || now - row.created_at > limits.absolute) {
    await db.deleteFrom('web_session').where('id_hash', '=', idHash).execute();
    return undefined;
  }
  if (now - row.last_seen_at > 60_000)
    await db.updateTable('web_session').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
  return { userId: row.user_id, csrf: row.csrf };
}

/**
 * Deletes sessions past their idle or absolute timeout (run periodically). A session is otherwise deleted only when
 * it is used after it expired or signed out of, so every sign-in that was simply left would stay for good.
 */
export async function purgeSessions(db: Db, now = Date.now()): Promise<void> {
  for (const [kind, limits] of Object.entries(TIMEOUTS) as [WebSessionTable['kind'], (typeof TIMEOUTS)[WebSessionTable['kind']]][]) {
    await db.deleteFrom('web_session').where('kind', '=', kind)
      .where((eb) => eb.or([eb('last_seen_at', '<', now - limits.idle), eb('created_at', '<', now - limits.absolute)])).execute();
  }
}

export async function endSession(db: Db, cookie: string | undefined): Promise<void> {
  if (cookie) await db.deleteFrom('web_session').where('id_hash', '=', hashSecret(cookie)).execute();
}

export function csrfMatches(session: WebSession, sent: unknown): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}
