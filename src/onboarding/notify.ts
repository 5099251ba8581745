/**
 * Notifications on gate events and comments: email to the partner's members and to the team (the partner's
 * delivery manager, or every team member when none is assigned), and a Slack-compatible JSON POST to the chat
 * webhook when one is configured. Both are queued in the database and sent by the delivery worker (deliveries.ts),
 * retried with growing gaps; one that never succeeds stays visible in the console as failed, never silently dropped.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/index.ts';
import type { Mailer } from './mailer.ts';
import { membersOf } from './members.ts';

export interface NotifyDeps {
  db: Db;
  mailer: Mailer;
  publicUrl: string;
  chatWebhookUrl?: string | undefined;
}

/** What notifications need, from the dependencies createOnboarding is given (use-cases.ts) and the tests' app. */
export function notifyDeps(d: { db: Db; mailer: Mailer; config: { publicUrl: string; chatWebhookUrl?: string | undefined } }): NotifyDeps {
  return { db: d.db, mailer: d.mailer, publicUrl: d.config.publicUrl, chatWebhookUrl: d.config.chatWebhookUrl };
}

/**
 * Who is told: the partner, the team, or both. Told both, each side reads words written for it: the partner's copy
 * speaks to the partner ("Your application has been approved"), the team's (`team`, also the chat's) names the partner.
 */
export type Notice = { organisationId: string; subject: string; body: string }
  & ({ to: 'partner' | 'team' } | { to: 'both'; team: { subject: string; body: string } });

async function teamAddresses(db: Db, organisationId: string): Promise<string[]> {
  const org = await db.selectFrom('organisation').select('delivery_manager').where('id', '=', organisationId).executeTakeFirst();
  const q = db.selectFrom('team_user').select('email').where('password_hash', 'is not', null);
  const rows = org?.delivery_manager ? await q.where('id', '=', org.delivery_manager).execute() : await q.execute();
  return rows.map((r) => r.email);
}

export async function notify(d: NotifyDeps, n: Notice): Promise<void> {
  const partner = n.to === 'team' ? [] : (await membersOf(d.db, n.organisationId)).map((m) => m.email);
  const team = n.to === 'partner' ? [] : await teamAddresses(d.db, n.organisationId);
  const teamCopy = n.to === 'both' ? n.team : n;
  for (const to of new Set(partner)) await d.mailer.send({ to, subject: n.subject, body: n.body });
  // Someone on both sides (a team member who is also a partner's member) gets the partner's copy only.
  for (const to of new Set(team.filter((t) => !partner.includes(t))))
    await d.mailer.send({ to, subject: teamCopy.subject, body: teamCopy.body });
  if (d.chatWebhookUrl) {
    const org = await d.db.selectFrom('organisation').select('name').where('id', '=', n.organisationId).executeTakeFirst();
    const id = randomUUID();
    // The id is the receiver's idempotency key: a delivery is retried after a failure, and (rarely) sent twice when
    // its sender dies between posting and recording it.
    const payload = {
      text: `*${teamCopy.subject}* ` +
        `(${org?.name ?? n.organisationId})\n${teamCopy.body}\n${d.publicUrl}/console/partners/${n.organisationId}`,
      idempotency_key: id,
    };
    const now = Date.now();
    await d.db
      .insertInto('notification')
      .values({
        id,
        channel: 'webhook',
        payload: JSON.stringify(payload),
        status: 'pending',
        attempts: 0,
        last_error: null,
        next_attempt_at: now,
        created_at: now,
        sent_at: null,
        claim: null,
        claimed_until: null,
      })
      .execute();
  }
  d.mailer.wake();
}

export function notifications(db: Db, limit = 200) {
  return db.selectFrom('notification').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
}
