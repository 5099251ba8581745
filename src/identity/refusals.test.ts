/**
 * Refusals reach the protocol record classified: every error the engine can raise has a code of the record's own,
 * and the causes read from the engine's wording are pinned against the real engine (an upgrade that rewords one
 * fails here, not silently in the partner's trace).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errors } from 'oidc-provider';
import { OAUTH_ERRORS, UNCLASSIFIED } from '../storage/index.ts';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { createRp, REDIRECT_URI, type TestRp } from '../test-support/rp.ts';
import { because, classify } from './refusals.ts';

/** Every error class the engine exports, but its bases (the custom one carries a code of the caller's choosing). */
const ENGINE_ERRORS = Object.entries(errors).filter(([name]) => name !== 'OIDCProviderError' && name !== 'CustomOIDCProviderError') as
  [string, new (description: string) => Error][];

test('every error the engine can raise is classified into one of the record\'s codes', () => {
  assert.ok(ENGINE_ERRORS.length > 40, 'the engine\'s errors are all looked at');
  for (const [name, E] of ENGINE_ERRORS) {
    const { error } = classify(new E('described'));
    assert.notEqual(error, UNCLASSIFIED, name);
    assert.ok((OAUTH_ERRORS as readonly string[]).includes(error), `${name}: ${error}`);
  }
});

test('an error the engine was given bare (server_error) is server_error', () => {
  assert.deepEqual(classify(new Error('database went away')), { error: 'server_error' });
  assert.deepEqual(classify(undefined), { error: 'server_error' });
});

test('a code outside the record\'s set is unclassified, and kept in words', () => {
  const err = Object.assign(new Error('x'), { error: 'brand_new_code', error_description: 'said so' });
  assert.deepEqual(classify(err), { error: UNCLASSIFIED, description: 'brand_new_code: said so' });
});

test('the description is kept apart from the code, the engine\'s detail apart from both', () => {
  const refusal = classify(new errors.InvalidClientAuth('client assertion tokens must only be used once'));
  assert.deepEqual(refusal, {
    error: 'invalid_client',
    cause: 'assertion_replayed',
    description: 'client authentication failed',
    detail: 'client assertion tokens must only be used once',
  });
});

test('a cause the toolkit gives its own error wins over any wording', () => {
  assert.equal(classify(because('vtr', new errors.InvalidRequest('missing required parameter \'state\''))).cause, 'vtr');
});

async function tokenRequest(app: TestApp, rp: TestRp, form: Record<string, string>) {
  const body = new URLSearchParams({
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    grant_type: 'authorization_code',
    code: 'x',
    redirect_uri: REDIRECT_URI,
    ...form,
  });
  return app.fetch(rp.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
}

for (const dialect of DIALECTS) {
  describe(`the engine's refusals in the record (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit');
    });
    after(() => app.stop());

    const recorded = async () => {
      await app.events.flush();
      return app.database.db.selectFrom('protocol_event').select(['id', 'error', 'cause']).where('client_id', '=', rp.client.clientId)
        .where('kind', '=', 'token').execute();
    };

    test('each client assertion mistake the engine finds is recorded with its own cause', async () => {
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, Record<string, string>, string][] = [
        ['alg RS256', { client_assertion: await rp.assertion({ alg: 'RS256' }) }, 'assertion_alg'],
        ['another key', { client_assertion: await rp.assertion({ otherKey: true }) }, 'assertion_signature'],
        ['expired', { client_assertion: await rp.assertion({ iat: now - 120, exp: now - 60 }) }, 'assertion_expired'],
        ['a made-up code', { client_assertion: await rp.assertion() }, 'code_invalid'],
      ];
      const jti = 'used-once';
      await tokenRequest(app, rp, { client_assertion: await rp.assertion({ jti }) });
      const replayed = ['jti replayed', { client_assertion: await rp.assertion({ jti }) }, 'assertion_replayed'] as const;
      for (const [name, form, cause] of [...cases, replayed]) {
        const seen = new Set((await recorded()).map((r) => r.id));
        await tokenRequest(app, rp, form);
        const added = (await recorded()).filter((r) => !seen.has(r.id));
        assert.deepEqual(added.map((r) => r.cause), [cause], name);
      }
      assert.ok((await recorded()).every((r) => r.error !== UNCLASSIFIED));
    });
  });
}
