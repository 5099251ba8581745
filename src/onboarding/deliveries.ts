/**
 * The delivery worker: sends the mail outbox through SMTP and posts chat webhooks, on every instance, each message
 * claimed in the database first (storage/deliveries.ts) so that one instance sends it. It runs on a timer and when a
 * request has queued something (Mailer.wake), never inside that request: a slow SMTP server or chat receiver delays
 * the message, not the partner. Failures are retried with growing gaps, then kept as failed for the team to see.
 */
import nodemailer from 'nodemailer';
import { claimDue, settleClaim, type Db } from '../storage/index.ts';
import { createMailer, type Mailer } from './mailer.ts';

/** Attempts per message before it is left as failed (still in the outbox, with its error, for the team). */
export const MAIL_ATTEMPTS = 5;
export const WEBHOOK_ATTEMPTS = 5;
const MAIL_RETRY_BASE_MS = 30_000;
const WEBHOOK_RETRY_BASE_MS = 15_000;
const WEBHOOK_TIMEOUT_MS = 5000;
/** Longer than any one send can take (SMTP's timeouts below, the webhook's 5 s), so a live claim never lapses. */
const LEASE_MS = 2 * 60 * 1000;
/** A send that has not finished by then is counted as failed (and retried), well before its lease lapses. */
const SMTP_DEADLINE_MS = 60_000;

export interface Deliveries {
  mailer: Mailer;
  /**
   * One pass: sends everything due that no other instance holds; resolves with how many were delivered. `now` (tests)
   * sets the pass's clock, which then advances with real time.
   */
  run(now?: number): Promise<number>;
  /** Asks for a pass unless one is already waiting to start (the timer, a request that queued a message). */
  wake(): void;
  /** Resolves when the passes asked for so far have finished (shutdown, tests). */
  idle(): Promise<void>;
}

export interface DeliveryOptions {
  smtpUrl: string | undefined;
  from: string;
  chatWebhookUrl: string | undefined;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** The local mailbox's address, named in the log line of each message not sent (Config.localMailbox). */
  mailboxUrl?: string | undefined;
  post?: typeof fetch;
}

/** `p`, or a rejection once `ms` have passed (p's own later outcome is then ignored). */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms / 1000} s`)), ms)));
  p.catch(() => undefined);
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 500);

export function createDeliveries(db: Db, o: DeliveryOptions): Deliveries {
  const transport = o.smtpUrl
    ? nodemailer.createTransport({ url: o.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as never)
    : undefined;
  const post = o.post ?? fetch;

  async function sendMail(clock: () => number): Promise<boolean | undefined> {
    const now = clock();
    const claimed = transport ? await claimDue(db, 'outbox', now, LEASE_MS) : undefined;
    if (!claimed) return undefined;
    const { row: m, claim } = claimed;
    try {
      // The outbox id is the Message-ID: a message sent twice (its sender died before recording it) is one message.
      // SMTP's timeouts are idle timeouts: a server trickling bytes could hold a send past the lease. Give up first.
      await withDeadline(
        transport!.sendMail({ from: o.from, to: m.to_address, subject: m.subject, text: m.body, messageId: `<${m.id}@nhs-login-toolkit>` }),
        SMTP_DEADLINE_MS,
      );
      await settleClaim(db, 'outbox', m.id, claim, { sent_at: clock(), error: null, next_attempt_at: null });
      return true;
    } catch (e) {
      const next = m.attempts >= MAIL_ATTEMPTS ? null : clock() + MAIL_RETRY_BASE_MS * 2 ** (m.attempts - 1);
      await settleClaim(db, 'outbox', m.id, claim, { error: errorText(e), next_attempt_at: next });
      return false;
    }
  }

  async function postWebhook(clock: () => number): Promise<boolean | undefined> {
    const now = clock();
    const claimed = o.chatWebhookUrl ? await claimDue(db, 'notification', now, LEASE_MS) : undefined;
    if (!claimed) return undefined;
    const { row: n, claim } = claimed;
    let error: string | undefined;
    try {
      // The payload carries the notification's id as `idempotency_key` (notify.ts); the header says the same.
      const res = await post(o.chatWebhookUrl!, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': n.id },
        body: n.payload,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (e) {
      error = errorText(e).slice(0, 300);
    }
    await settleClaim(
      db,
      'notification',
      n.id,
      claim,
      error === undefined
        ? { status: 'sent', sent_at: clock(), last_error: null }
        : {
            status: n.attempts >= WEBHOOK_ATTEMPTS ? 'failed' : 'pending',
            last_error: error,
            next_attempt_at: clock() + WEBHOOK_RETRY_BASE_MS * 2 ** (n.attempts - 1),
          },
    );
    return error === undefined;
  }

  /**
   * Claims and sends one message at a time until none is due, so that instances share a backlog message by message.
   * Each claim reads the clock afresh: a lease taken at the pass's start time would already have lapsed, for the
   * other instances, once the pass had run longer than the lease, and they would send the same message again.
   */
  async function drain(send: (clock: () => number) => Promise<boolean | undefined>, clock: () => number): Promise<number> {
    let delivered = 0;
    for (let r = await send(clock); r !== undefined; r = await send(clock)) if (r) delivered++;
    return delivered;
  }

  let chain: Promise<unknown> = Promise.resolve();
  let queued = false;
  const pass = async (now: number) => {
    const offset = now - Date.now();
    const clock = () => Date.now() + offset;
    return (await Promise.all([drain(sendMail, clock), drain(postWebhook, clock)])).reduce((a, b) => a + b, 0);
  };
  const run = (now?: number): Promise<number> => {
    const p = chain.then(() => pass(now ?? Date.now()));
    chain = p.catch(() => undefined);
    return p;
  };
  const wake = () => {
    if (queued) return; // a pass that has not started yet will see this message too
    queued = true;
    chain = chain.then(() => {
      queued = false;
      return pass(Date.now());
    }).catch((err: unknown) => o.log.warn({ err }, 'delivering mail and chat notifications failed; retried on the next pass'));
  };
  return {
    mailer: createMailer(db, { sending: Boolean(transport), wake, log: o.log, mailboxUrl: o.mailboxUrl }),
    run,
    wake,
    idle: () => chain.then(() => undefined),
  };
}
