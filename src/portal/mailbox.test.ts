/**
 * The local mailbox (issue 13 #6): with no SMTP_URL on a toolkit reached on loopback, the mail it queued is shown at
 * /portal/dev/mail, read from the database (another instance on the same database shows it too), and the "check your
 * email" pages link to it. Anywhere else (an SMTP server, a PUBLIC_URL that is not loopback) it does not exist.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bootTestApp, DIALECTS, freshDatabaseUrl, startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser, csrfOf } from '../test-support/browser.ts';

const ORIGIN = 'http://localhost:3000';

async function submit(b: Browser, url: string, form: Record<string, string>) {
  const page = await b.get(url);
  return b.post(url, new URLSearchParams({ _csrf: csrfOf(page), ...form }));
}

for (const dialect of DIALECTS) {
  describe(`local mailbox (${dialect})`, () => {
    let db: Awaited<ReturnType<typeof freshDatabaseUrl>>;
    let one: TestApp;
    let two: TestApp;
    before(async () => {
      db = await freshDatabaseUrl(dialect);
      one = await bootTestApp({ DATABASE_URL: db.url });
      two = await bootTestApp({ DATABASE_URL: db.url });
    });
    after(async () => {
      await one.stop();
      await two.stop();
      await db.drop();
    });

    test('the sign-up\'s "check your email" page leads to the message, whose link confirms the address', async () => {
      const b = new Browser(one.fetch, ORIGIN);
      const done = await submit(b, '/portal/sign-up', {
        name: 'New Comer',
        email: 'newcomer@example.org',
        password: 'correct horse battery',
      });
      assert.match(done.text, /Check your email/);
      assert.match(done.text, /href="\/portal\/dev\/mail"/, 'the page links to the mailbox');
      // Another instance on the same database: the mailbox is read from the database, not from memory.
      const other = new Browser(two.fetch, ORIGIN);
      const box = await other.get('/portal/dev/mail');
      assert.equal(box.status, 200);
      const id = /href="\/portal\/dev\/mail\/([\w-]+)">Confirm/.exec(box.text)?.[1];
      assert.ok(id, 'the confirmation is listed');
      const message = await other.get(`/portal/dev/mail/${id}`);
      assert.match(message.text, /newcomer@example\.org/);
      const link = /<a href="http:\/\/localhost:3000(\/portal\/confirm\/[^"]+)">/.exec(message.text)?.[1];
      assert.ok(link, 'its link is clickable');
      assert.match((await b.get(link)).text, /Email address confirmed/);
    });

    test('newest first; the forgotten-password page links to it too; an unknown or malformed id is not found', async () => {
      const b = new Browser(one.fetch, ORIGIN);
      await submit(b, '/portal/sign-up', { name: 'Order', email: 'order@example.org', password: 'correct horse battery' });
      const reset = await submit(b, '/portal/forgot-password', { email: 'order@example.org' });
      assert.match(reset.text, /href="\/portal\/dev\/mail"/);
      const box = (await b.get('/portal/dev/mail')).text;
      const reset1 = box.indexOf('/portal/reset-password/');
      const confirm1 = box.indexOf('/portal/confirm/');
      assert.ok(reset1 > 0 && reset1 < confirm1, 'the reset link (newer) comes before the confirmation');
      assert.equal((await b.get('/portal/dev/mail/00000000-0000-4000-8000-000000000000')).status, 404);
      assert.equal((await b.get('/portal/dev/mail/not-an-id')).status, 404);
    });
  });
}

describe('no local mailbox on a toolkit that sends mail, or that is not on loopback', () => {
  const cases: [string, Record<string, string>][] = [
    ['SMTP_URL set', { SMTP_URL: 'smtp://127.0.0.1:9' }],
    ['a hosted PUBLIC_URL', { PUBLIC_URL: 'https://toolkit.example.org' }],
    ['PUBLIC_URL on a LAN address', { PUBLIC_URL: 'http://192.168.1.20:3000' }],
  ];
  for (const [name, env] of cases) {
    test(name, async () => {
      const app = await startTestApp('sqlite', env);
      try {
        const origin = env.PUBLIC_URL ?? ORIGIN;
        const b = new Browser(app.fetch, origin);
        const done = await submit(b, '/portal/sign-up', { name: 'Hosted', email: 'hosted@example.org', password: 'correct horse battery' });
        assert.match(done.text, /Check your email/);
        assert.doesNotMatch(done.text, /dev\/mail/, 'no link to a mailbox');
        const id = (await app.database.db.selectFrom('outbox').select('id').executeTakeFirstOrThrow()).id;
        for (const url of ['/portal/dev/mail', `/portal/dev/mail/${id}`]) assert.equal((await b.get(url)).status, 404, url);
      } finally {
        await app.stop();
      }
    });
  }
});
