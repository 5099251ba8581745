/** Fault sequences: armed in order for one client, each step for the responses it fits; counted once across requests. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { createRp, login, signIn, REDIRECT_URI, type TestRp } from '../test-support/rp.ts';
import { getClient } from '../storage/index.ts';
import { addFault, armFaults, checkSteps, describeFaults } from './fault-sequence.ts';
import { FaultError } from './faults.ts';

test('a sequence is refused with the step and field it is about', () => {
  const refused = (steps: unknown, field: string) =>
    assert.throws(() => checkSteps(steps), (e: FaultError) => e instanceof FaultError && e.field === field, field);
  refused([], 'steps');
  refused('token_server_error', 'steps');
  refused(Array.from({ length: 21 }, () => ({ kind: 'pass', count: 1 })), 'steps');
  refused([{ kind: 'pass', count: 1 }, { kind: 'nope' }], 'steps.2.kind');
  refused([{ kind: 'pass', count: 0 }], 'steps.1.count');
  refused([{ kind: 'pass', count: '1' }], 'steps.1.count');
  refused([{ kind: 'pass', seconds: 3601 }], 'steps.1.seconds');
  refused([{ kind: 'pass', count: 1, seconds: 1 }], 'steps.1.seconds');
  refused([{ kind: 'token_server_error' }, { kind: 'pass', count: 1 }], 'steps.1.count'); // only the last lasts until cleared
  refused([{ kind: 'token_latency', count: 1 }], 'steps.1.ms');
  refused([{ kind: 'token_latency', count: 1, ms: 30_001 }], 'steps.1.ms');
  refused([{ kind: 'token_server_error', count: 1, ms: 5 }], 'steps.1.ms');
  assert.equal(checkSteps([{ kind: 'token_latency', seconds: 5, ms: 200 }, { kind: 'id_token_expired' }]).length, 2);
});

test('a timed step ends by itself and the next one applies from then', () => {
  const t0 = 1_000_000;
  const seq = {
    armedAt: t0,
    steps: [
      { kind: 'token_server_error', count: null, seconds: 10, ms: null, fired: 0, startedAt: t0 },
      { kind: 'id_token_expired', count: 1, seconds: null, ms: null, fired: 0, startedAt: null },
    ],
  };
  assert.deepEqual(describeFaults(seq, t0 + 9_999)!.steps.map((s) => s.state), ['applies', 'waiting']);
  const later = describeFaults(seq, t0 + 10_000)!.steps;
  assert.deepEqual(later.map((s) => s.state), ['done', 'applies']);
  assert.equal(later[1]!.startedAt, t0 + 10_000);
});

for (const dialect of DIALECTS) {
  describe(`fault sequences (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
    });
    after(() => app.stop());

    const codes = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await signIn(app, rp, {})).callback!.searchParams.get('code')!);
      return out;
    };
    const redeem = async (code: string) => {
      const res = await app.fetch(rp.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await rp.assertion(),
        }).toString(),
      });
      return { status: res.status, body: (await res.json()) as { error?: string; id_token?: string; access_token?: string } };
    };
    const steps = async () => describeFaults((await getClient(app.database.db, 'sandpit', rp.client.clientId))!.fault)!.steps;

    test('fail, answer normally, then an expired ID token: in that order, then every response is clean', async () => {
      await armFaults(app.database.db, 'sandpit', rp.client.clientId, [
        { kind: 'token_temporarily_unavailable', count: 1 }, { kind: 'pass', count: 1 }, { kind: 'id_token_expired', count: 1 },
      ]);
      const [a, b, c, d] = await codes(4);
      assert.equal((await redeem(a!)).body.error, 'temporarily_unavailable');
      const normal = await redeem(b!);
      assert.ok(Number(decodeJwt(normal.body.id_token!).exp) > Date.now() / 1000, 'the pause answered normally');
      assert.ok(Number(decodeJwt((await redeem(c!)).body.id_token!).exp) < Date.now() / 1000, 'then the ID token expired');
      assert.ok(Number(decodeJwt((await redeem(d!)).body.id_token!).exp) > Date.now() / 1000, 'then nothing more');
      assert.deepEqual((await steps()).map((s) => [s.state, s.fired]), [['done', 1], ['done', 1], ['done', 1]]);
    });

    test('a response the step does not fit goes through and leaves the sequence where it is', async () => {
      const signedIn = await login(app, rp, {});
      await armFaults(app.database.db, 'sandpit', rp.client.clientId, [{ kind: 'token_server_error', count: 1 }]);
      assert.equal((await oidc.fetchUserInfo(rp.config, signedIn.tokens.access_token, signedIn.claims.sub)).sub, signedIn.claims.sub);
      assert.deepEqual((await steps()).map((s) => [s.state, s.fired]), [['applies', 0]]);
      assert.equal((await redeem((await codes(1))[0]!)).status, 500);
    });

    test('each fault that fires is in the trace, with its step', async () => {
      // The entries already there, by id: the last test's fault can be written in the millisecond this one starts.
      const faultEntries = () => app.database.db.selectFrom('protocol_event').select(['id', 'details'])
        .where('client_id', '=', rp.client.clientId).where('kind', '=', 'fault').execute();
      const earlier = new Set((await faultEntries()).map((e) => e.id));
      const steps = [{ kind: 'pass', count: 1 }, { kind: 'token_server_error', count: 1 }];
      await armFaults(app.database.db, 'sandpit', rp.client.clientId, steps);
      for (const code of await codes(2)) await redeem(code);
      await app.events.flush();
      const fired = (await faultEntries()).filter((e) => !earlier.has(e.id));
      const details = fired.map((e) => JSON.parse(e.details!) as { fault: string; step: number }).sort((x, y) => x.step - y.step);
      assert.deepEqual(details.map((d) => [d.fault, d.step]), [['pass', 1], ['token_server_error', 2]]);
    });

    test('a delay holds the token response back by its milliseconds', async () => {
      await armFaults(app.database.db, 'sandpit', rp.client.clientId, [{ kind: 'token_latency', count: 1, ms: 400 }]);
      const [code] = await codes(1);
      const started = performance.now();
      assert.equal((await redeem(code!)).status, 200);
      assert.ok(performance.now() - started >= 400, 'answered after the delay');
    });

    test('concurrent token requests use up a count exactly once each', async () => {
      await armFaults(app.database.db, 'sandpit', rp.client.clientId, [{ kind: 'token_server_error', count: 3 }]);
      const answers = await Promise.all((await codes(8)).map(redeem));
      assert.equal(answers.filter((r) => r.status === 500).length, 3);
      assert.equal(answers.filter((r) => r.status === 200).length, 5);
      assert.deepEqual((await steps()).map((s) => s.fired), [3]);
    });

    test('a fault added to a used-up sequence starts a new one; none after one that lasts until cleared', async () => {
      await armFaults(app.database.db, 'sandpit', rp.client.clientId, [{ kind: 'pass', count: 1 }]);
      await redeem((await codes(1))[0]!);
      await addFault(app.database.db, 'sandpit', rp.client.clientId, { kind: 'token_server_error' });
      assert.deepEqual((await steps()).map((s) => [s.kind, s.state]), [['token_server_error', 'applies']]);
      await assert.rejects(addFault(app.database.db, 'sandpit', rp.client.clientId, { kind: 'pass', count: 1 }), FaultError);
      await assert.rejects(armFaults(app.database.db, 'live', rp.client.clientId, [{ kind: 'pass', count: 1 }]), FaultError);
    });
  });
}
