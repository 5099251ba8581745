/**
 * Faults scoped to a conformance run's own requests: only the browser carrying the run's mark (and the code
 * and tokens it leads to) is spoiled and tagged; the same client's other traffic is untouched.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser } from '../test-support/browser.ts';
import { createRp, login, signIn, type TestRp } from '../test-support/rp.ts';
import { createRunMark, MARK_COOKIE } from './run-marks.ts';

for (const dialect of DIALECTS) {
  describe(`conformance run faults (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
    });
    after(() => app.stop());
    const marked = async (testId: string, fault?: string) => {
      const b = new Browser(app.fetch, 'http://localhost:3000');
      b.addCookie(
        MARK_COOKIE,
        await createRunMark(app.database.db, 'sandpit', rp.client.clientId, { runId: 'run-1', testId, fault: fault as never }),
        '/sandpit',
      );
      return b;
    };

    test('a run\'s fault spoils only its own token response; the same client\'s other logins are clean', async () => {
      const b = await marked('nonce', 'id_token_wrong_nonce');
      await assert.rejects(login(app, rp, { browser: b }), (e: Error) => /nonce/.test(String((e.cause as Error | undefined)?.message)));
      const clean = await login(app, rp, {});
      assert.ok(clean.claims.sub, 'unmarked traffic of the same client is untouched');
      await app.events.flush();
      const tagged = await app.database.db
        .selectFrom('protocol_event')
        .select(['kind', 'details'])
        .where('client_id', '=', rp.client.clientId)
        .execute();
      const ofRun = tagged.filter((e) => JSON.parse(e.details ?? '{}').run === 'run-1');
      for (const kind of ['authorize', 'token', 'fault']) assert.ok(ofRun.some((e) => e.kind === kind), `${kind} tagged with the run`);
      assert.ok(!tagged.some((e) => e.kind === 'fault' && JSON.parse(e.details ?? '{}').run !== 'run-1'), 'no fault outside the run');
    });

    test('userinfo faults follow the run\'s access token; authorize answers invalid_scope for the run\'s browser only', async () => {
      const b = await marked('sub', 'userinfo_sub_mismatch');
      const r = await login(app, rp, { browser: b });
      await assert.rejects(oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub), (e: Error) =>
        /sub/.test(`${e.message} ${String((e.cause as Error | undefined)?.message)}`),
      );
      const s = await signIn(app, rp, { browser: await marked('scope', 'authorize_invalid_scope') });
      assert.equal(s.callback?.searchParams.get('error'), 'invalid_scope');
      assert.ok((await signIn(app, rp, {})).callback?.searchParams.get('code'), 'others are not refused');
    });

    test('key rotation: the run\'s new key is published in the JWKS and signs only its ID token', async () => {
      const b = await marked('rotation', 'id_token_new_key');
      const { signIn: journey } = await import('../test-support/rp.ts');
      const s = await journey(app, rp, { browser: b });
      const res = await app.fetch(rp.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: s.callback!.searchParams.get('code')!,
          redirect_uri: 'https://rp.example.org/callback',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await rp.assertion(),
        }).toString(),
      });
      const { id_token } = (await res.json()) as { id_token: string };
      const kid = decodeProtectedHeader(id_token).kid!;
      assert.match(kid, /^rotation-/);
      const jwks = (await (await app.fetch(`${rp.issuer}/.well-known/jwks.json`)).json()) as { keys: { kid: string; d?: string }[] };
      const published = jwks.keys.find((k) => k.kid === kid);
      assert.ok(published, 'the new key is in the JWKS');
      assert.equal(published.d, undefined, 'public parts only');
      const live = (await (await app.fetch('http://localhost:3000/live/.well-known/jwks.json')).json()) as { keys: { kid: string }[] };
      assert.ok(!live.keys.some((k) => k.kid === kid), 'never in another environment');
    });
  });
}
