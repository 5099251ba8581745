/**
 * The request trace's advice, chosen by the record's codes (storage/record.ts): by the failure's cause where it has
 * advice of its own, else by its code. The trace as a partner reads it is also tested through the portal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestDatabase } from '../test-support/harness.ts';
import { createEventSink, type Database } from '../storage/index.ts';
import { adviceFor, requestTrace } from './trace.ts';

test('a replayed client assertion is advised a fresh jti', () => {
  assert.match(adviceFor({ error: 'invalid_client', cause: 'assertion_replayed' }).fix ?? '', /fresh random jti/);
});

test('an assertion signed with the wrong algorithm is advised RS512, in the endpoints section', () => {
  const advice = adviceFor({ error: 'invalid_client', cause: 'assertion_alg' });
  assert.match(advice.fix ?? '', /RS512/);
  assert.equal(advice.section, 'endpoints');
});

test('a cause without advice of its own gets its code\'s (a suspended client\'s token is invalid_token)', () => {
  assert.match(adviceFor({ error: 'invalid_token', cause: 'client_suspended' }).fix ?? '', /access token from the token response/);
});

test('insufficient_scope is advised about the scope, not about the token', () => {
  assert.match(adviceFor({ error: 'insufficient_scope', cause: null }).fix ?? '', /lacks the scope/);
});

test('a journey\'s code is advised by itself: a wrong security code names the test code', () => {
  assert.match(adviceFor({ error: 'wrong_otp', cause: null }).fix ?? '', /190696/);
});

test('a Provision Account refusal is advised by its own code: 11010 names the field check', () => {
  const advice = adviceFor({ error: '11010', cause: null, kind: 'provision' });
  assert.match(advice.fix ?? '', /each field's format/);
  assert.equal(advice.section, 'provision-account');
});

test('Provision Account\'s not_found is advised about its own path, not Users Endpoint V2\'s', () => {
  assert.match(adviceFor({ error: 'not_found', cause: null, kind: 'provision' }).fix ?? '', /POST \/provision-account/);
});

test('a failure with no advice says nothing rather than guessing', () => {
  assert.deepEqual(adviceFor({ error: 'server_error', cause: null }), { fix: null, reference: null, section: null });
});

for (const dialect of DIALECTS) {
  describe(`request trace (${dialect})`, () => {
    let database: Database & { close(): Promise<void> };
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    test('a row shows its failure in words, its codes, the engine\'s detail and the advice; a success has none', async () => {
      const sink = createEventSink(database.db, (err) => assert.fail(String(err)));
      sink.record({
        env: 'sandpit',
        clientId: 'c1',
        kind: 'token',
        outcome: 'error',
        error: 'invalid_client',
        cause: 'assertion_audience',
        description: 'client authentication failed',
        details: { detail: 'aud was x' },
      });
      sink.record({ env: 'sandpit', clientId: 'c1', kind: 'userinfo', outcome: 'ok' });
      await sink.flush();
      const rows = await requestTrace(database.db, 'sandpit', 'c1');
      const [ok, failed] = [rows.find((r) => r.outcome === 'ok'), rows.find((r) => r.outcome === 'error')];
      assert.deepEqual([ok!.kind, ok!.reason, ok!.fix], ['userinfo', null, null]);
      assert.deepEqual(
        [failed!.error, failed!.cause, failed!.reason, failed!.detail],
        ['invalid_client', 'assertion_audience', 'invalid_client: client authentication failed', 'aud was x'],
      );
      assert.match(failed!.fix ?? '', /token endpoint URL exactly/);
    });
  });
}
