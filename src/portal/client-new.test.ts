/** The client registration form offers each kind of key its words name, and a refused form keeps what was typed. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { exportJWK } from 'jose';
import { startTestApp, type TestApp } from '../test-support/harness.ts';
import { csrfOf, type Browser } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { errorSummaryItems, fieldValue, readableText } from '../test-support/text.ts';
import { createOrganisation } from '../onboarding/index.ts';
import { getClient } from '../storage/index.ts';

const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});
describe('portal: register a client', () => {
  let app: TestApp;
  let b: Browser;
  let url: string;
  before(async () => {
    app = await startTestApp('sqlite');
    const org = await createOrganisation(app.database.db, 'user-owner', { name: 'Keys Ltd' });
    b = await partnerIn(app, org.id, 'keys@example.org', 'developer');
    url = `/portal/organisations/${org.id}/clients/new`;
  });
  after(() => app.stop());

  const submit = async (fields: Record<string, string>) =>
    b.post(url, new URLSearchParams({ _csrf: csrfOf(await b.get(url)), vtr: 'P9.Cp.Cd', ...fields }));

  test('the form offers the three kinds of key its words name: a PEM, a JWKS and a JWKS URL', async () => {
    const form = await b.get(url);
    const text = readableText(form.text);
    assert.match(text, /^Public key\nGive one of these: a public key \(PEM\), typed or uploaded as a file; a JWKS; or a JWKS URL\.$/m);
    for (const id of ['public_key', 'jwks', 'jwks_uri']) assert.equal(fieldValue(form.text, id), '', `a field for it: #${id}`);
    for (const label of ['Public key (PEM)', 'Or a JWKS (JSON)', 'Or a JWKS URL']) assert.ok(text.split('\n').includes(label), label);
  });

  test('a client registers with a pasted JWKS', async () => {
    const jwk = { ...(await exportJWK(createPublicKey(keys.publicKey))), kid: 'partner-key-1' };
    const page = await submit({
      name: 'JWKS service',
      redirect_uris: 'https://jwks.example.org/cb',
      jwks: JSON.stringify({ keys: [jwk] }, null, 2),
    });
    const clientId = /id="client-id">([0-9a-f]+)</.exec(page.text)?.[1];
    assert.ok(clientId, `registered: ${errorSummaryItems(page.text).join('; ')}`);
    assert.deepEqual((await getClient(app.database.db, 'sandpit', clientId))!.jwks!.keys.map((k) => k.kid), ['partner-key-1']);
  });

  test('a JWKS that is not one is refused against its own field, with every answer kept', async () => {
    const page = await submit({ name: 'Broken JWKS', redirect_uris: 'https://broken.example.org/cb', jwks: '{"keys": [' });
    assert.equal(page.status, 400);
    assert.deepEqual(errorSummaryItems(page.text), ['The JWKS must be a JSON object with a non-empty "keys" array']);
    assert.match(page.text, /href="#jwks"/);
    assert.equal(fieldValue(page.text, 'jwks'), '{"keys": [');
    assert.equal(fieldValue(page.text, 'name'), 'Broken JWKS');
    assert.equal(fieldValue(page.text, 'redirect_uris'), 'https://broken.example.org/cb');
  });

  test('two kinds of key at once: one problem, and everything typed is still in the form', async () => {
    const page = await submit({
      name: 'Both keys',
      redirect_uris: 'https://both.example.org/cb',
      public_key: keys.publicKey,
      jwks_uri: 'https://both.example.org/jwks.json',
    });
    assert.equal(page.status, 400);
    assert.deepEqual(errorSummaryItems(page.text), ['Give exactly one of: a public key (PEM), a JWKS, or a JWKS URL']);
    assert.equal(fieldValue(page.text, 'public_key')!.trim(), keys.publicKey.trim());
    assert.equal(fieldValue(page.text, 'jwks_uri'), 'https://both.example.org/jwks.json');
    assert.equal(fieldValue(page.text, 'name'), 'Both keys');
  });
});

