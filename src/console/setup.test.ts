/** A team member's set-up page as they use it: a QR code to scan, the key to type, a confirmation, a first sign-in. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import QRCode from 'qrcode';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser, csrfOf, fromAddress, type Page } from '../test-support/browser.ts';
import { addTeamMember } from '../onboarding/index.ts';
import { pairKey } from '../storage/index.ts';

const ORIGIN = 'http://localhost:3000';
const PASSWORD = 'team console passphrase';

/** The dark modules an SVG from the qrcode package draws (its path: rows of horizontal runs), as "x,y". */
function darkModules(svg: string): Set<string> {
  const d = /<path stroke="[^"]+" d="([^"]+)"/.exec(svg)![1]!;
  const dark = new Set<string>();
  let x = 0;
  let y = 0;
  for (const [, op, a, b] of d.matchAll(/([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?/g)) {
    if (op === 'M') [x, y] = [Number(a), Number(b)];
    else if (op === 'm') [x, y] = [x + Number(a), y + Number(b)];
    else for (let i = 0; i < Number(a); i++, x++) dark.add(`${x},${Math.floor(y)}`);
  }
  return dark;
}

const errorSummary = (p: Page) =>
  /<div class="nhsuk-error-summary__body">([\s\S]*?)<\/div>/
    .exec(p.text)?.[1]
    ?.replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

for (const dialect of DIALECTS) {
  describe(`console set-up (${dialect})`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp(dialect, { TRUST_PROXY: 'true' }); // so that each test signs in from an address of its own
    });
    after(() => app.stop());

    const setUp = async (email: string, from: string) => {
      const { setupSecret } = await addTeamMember(app.database.db, { email: 'cli' }, email, 'delivery_manager');
      const b = new Browser(fromAddress(app.fetch, from), ORIGIN);
      const page = await b.get(`/console/setup/${setupSecret}`);
      const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(page.text)![1]!;
      return { b, page, secret, key: secret.replaceAll(' ', '') };
    };

    test('the set-up page shows a QR code of the account\'s otpauth:// URI, drawn on the page, with a text alternative', async () => {
      const { page } = await setUp('scan@nhs.example', '192.0.2.1');
      const otpauth = /id="otpauth" href="([^"]+)"/.exec(page.text)![1]!.replaceAll('&amp;', '&');
      assert.match(otpauth, /^otpauth:\/\/totp\/.*scan%40nhs\.example\?.*secret=[A-Z2-7]{32}/);
      const svg = /<div id="totp-qr"[^>]*>\s*(<svg[\s\S]*?<\/svg>)/.exec(page.text)?.[1];
      assert.ok(svg, 'an inline SVG (no image request, nothing sent elsewhere)');
      assert.match(svg, /^<svg role="img" aria-labelledby="totp-qr-title"/);
      assert.match(svg, /<title id="totp-qr-title">QR code that adds this account to an authenticator app<\/title>/);
      const symbol = QRCode.create(otpauth, { errorCorrectionLevel: 'M' }).modules;
      const expected = new Set<string>();
      for (let row = 0; row < symbol.size; row++)
        for (let col = 0; col < symbol.size; col++) if (symbol.get(row, col)) expected.add(`${col + 4},${row + 4}`);
      assert.deepEqual(darkModules(svg), expected, 'the QR code is the symbol of that URI');
    });

    test('the key is shown as text too, in groups of four, for whoever cannot scan', async () => {
      const { page, secret } = await setUp('type@nhs.example', '192.0.2.2');
      assert.match(secret, /^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$/);
      assert.match(
        page.text,
        new RegExp(`If you cannot scan it, choose to enter a set-up key in your app and type this key:[\\s\\S]*${secret}`),
      );
    });

    test('finishing the set-up with a code from the app confirms it above the sign-in form', async () => {
      const { b, page, key } = await setUp('done@nhs.example', '192.0.2.4');
      const done = await b.post(
        page.url,
        new URLSearchParams({ _csrf: csrfOf(page), password: PASSWORD, code: await generate({ secret: key }) }),
      );
      assert.equal(done.status, 200);
      assert.ok(new URL(done.url).pathname === '/console/sign-in', done.url);
      assert.match(
        done.text,
        new RegExp(
          String.raw`id="set-up-done"[\s\S]*Your console account is set up[\s\S]*a new code from your authenticator app[\s\S]*` +
            String.raw`<form method="post" action="\/console\/sign-in"`,
        ),
      );
      assert.doesNotMatch((await b.get('/console/sign-in')).text, /Your console account is set up/, 'only after the set-up');
    });

    test('the code that finished the set-up, typed again at the first ' +
      'sign-in, is refused with why, and not counted as a failure', async () => {
      const { b, page, key } = await setUp('first@nhs.example', '192.0.2.5');
      const code = await generate({ secret: key });
      await b.post(page.url, new URLSearchParams({ _csrf: csrfOf(page), password: PASSWORD, code }));
      const form = await b.get('/console/sign-in');
      const refused = await b.post(
        '/console/sign-in',
        new URLSearchParams({ _csrf: csrfOf(form), email: 'first@nhs.example', password: PASSWORD, code }),
      );
      assert.equal(refused.status, 401);
      assert.equal(
        errorSummary(refused),
        'That code finished your set-up, and each code works once: wait for your app to show a new code, then enter it',
      );
      const counters = await app.database.db
        .selectFrom('attempt_counter')
        .select(['key', 'count'])
        .where((w) => w.or([w('key', 'like', '%first@nhs.example%'), w('key', '=', 'console:address:192.0.2.5')]))
        .execute();
      assert.deepEqual(
        counters.filter((c) => Number(c.count) > 0),
        [],
        'no failure counted for the account, the pair or the address',
      );
      const audit = await app.database.db.selectFrom('audit').select('action').where('subject', '=', 'first@nhs.example').execute();
      assert.ok(!audit.some((a) => a.action === 'console.sign_in_failed'), 'nor audited as a failed sign-in');
      const next = await b.post(
        '/console/sign-in',
        new URLSearchParams({
          _csrf: csrfOf(refused),
          email: 'first@nhs.example',
          password: PASSWORD,
          code: await generate({ secret: key, epoch: Math.floor(Date.now() / 1000) + 30 }),
        }),
      );
      assert.ok(next.url.endsWith('/console'), next.url);
    });

    test('a used code that did not finish the set-up still counts as a failed sign-in', async () => {
      const { b, page, key } = await setUp('later@nhs.example', '192.0.2.6');
      await b.post(page.url, new URLSearchParams({ _csrf: csrfOf(page), password: PASSWORD, code: await generate({ secret: key }) }));
      const later = await generate({ secret: key, epoch: Math.floor(Date.now() / 1000) + 30 });
      let form = await b.get('/console/sign-in');
      await b.post(
        '/console/sign-in',
        new URLSearchParams({ _csrf: csrfOf(form), email: 'later@nhs.example', password: PASSWORD, code: later }),
      );
      form = await b.get('/console/sign-in');
      const replay = await b.post(
        '/console/sign-in',
        new URLSearchParams({ _csrf: csrfOf(form), email: 'later@nhs.example', password: PASSWORD, code: later }),
      );
      assert.match(errorSummary(replay)!, /^The email address, password or code is not right/);
      const pair = await app.database.db
        .selectFrom('attempt_counter')
        .select('count')
        .where('key', '=', pairKey('console:password:later@nhs.example', '192.0.2.6'))
        .executeTakeFirst();
      assert.equal(Number(pair?.count), 1);
    });
  });
}
