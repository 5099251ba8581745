/**
 * Sign-in throttling in the patient journeys (storage/lockout.ts), on both databases: an attacker slows themselves,
 * not the person they attack. Requests come from chosen addresses (X-Forwarded-For, with TRUST_PROXY=true).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { Browser, fromAddress } from '../../test-support/browser.ts';
import { authorizationUrl, createRp, login, type TestRp } from '../../test-support/rp.ts';

for (const dialect of DIALECTS) {
  describe(`journey sign-in throttling (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    const browser = (address = '127.0.0.1') => new Browser(fromAddress(app.fetch, address), 'http://localhost:3000');
    const start = (address?: string) => {
      const b = browser(address);
      return b.get(authorizationUrl(rp, { state: 's', nonce: 'n' })).then((page) => ({ b, page }));
    };
    const reasons = async (uid: string) => {
      await app.events.flush();
      return (
        await app.database.db
          .selectFrom('protocol_event')
          .select('error')
          .where('correlation_id', '=', uid)
          .where('kind', '=', 'sign_in')
          .execute()
      ).map((e) => e.error);
    };
    before(async () => {
      app = await startTestApp(dialect, { TRUST_PROXY: 'true' });
      rp = await createRp(app, 'sandpit');
    });
    after(() => app.stop());

    test('wrong passwords make their address wait, doubling; the person signs in from another address meanwhile', async () => {
      const { b, page: first } = await start('203.0.113.1');
      let page = first;
      for (let i = 0; i < 5; i++) page = await b.post(first.url, { email: 'testuserlive+1@demo.signin.nhs.uk', password: 'wrong' });
      assert.equal(page.status, 401);
      assert.match(page.text, /0 more tries before you must wait/);
      page = await b.post(first.url, { email: 'testuserlive+1@demo.signin.nhs.uk', password: 'wrong' });
      assert.equal(page.status, 429);
      assert.match(page.text, /Wait 30 seconds before you try again/);
      page = await b.post(first.url, { email: 'testuserlive+1@demo.signin.nhs.uk', password: 'Passw0rd$1' });
      assert.equal(page.status, 429, 'the guessing address waits, right password or not');
      const { b: owner, page: theirs } = await start('198.51.100.1');
      const otp = await owner.post(theirs.url, { email: 'testuserlive+1@demo.signin.nhs.uk', password: 'Passw0rd$1' });
      assert.ok(otp.url.endsWith('/otp'), `another address is not held up (${otp.url})`);
    });

    test('parallel wrong passwords from one address are checked one at a time, six at most before the wait', async () => {
      // An account of one's own (the published test accounts take checks side by side: their password is no secret).
      const { b: owner, page: signUp } = await start('198.51.100.2');
      await owner.post(signUp.url.replace(/sign-in$/, 'register'), {
        email: 'parallel.guess@example.org',
        password: 'Secret123',
        phone: '07700 900127',
      });
      const { b, page } = await start('203.0.113.2');
      const pages = await Promise.all(
        Array.from({ length: 12 }, () => b.post(page.url, { email: 'parallel.guess@example.org', password: 'wrong' })),
      );
      assert.ok(
        pages.every((p) => p.status === 401 || p.status === 429),
        pages.map((p) => p.status).join(' '),
      );
      const seen = await reasons(page.url.split('/').at(-2)!);
      assert.ok(
        seen.filter((r) => r === 'wrong_password').length <= 6,
        `${seen.filter((r) => r === 'wrong_password').length} passwords checked`,
      );
      assert.equal(seen.length, 12, `every request is in the record, refused ones as throttled or busy: ${seen.join(' ')}`);
    });

    test('people signing in to a shared test account at once from one network never lock it, nor wait for each other', async () => {
      const journeys = await Promise.all(Array.from({ length: 8 }, () => start()));
      const pages = await Promise.all(
        journeys.map(({ b, page }) => b.post(page.url, { email: 'testuserlive+19@demo.signin.nhs.uk', password: 'Passw0rd$1' })),
      );
      for (const p of pages) assert.ok(p.url.endsWith('/otp'), `${p.status} ${p.url}`);
      const later = await login(app, rp, { email: 'testuserlive+19@demo.signin.nhs.uk' });
      assert.ok(later.claims.sub, 'not locked afterwards');
    });

    test('wrong security codes make their address wait; the same person elsewhere is not held up', async () => {
      const { b, page: first } = await start('203.0.113.3');
      const otpPage = await b.post(first.url, { email: 'testuserlive+22@demo.signin.nhs.uk', password: 'Passw0rd$1' });
      assert.ok(otpPage.url.endsWith('/otp'), otpPage.url);
      let page = await b.post(otpPage.url, { otp: '000000' });
      assert.equal(page.status, 401);
      assert.match(page.text, /4 more tries/);
      for (let i = 0; i < 5; i++) page = await b.post(otpPage.url, { otp: '000001' });
      assert.equal(page.status, 429);
      assert.match(page.text, /Wait 30 seconds before you try again/);
      assert.equal((await b.post(otpPage.url, { otp: '190696' })).status, 429, 'the right code waits too, from this address');
      const { b: other, page: theirs } = await start('198.51.100.3');
      const code = await other.post(theirs.url, { email: 'testuserlive+22@demo.signin.nhs.uk', password: 'Passw0rd$1' });
      const done = await other.post(code.url, { otp: '190696' });
      assert.ok(!done.url.endsWith('/otp'), `signed in from another address (${done.url})`);
    });

    test('the published test accounts have no account ceiling: failures from many addresses lock nobody else out', async () => {
      for (let i = 0; i < 25; i++) {
        const { b, page } = await start(`203.0.113.${100 + i}`);
        await b.post(page.url, { email: 'testuserlive+23@demo.signin.nhs.uk', password: 'wrong' });
      }
      const { b, page } = await start('198.51.100.23');
      const otp = await b.post(page.url, { email: 'testuserlive+23@demo.signin.nhs.uk', password: 'Passw0rd$1' });
      assert.ok(otp.url.endsWith('/otp'));
      assert.match(otp.text, /phone ending/, 'and not guarded: the usual page');
    });

    test('past a network\'s ceiling the password is judged only with the security code: others on that network still sign in', async () => {
      const nat = '192.0.2.77';
      for (let i = 0; i < 30; i++) {
        const { b, page } = await start(nat);
        await b.post(page.url, { email: `nobody${i}@example.org`, password: 'guess' });
      }
      const wrong = await start(nat);
      const wrongNext = await wrong.b.post(wrong.page.url, { email: 'testuserlive+4@demo.signin.nhs.uk', password: 'not it' });
      const right = await start(nat);
      const rightNext = await right.b.post(right.page.url, { email: 'testuserlive+4@demo.signin.nhs.uk', password: 'Passw0rd$1' });
      for (const p of [wrongNext, rightNext]) assert.ok(p.url.endsWith('/otp') && p.status === 200, `${p.status} ${p.url}`);
      const strip = (t: string) => t.replace(/interaction\/[\w-]+/g, '');
      assert.equal(strip(wrongNext.text), strip(rightNext.text), 'the same security-code page whether the password was right');
      const refused = await wrong.b.post(wrongNext.url, { otp: '190696' });
      assert.match(refused.text, /Your email address, password or security code is incorrect/);
      const signedIn = await right.b.post(rightNext.url, { otp: '190696' });
      assert.ok(
        !signedIn.url.endsWith('/otp') && !signedIn.url.endsWith('/sign-in'),
        `the right password and code sign in (${signedIn.url})`,
      );
    });
  });
}
