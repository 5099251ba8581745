/**
 * Session rules on both databases (session-rules.ts): a refresh token ends on the client's idle limit and never outlives
 * its absolute limit from the person's authentication. The clock is node:test's mocked Date (the engine, the adapter's
 * expiry and the relying party's assertions all read it), so minutes pass without sleeping.
 */
import { after, afterEach, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { createRp, login, type TestRp } from '../test-support/rp.ts';
import { updateClient } from '../storage/index.ts';
import { SessionRulesError, setSessionRules } from './session-rules.ts';

async function refresh(app: TestApp, rp: TestRp, refreshToken: string) {
  const res = await app.fetch(rp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await rp.assertion(),
    }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

for (const dialect of DIALECTS) {
  describe(`session rules (${dialect})`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp(dialect);
    });
    afterEach(() => mock.timers.reset());
    after(() => app.stop());

    async function signedIn(rules: { sessionIdleS?: number; sessionAbsoluteS?: number }) {
      const rp = await createRp(app, 'sandpit');
      await updateClient(app.database.db, 'sandpit', rp.client.clientId, rules);
      const r = await login(app, rp, {});
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      return { rp, refreshToken: r.tokens.refresh_token! };
    }

    test('limits are shortened in the sandpit only, within their bounds', async () => {
      const rp = await createRp(app, 'sandpit');
      const db = app.database.db;
      const set = (env: string, idleMinutes: unknown, absoluteMinutes: unknown) =>
        setSessionRules(db, env, rp.client.clientId, { idleMinutes, absoluteMinutes });
      await assert.rejects(set('integration', 1, 2), SessionRulesError, 'integration keeps live\'s limits');
      await assert.rejects(set('sandpit', 0, 2), /from 1 to 30/);
      await assert.rejects(set('sandpit', 1, 1), (e: SessionRulesError) => e.field === 'absolute_minutes');
      await assert.rejects(set('sandpit', 31, 2), /from 1 to 30/);
      await set('sandpit', '1', 2);
      const row = await db.selectFrom('client').select(['session_idle_s', 'session_absolute_s'])
        .where('client_id', '=', rp.client.clientId).executeTakeFirstOrThrow();
      assert.deepEqual([row.session_idle_s, row.session_absolute_s], [60, 120]);
    });

    test('a refresh within the idle limit is answered', async () => {
      const { rp, refreshToken } = await signedIn({ sessionIdleS: 60 });
      mock.timers.tick(50_000);
      assert.equal((await refresh(app, rp, refreshToken)).status, 200);
    });

    test('a refresh after the idle limit is invalid_grant, naming the limit', async () => {
      const { rp, refreshToken } = await signedIn({ sessionIdleS: 60 });
      mock.timers.tick(61_000);
      const r = await refresh(app, rp, refreshToken);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'invalid_grant');
      assert.match(r.body.error_description!, /1 minute after it was issued \(this client's idle limit\)/);
    });

    test("a client that set no limits keeps the specification's 30-day refresh token (Federation spec, Table 18)", async () => {
      const { rp, refreshToken } = await signedIn({});
      mock.timers.tick(13 * 3600_000);
      const fresh = await refresh(app, rp, refreshToken);
      assert.equal(fresh.status, 200, 'past both documented limits: they are the service\'s duty, not the token\'s');
      mock.timers.tick(31 * 24 * 3600_000);
      const r = await refresh(app, rp, fresh.body.refresh_token!);
      assert.equal(r.body.error, 'invalid_grant');
      assert.match(r.body.error_description!, /30 days after it was issued/);
    });

    test('refreshing every 50 seconds still ends at the absolute limit from authentication', async () => {
      const { rp, refreshToken } = await signedIn({ sessionIdleS: 60, sessionAbsoluteS: 120 });
      let token = refreshToken;
      for (const _ of [1, 2]) {
        mock.timers.tick(50_000);
        const r = await refresh(app, rp, token);
        assert.equal(r.status, 200, 'active and within both limits');
        token = r.body.refresh_token!;
      }
      mock.timers.tick(25_000); // 125 s after authentication, 25 s after the last refresh
      const r = await refresh(app, rp, token);
      assert.equal(r.body.error, 'invalid_grant');
      assert.match(r.body.error_description!, /2 minutes after the person authenticated \(its absolute limit\)/);
    });
  });
}
