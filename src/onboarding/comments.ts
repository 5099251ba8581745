/** The conversation between a partner and the NHS login team: both sides see it; each message tells the other side. */
import { randomUUID } from 'node:crypto';
import { countRequest, LOCKOUT_MS, type CommentTable, type Db } from '../storage/index.ts';
import { OnboardingError } from './errors.ts';
import { notify, type NotifyDeps } from './notify.ts';

export const MAX_COMMENT = 4000;
/** Messages an organisation can send in 15 minutes: each one emails the team and posts to its chat. */
export const MAX_PARTNER_COMMENTS = 30;

export async function addComment(
  d: NotifyDeps,
  organisationId: string,
  side: CommentTable['author_side'],
  author: string,
  bodyRaw: string,
): Promise<void> {
  const body = bodyRaw.trim();
  if (!body) throw new OnboardingError('invalid_name', 'Write your message', 'body');
  if (body.length > MAX_COMMENT) throw new OnboardingError('invalid_name', `Keep your message under ${MAX_COMMENT} characters`, 'body');
  if (side === 'partner' && !(await countRequest(d.db, `comments:${organisationId}`, MAX_PARTNER_COMMENTS))) {
    throw new OnboardingError(
      'rate_limited',
      `Your organisation has sent ${MAX_PARTNER_COMMENTS} messages ` +
        `in ${LOCKOUT_MS / 60000} minutes: wait a few minutes before sending another`,
      'body',
    );
  }
  await d.db
    .insertInto('comment')
    .values({ id: randomUUID(), organisation_id: organisationId, author_side: side, author, body, created_at: Date.now() })
    .execute();
  const where =
    side === 'partner'
      ? `${d.publicUrl}/console/partners/${organisationId}#comments`
      : `${d.publicUrl}/portal/organisations/${organisationId}/messages`;
  await notify(d, {
    organisationId, to: side === 'partner' ? 'team' : 'partner',
    subject: side === 'partner' ? `New message from a partner (${author})` : 'New message from the NHS login team',
    body: `${author} wrote:\n\n${body}\n\nReply here: ${where}\n`,
  });
}

export function comments(db: Db, organisationId: string) {
  return db.selectFrom('comment').selectAll().where('organisation_id', '=', organisationId).orderBy('created_at').execute();
}
