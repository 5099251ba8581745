/** Mail without SMTP (issue 13 #6): each message is logged with its links in one line; bodies are cut into text and links. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestDatabase } from '../test-support/harness.ts';
import { createDeliveries } from './deliveries.ts';
import { bodyParts, linksIn } from './mailbox.ts';

let database: Awaited<ReturnType<typeof openTestDatabase>>;
before(async () => {
  database = await openTestDatabase('sqlite');
});
after(() => database.close());

function capture() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, log: { info: at('info'), warn: at('warn') } };
}

test('without SMTP_URL each message queued is logged once: recipient, subject, its links and the mailbox', async () => {
  const { lines, log } = capture();
  const d = createDeliveries(database.db, {
    smtpUrl: undefined,
    from: 'x@example.org',
    chatWebhookUrl: undefined,
    log,
    mailboxUrl: 'http://localhost:3000/portal/dev/mail',
  });
  await d.mailer.send({
    to: 'ann@example.org',
    subject: 'Confirm your email address',
    body: 'Open this link:\nhttp://localhost:3000/portal/confirm/abc123.\n',
  });
  await d.idle();
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.equal(line!.level, 'info');
  assert.deepEqual(line!.obj, {
    to: 'ann@example.org',
    subject: 'Confirm your email address',
    links: ['http://localhost:3000/portal/confirm/abc123'],
  });
  assert.equal(
    line!.msg,
    'mail not sent (no SMTP_URL): to ann@example.org, "Confirm your email address", http://localhost:3000/portal/confirm/abc123; ' +
      'all mail: http://localhost:3000/portal/dev/mail',
  );
});

test('with SMTP_URL nothing is logged when a message is queued (the delivery worker sends it)', async () => {
  const { lines, log } = capture();
  const d = createDeliveries(database.db, { smtpUrl: 'smtp://127.0.0.1:9', from: 'x@example.org', chatWebhookUrl: undefined, log });
  await d.mailer.send({ to: 'bob@example.org', subject: 'Hello', body: 'http://localhost:3000/portal' });
  await d.idle(); // its send to the closed port fails, and is kept for a retry
  assert.equal(lines.filter((l) => l.level === 'info').length, 0);
});

test('a body is cut into text and links (http and https only; closing punctuation is not part of a link)', () => {
  assert.deepEqual(bodyParts('See https://a.example/x?y=1, then (http://b.example/). javascript:alert(1) ftp://c.example'), [
    { text: 'See ' }, { text: 'https://a.example/x?y=1', href: 'https://a.example/x?y=1' }, { text: ', then (' },
    { text: 'http://b.example/', href: 'http://b.example/' }, { text: '). javascript:alert(1) ftp://c.example' },
  ]);
  assert.deepEqual(linksIn('http://x.example/a and again http://x.example/a'), ['http://x.example/a'], 'each link once');
  assert.deepEqual(bodyParts(''), []);
});
