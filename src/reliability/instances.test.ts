/**
 * Two instances on one PostgreSQL behave as one toolkit: each request of a journey may reach either, a partner's
 * registration is confirmed and used on the other, and a signing-key rotation reaches both with no failure. The
 * instances share a PUBLIC_URL (a load balancer's); each request here goes to one or the other in turn.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { loadConfig } from '../config/index.ts';
import { publishNextKey, switchToNextKey } from '../identity/index.ts';
import { openDatabase, type Database } from '../storage/index.ts';
import { Browser, csrfOf } from '../test-support/browser.ts';
import { freshDatabaseUrl } from '../test-support/harness.ts';
import { startInstance, stopInstance, type Instance } from '../test-support/instances.ts';
import { freePort } from '../test-support/ports.ts';
import { sandpitClient, startTraffic } from '../test-support/traffic.ts';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two instances on one PostgreSQL', () => {
  let instances: Instance[];
  let database: Database;
  let publicUrl: string;
  let drop: () => Promise<void>;
  let turn = 0;
  /** A fetch for PUBLIC_URL that sends each request to the next instance, as a round-robin balancer would. */
  const balanced = ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const to = new URL(instances[turn++ % instances.length]!.origin);
    url.host = to.host;
    return fetch(input instanceof Request ? new Request(url, input) : url, init);
  }) as typeof fetch;

  before(async () => {
    const fresh = await freshDatabaseUrl('postgres');
    drop = fresh.drop;
    publicUrl = `http://localhost:${await freePort()}`;
    const env = { DATABASE_URL: fresh.url, PUBLIC_URL: publicUrl };
    instances = await Promise.all([startInstance({ env }), startInstance({ env })]);
    database = await openDatabase(loadConfig(env).database);
  });
  after(async () => {
    await Promise.all(instances.map((i) => stopInstance(i, 'SIGKILL')));
    await database.close();
    await drop();
  });

  test('a persona login whose every request reaches the other instance from the last', async () => {
    const client = await sandpitClient(database.db, publicUrl, balanced); // throws unless the journey completes
    assert.match(client.cookie, /_nhsl_sandpit=/, 'signed in: the session cookie was set');
  });

  test('a partner signs up on one instance, confirms on the other, and signs in', async () => {
    const b = new Browser(balanced, publicUrl);
    const form = await b.get('/portal/sign-up');
    const signedUp = await b.post(
      '/portal/sign-up',
      new URLSearchParams({ _csrf: csrfOf(form), name: 'Two', email: 'two@example.org', password: 'correct horse battery' }),
    );
    assert.equal(signedUp.status, 200);
    const mail = await database.db
      .selectFrom('outbox')
      .select('body')
      .where('to_address', '=', 'two@example.org')
      .executeTakeFirstOrThrow();
    const link = /\/portal\/confirm\/\S+/.exec(mail.body)![0];
    assert.equal((await b.get(link)).status, 200);
    const signIn = await b.get('/portal/sign-in');
    const home = await b.post(
      '/portal/sign-in',
      new URLSearchParams({ _csrf: csrfOf(signIn), email: 'two@example.org', password: 'correct horse battery' }),
    );
    assert.ok(home.url.endsWith('/portal'), `signed in (${home.url})`);
    assert.equal((await b.get('/portal')).status, 200, 'and the session is good on either instance');
  });

  test('failed sign-ins counted on either instance: the sixth from one address waits on both', async () => {
    const b = new Browser(balanced, publicUrl);
    const signIn = async () => {
      const form = await b.get('/portal/sign-in');
      return b.post(
        '/portal/sign-in',
        new URLSearchParams({ _csrf: csrfOf(form), email: 'two@example.org', password: 'not the password' }),
      );
    };
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await signIn()).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429], 'each request reached the other instance from the last');
  });

  test('a signing-key rotation during logins on both instances: no failure, every ID token verifies', async (t) => {
    const client = await sandpitClient(database.db, publicUrl, balanced);
    const traffic = startTraffic(
      client,
      instances.map((i) => i.origin),
      { workers: 4 },
    );
    const jwks = async (i: Instance) =>
      (await (await fetch(`${i.origin}/sandpit/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    const everywhere = async (what: string, check: (i: Instance) => Promise<boolean>) => {
      for (const end = Date.now() + 30_000; !(await Promise.all(instances.map(check))).every(Boolean); await pause(200)) {
        if (Date.now() > end) throw new Error(`${what} not on every instance within 30 s`);
      }
    };
    try {
      await pause(500);
      const next = await publishNextKey(database.db, 'sandpit');
      await everywhere('the next key published', async (i) => (await jwks(i)).keys.some((k) => k.kid === next));
      await switchToNextKey(database.db, 'sandpit');
      const signedWith = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid as string;
      // Token requests alternate between the instances: once the newest eight are signed with the next key, both are.
      await everywhere(
        'signing with the next key',
        async () => traffic.idTokens.length > 8 && traffic.idTokens.slice(-8).every((j) => signedWith(j) === next),
      );
      await pause(500);
    } finally {
      await traffic.stop();
    }
    t.diagnostic(
      `${traffic.tokens.length} logins across the rotation; failures ${JSON.stringify(traffic.failed)} ${traffic.samples.join(' | ')}`,
    );
    assert.deepEqual(traffic.failed, { status: 0, refused: 0, cut: 0 });
    const keys = createLocalJWKSet(await jwks(instances[0]!) as never);
    for (const idToken of traffic.idTokens) await jwtVerify(idToken, keys, { issuer: `${publicUrl}/sandpit`, audience: client.clientId });
  });
});
