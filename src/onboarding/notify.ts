/**
 * Notifications on gate events and comments: email to the partner's members and to the team (the partner's
 * delivery manager, or every team member when none is assigned), and a Slack-compatible JSON POST to the chat
 * webhook when one is configured. Webhook deliveries are recorded and retried with growing gaps; one that never
 * succeeds stays visible in the console as failed, never silently dropped.
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

/** What notifications need, from the dependencies every face (portal, console, API, server) already has. */
export function notifyDeps(d: { db: Db; mailer: Mailer; config: { publicUrl: string; chatWebhookUrl?: string | undefined } }): NotifyDeps {
  return { db: d.db, mailer: d.mailer, publicUrl: d.config.publicUrl, chatWebhookUrl: d.config.chatWebhookUrl };
}

export interface Notice {
  organisationId: string;
  subject: string;
  body: string;
  /** Who is told: the partner, the team, or both. */
  to: 'partner' | 'team' | 'both';
}

export const WEBHOOK_ATTEMPTS = 5;
const WEBHOOK_BASE_MS = 15_000;

async function teamAddresses(db: Db, organisationId: string): Promise<string[]> {
  const org = await db.selectFrom('organisation').select('delivery_manager').where('id', '=', organisationId).executeTakeFirst();
  const q = db.selectFrom('team_user').select('email').where('password_hash', 'is not', null);
  const rows = org?.delivery_manager ? await q.where('id', '=', org.delivery_manager).execute() : await q.execute();
  return rows.map((r) => r.email);
}

export async function notify(d: NotifyDeps, n: Notice): Promise<void> {
  const partner = n.to === 'team' ? [] : (await membersOf(d.db, n.organisationId)).map((m) => m.email);
  const team = n.to === 'partner' ? [] : await teamAddresses(d.db, n.organisationId);
  for (const to of new Set([...partner, ...team])) await d.mailer.send({ to, subject: n.subject, body: n.body });
  if (d.chatWebhookUrl) {
    const org = await d.db.selectFrom('organisation').select('name').where('id', '=', n.organisationId).executeTakeFirst();
    const payload = { text: `*${n.subject}* (${org?.name ?? n.organisationId})\n${n.body}\n${d.publicUrl}/console/partners/${n.organisationId}` };
    const now = Date.now();
    await d.db.insertInto('notification').values({ id: randomUUID(), channel: 'webhook', payload: JSON.stringify(payload), status: 'pending', attempts: 0, last_error: null, next_attempt_at: now, created_at: now, sent_at: null }).execute();
    await deliverWebhooks(d, now);
  }
}

/** Posts every due webhook delivery once; failures wait 15 s, 30 s, 60 s... and stop after five attempts. */
export async function deliverWebhooks(d: NotifyDeps, now = Date.now(), post: typeof fetch = fetch): Promise<void> {
  if (!d.chatWebhookUrl) return;
  const due = await d.db.selectFrom('notification').selectAll().where('status', '=', 'pending').where('next_attempt_at', '<=', now).execute();
  for (const n of due) {
    const attempts = n.attempts + 1;
    let error: string | undefined;
    try {
      const res = await post(d.chatWebhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: n.payload, signal: AbortSignal.timeout(5000) });
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (e) {
      error = (e as Error).message.slice(0, 300);
    }
    await d.db.updateTable('notification').set(error === undefined
      ? { status: 'sent', attempts, sent_at: Date.now(), last_error: null }
      : { status: attempts >= WEBHOOK_ATTEMPTS ? 'failed' : 'pending', attempts, last_error: error, next_attempt_at: now + WEBHOOK_BASE_MS * 2 ** (attempts - 1) }).where('id', '=', n.id).execute();
  }
}

export function notifications(db: Db, limit = 200) {
  return db.selectFrom('notification').selectAll().orderBy('created_at', 'desc').limit(limit).execute();
}
