/**
 * The delivery worker with several instances on one PostgreSQL: each message is claimed by one instance before it is
 * sent (issue 12: with two instances, 5 of 20 chat messages arrived twice), retries count every attempt, and nothing
 * is lost. Two instances in one process share nothing but the database, as two processes would.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { SMTPServer } from 'smtp-server';
import { bootTestApp, freshDatabaseUrl, openTestDatabase, type TestApp } from '../test-support/harness.ts';
import { createDeliveries } from './deliveries.ts';
import { notify } from './notify.ts';
import { createOrganisation } from './organisations.ts';

let hook: http.Server;
let hookUrl: string;
const tries = new Map<string, number>();
const delivered: string[] = [];

before(async () => {
  // Fails each message's first two posts, then takes it (a receiver having a bad minute), slowly.
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      const key = (JSON.parse(body) as { idempotency_key: string }).idempotency_key;
      const n = (tries.get(key) ?? 0) + 1;
      tries.set(key, n);
      setTimeout(() => {
        if (n > 2) delivered.push(key);
        res.statusCode = n > 2 ? 200 : 503;
        res.end();
      }, 5);
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => hook.once('listening', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`;
});
after(() => hook.close());

async function twoInstances(env: Record<string, string>): Promise<{ apps: TestApp[]; stop(): Promise<void> }> {
  const fresh = await freshDatabaseUrl('postgres');
  const apps = [await bootTestApp({ DATABASE_URL: fresh.url, ...env }), await bootTestApp({ DATABASE_URL: fresh.url, ...env })];
  return { apps, stop: async () => { await Promise.all(apps.map((a) => a.stop())); await fresh.drop(); } };
}

test('two instances deliver 50 chat messages through a receiver that fails twice each: every one once, none lost', async () => {
  const { apps, stop } = await twoInstances({ CHAT_WEBHOOK_URL: hookUrl });
  try {
    const [a, b] = apps as [TestApp, TestApp];
    const org = await createOrganisation(a.database.db, 'owner', { name: 'Chatty Health', odsCode: 'C1H2' });
    // Messages are sent through both instances; each wakes its own worker, which starts posting at once.
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        notify(
          { db: (i % 2 ? a : b).database.db, mailer: (i % 2 ? a : b).mailer, publicUrl: 'http://localhost:3000', chatWebhookUrl: hookUrl },
          { organisationId: org.id, to: 'team', subject: `Message ${i}`, body: 'text' },
        ),
      ),
    );
    // Both instances work through the retries at once (the worker's clock moved past the 15 s and 30 s gaps).
    for (const later of [0, 16_000, 16_000 + 31_000])
      await Promise.all([
        a.deliveries.idle(),
        b.deliveries.idle(),
        a.deliveries.run(Date.now() + later),
        b.deliveries.run(Date.now() + later),
      ]);
    const rows = await a.database.db.selectFrom('notification').select(['id', 'status', 'attempts']).execute();
    assert.equal(rows.length, 50);
    assert.deepEqual(
      [...new Set(rows.map((r) => `${r.status}:${r.attempts}`))],
      ['sent:3'],
      'each sent on its third attempt, every attempt counted',
    );
    assert.equal(delivered.length, 50, 'none lost');
    assert.equal(new Set(delivered).size, 50, 'none delivered twice');
    assert.ok([...tries.values()].every((n) => n === 3), 'no message was posted more than the receiver asked for');
  } finally {
    await stop();
  }
});

test('two instances retrying mail the SMTP server refuses count every attempt and give up after five', async () => {
  let refused = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(_address, _session, callback) {
      refused++;
      callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 450 }));
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
  const { apps, stop } = await twoInstances({ SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as { port: number }).port}` });
  try {
    const [a, b] = apps as [TestApp, TestApp];
    for (let i = 0; i < 10; i++) await a.mailer.send({ to: `p${i}@example.org`, subject: 'Hello', body: 'text' });
    for (let pass = 0, later = 0; pass < 6; pass++, later += 10 * 60_000) {
      await Promise.all([
        a.deliveries.idle(),
        b.deliveries.idle(),
        a.deliveries.run(Date.now() + later),
        b.deliveries.run(Date.now() + later),
      ]);
    }
    const rows = await a.database.db.selectFrom('outbox').select(['attempts', 'next_attempt_at', 'sent_at']).execute();
    assert.deepEqual(
      [...new Set(rows.map((r) => `${r.attempts}:${r.next_attempt_at}:${r.sent_at}`))],
      ['5:null:null'],
      'five attempts each, then left as failed',
    );
    assert.equal(refused, 50, 'and exactly five tries reached the server for each message');
  } finally {
    await stop();
    await new Promise<void>((r) => smtp.close(() => r()));
  }
});

test('a pass that outlives its lease keeps its claims: the next message is claimed at the time it is taken', async (t) => {
  const database = await openTestDatabase('sqlite');
  try {
    const now = Date.now();
    for (const id of ['n0', 'n1']) {
      await database.db.insertInto('notification').values({
        id, channel: 'webhook', payload: JSON.stringify({ idempotency_key: id }), status: 'pending', attempts: 0, last_error: null,
        next_attempt_at: now, created_at: now, sent_at: null,
      }).execute();
    }
    const posted: string[] = [];
    const waiting: (() => void)[] = [];
    // A's receiver holds each post until the test lets it go; B's answers at once.
    const held: typeof fetch = async (_url, init) => {
      posted.push(`A:${JSON.parse(String(init!.body)).idempotency_key}`);
      await new Promise<void>((r) => waiting.push(r));
      return new Response(null, { status: 200 });
    };
    const quick: typeof fetch = async (_url, init) => {
      posted.push(`B:${JSON.parse(String(init!.body)).idempotency_key}`);
      return new Response(null, { status: 200 });
    };
    const options = {
      smtpUrl: undefined,
      from: 'toolkit@example.org',
      chatWebhookUrl: 'http://hook.example/',
      log: { warn() {}, info() {} },
    };
    const a = createDeliveries(database.db, { ...options, post: held });
    const b = createDeliveries(database.db, { ...options, post: quick });
    const passA = a.run();
    while (waiting.length === 0) await new Promise((r) => setImmediate(r));
    // A's first post takes longer than the two-minute lease; A then takes n1, and B looks while A is posting it.
    t.mock.timers.enable({ apis: ['Date'], now: now + 130_000 });
    waiting.shift()!();
    while (waiting.length === 0) await new Promise((r) => setImmediate(r));
    await b.run();
    waiting.shift()!();
    await passA;
    assert.deepEqual(posted, ['A:n0', 'A:n1'], 'B did not post what A holds');
  } finally {
    await database.close();
  }
});
