/**
 * The stand-in GP system (identity/gp-system): its answer for each GP credential state, its refusals of hostile
 * bodies and unknown credentials, and what a real sign-in does to each state, end to end in-process on both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { createRp, login, type TestRp } from '../../test-support/rp.ts';
import { findPerson, insertPerson, setGpState, type GpState } from '../../storage/index.ts';
import { hashPassword } from '../../security/passwords.ts';
import { testPerson } from '../../test-support/people.ts';
import { handOut, liftOnSignIn } from './run-credentials.ts';

type Creds = { gp_user_id: string; gp_linkage_key: string; gp_ods_code: string };
const SCOPE = 'openid profile gp_integration_credentials';

for (const dialect of DIALECTS) {
  describe(`the stand-in GP system (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    let hash: string;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit', { scopes: ['openid', 'profile', 'email', 'phone', 'gp_integration_credentials'], im1: true });
      hash = await hashPassword('Passw0rd$1');
    });
    after(() => app.stop());

    /** A P9 person linked to a GP account of their own, in `state`. */
    async function linked(state: GpState = 'current') {
      const id = randomUUID();
      const email = `gp-${id}@example.org`;
      const creds: Creds = { gp_user_id: String(Date.now()).slice(-10), gp_linkage_key: id.slice(0, 13), gp_ods_code: 'B85036' };
      await insertPerson(app.database.db, testPerson('P9', {
        env: 'sandpit', id, email, password_hash: hash, im1: 1, ...creds, created_at: Date.now(),
      }));
      if (state !== 'current') await setGpState(app.database.db, 'sandpit', id, state);
      return { id, email, creds };
    }

    async function session(body: unknown, o: { raw?: string; env?: string } = {}) {
      const res = await app.fetch(`http://localhost:3000/${o.env ?? 'sandpit'}/gp-system/session`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: o.raw ?? JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, string> };
    }

    /** A real sign-in by the RP (the login process restarted), and the credentials userinfo then returns. */
    async function signInAgain(email: string): Promise<Creds | undefined> {
      const r = await login(app, rp, { email, vtr: ['P9.Cp.Cd'], scope: SCOPE });
      const userinfo = await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub);
      return userinfo.gp_integration_credentials as Creds | undefined;
    }

    test('current credentials open a Linked session', async () => {
      const p = await linked();
      const r = await session(p.creds);
      assert.equal(r.status, 200);
      assert.equal(r.body.ApplicationLinkLevel, 'Linked');
      assert.match(r.body.SessionId!, /^[0-9a-f-]{36}$/);
    });

    test('hostile bodies are 400 invalid_request, never a 500', async () => {
      const p = await linked();
      for (const raw of ['not json', '[]', 'null', '"x"', JSON.stringify({ ...p.creds, gp_user_id: ['x'] }),
        JSON.stringify({ ...p.creds, gp_ods_code: { a: 1 } }), JSON.stringify({ gp_user_id: p.creds.gp_user_id }),
        JSON.stringify({ ...p.creds, gp_linkage_key: 'x'.repeat(5000) })]) {
        const r = await session(undefined, { raw });
        assert.equal(r.status, 400, raw.slice(0, 40));
        assert.equal(r.body.error, 'invalid_request', raw.slice(0, 40));
      }
    });

    test('unknown credentials are 401 credentials_invalid', async () => {
      const p = await linked();
      const r = await session({ ...p.creds, gp_ods_code: 'Z99999' });
      assert.deepEqual([r.status, r.body.error], [401, 'credentials_invalid']);
    });

    test('each answer is counted in the metrics: Linked, Restricted, or the refusal\'s code', async () => {
      const p = await linked('restricted');
      await session(p.creds);
      await session({ ...p.creds, gp_ods_code: 'Z99999' });
      const text = (await app.metricsServer.inject('/metrics')).body;
      assert.match(text, /^toolkit_gp_sessions_total\{answer="Restricted",env="sandpit"\} [1-9]/m);
      assert.match(text, /^toolkit_gp_sessions_total\{answer="credentials_invalid",env="sandpit"\} [1-9]/m);
    });

    test('live has no stand-in GP system', async () => {
      const p = await linked();
      assert.equal((await session(p.creds, { env: 'live' })).status, 404);
    });

    for (const [state, changed] of [['moved_practice', ['gp_ods_code']], ['merged', ['gp_ods_code']],
      ['system_changed', ['gp_user_id', 'gp_linkage_key']]] as const) {
      test(`${state}: refused until the next sign-in, which returns refreshed credentials that work`, async () => {
        const p = await linked(state);
        assert.deepEqual([(await session(p.creds)).status, (await session(p.creds)).body.error], [401, 'credentials_invalid']);
        const fresh = (await signInAgain(p.email))!;
        const differ = (Object.keys(p.creds) as (keyof Creds)[]).filter((k) => fresh[k] !== p.creds[k]);
        assert.deepEqual(differ.sort(), [...changed].sort());
        assert.equal((await session(fresh)).body.ApplicationLinkLevel, 'Linked');
        assert.equal((await session(p.creds)).status, 401);
        assert.equal((await findPerson(app.database.db, 'sandpit', p.id))!.gp_state, 'current');
      });
    }

    test('revoked: refused, and a new sign-in returns the same refused credentials', async () => {
      const p = await linked('revoked');
      assert.equal((await session(p.creds)).status, 401);
      assert.deepEqual(await signInAgain(p.email), p.creds);
      assert.equal((await session(p.creds)).status, 401);
      assert.equal((await findPerson(app.database.db, 'sandpit', p.id))!.gp_state, 'revoked');
    });

    test('restricted: Restricted until a real sign-in, then Linked with the same credentials', async () => {
      const p = await linked('restricted');
      assert.equal((await session(p.creds)).body.ApplicationLinkLevel, 'Restricted');
      assert.deepEqual(await signInAgain(p.email), p.creds);
      assert.equal((await session(p.creds)).body.ApplicationLinkLevel, 'Linked');
    });

    test('each call and each state change is in the protocol record', async () => {
      const p = await linked('restricted');
      await session(p.creds);
      await session({ ...p.creds, gp_ods_code: 'Z99999' });
      await signInAgain(p.email);
      await app.events.flush();
      const rows = await app.database.db.selectFrom('protocol_event').select(['kind', 'outcome', 'error'])
        .where('env', '=', 'sandpit').where('kind', 'in', ['gp_session', 'gp_state']).where('person', '=', p.id).execute();
      assert.deepEqual(rows.map((r) => `${r.kind}:${r.outcome}`).sort(), ['gp_session:ok', 'gp_state:ok']);
    });

    test("a conformance test's own credentials: refused every time, or Restricted until a sign-in, in the run's record", async () => {
      const mark = { runId: randomUUID(), testId: 'im1-gp-restricted', fault: 'userinfo_gp_restricted' as const };
      const c = await handOut(app.database.db, 'sandpit', rp.client.clientId, mark, { gp_ods_code: 'B85036' });
      const again = await handOut(app.database.db, 'sandpit', rp.client.clientId, mark, { gp_ods_code: 'B85036' });
      assert.deepEqual(again, c, 'the same for each sign-in');
      const d = { db: app.database.db, events: app.events };
      assert.equal((await session(c)).body.ApplicationLinkLevel, 'Restricted');
      assert.equal((await session({ ...c, gp_linkage_key: 'another-key12' })).status, 401, 'the whole credentials, not the id');
      await liftOnSignIn(d, 'sandpit', { ...mark, testId: 'another-test' });
      assert.equal((await session(c)).body.ApplicationLinkLevel, 'Restricted', "another test's sign-in lifts nothing");
      await liftOnSignIn(d, 'sandpit', mark);
      assert.equal((await session(c)).body.ApplicationLinkLevel, 'Linked');
      assert.equal((await handOut(app.database.db, 'sandpit', rp.client.clientId, mark, {})).gp_linkage_key, c.gp_linkage_key);
      assert.equal((await session(c)).body.ApplicationLinkLevel, 'Linked', 'handed out again, still lifted');

      const revoked = { ...mark, testId: 'im1-gp-refused', fault: 'userinfo_gp_revoked' as const };
      const r = await handOut(app.database.db, 'sandpit', rp.client.clientId, revoked, { gp_ods_code: 'B85036' });
      assert.notEqual(r.gp_user_id, c.gp_user_id);
      await liftOnSignIn(d, 'sandpit', revoked);
      assert.deepEqual([(await session(r)).status, (await session(r)).body.error], [401, 'credentials_invalid']);
      await app.events.flush();
      const rows = await app.database.db.selectFrom('protocol_event').select(['kind', 'outcome', 'details'])
        .where('client_id', '=', rp.client.clientId).where('kind', 'in', ['gp_session', 'gp_state']).execute();
      const mine = rows.filter((e) => JSON.parse(e.details ?? '{}').run === mark.runId).map((e) => `${e.kind}:${e.outcome}`);
      assert.deepEqual(mine.sort(), ['gp_session:error', 'gp_session:error', 'gp_session:ok', 'gp_session:ok', 'gp_session:ok',
        'gp_session:ok', 'gp_state:ok']);
    });
  });
}
