/**
 * Users Endpoint V2 on the portal's client page: who to ask until the NHS login team approves it, then everything
 * the partner's server needs to call it (the token endpoint, the grant, the environment's exact scope, the endpoint).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startTestApp, type TestApp } from '../test-support/harness.ts';
import type { Browser } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { textOf } from '../test-support/text.ts';
import { registerClient } from '../identity/index.ts';
import { approveClient, createOrganisation } from '../onboarding/index.ts';

const publicKeyPem = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;

describe('portal: Users Endpoint V2 on the client page', () => {
  let app: TestApp;
  let b: Browser;
  let orgId: string;
  /** A client of the organisation in `env`, approved for Users Endpoint V2 or not; the page's row as read. */
  const rowFor = async (env: 'sandpit' | 'integration', usersV2: boolean) => {
    const c = await registerClient(app.database.db, {
      env, organisationId: orgId, name: `Look-up ${env}`, redirectUris: ['https://lookup.example.org/cb'],
      scopes: ['openid', 'profile'], vtr: ['P9.Cp.Cd'], publicKeyPem,
    });
    if (usersV2) {
      await approveClient(app.database.db, 'dm@nhs.example', env, c.clientId, { scopes: c.scopes, vtr: c.vtr, im1: false, usersV2 });
    }
    const page = await b.get(`/portal/organisations/${orgId}/clients/${c.clientId}`);
    assert.equal(page.status, 200);
    return { text: page.text, row: textOf(page.text, 'users-v2') };
  };
  before(async () => {
    app = await startTestApp('sqlite');
    orgId = (await createOrganisation(app.database.db, 'user-owner', { name: 'Lookup Ltd' })).id;
    b = await partnerIn(app, orgId, 'lookup@example.org', 'developer');
  });
  after(() => app.stop());

  test('not approved, the row says so and whom to ask, and gives no scope to ask for', async () => {
    const { text, row } = await rowFor('sandpit', false);
    assert.match(row ?? '', /^Not approved: ask the NHS login team in messages ?\.$/); // the link's end tag reads as a space
    assert.match(text, new RegExp(`href="/portal/organisations/${orgId}/messages">messages</a>`));
    assert.doesNotMatch(text, /Users\.retrieve/);
  });

  test('approved, the row gives the token endpoint, the grant, the exact scope and the endpoint', async () => {
    const { text, row } = await rowFor('sandpit', true);
    assert.equal(row, 'Approved');
    assert.deepEqual(
      ['users-v2-token-endpoint', 'users-v2-grant-type', 'users-v2-scope', 'users-v2-endpoint'].map((id) => textOf(text, id)),
      [
        'http://localhost:3000/sandpit/token',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
        'https://auth.sandpit.signin.nhs.uk/Users.retrieve',
        'http://localhost:3000/sandpit/v2/Users',
      ],
    );
  });

  test('an integration client is given integration\'s scope, as NHS login names it', async () => {
    const { text } = await rowFor('integration', true);
    assert.equal(textOf(text, 'users-v2-scope'), 'https://auth.aos.signin.nhs.uk/Users.retrieve');
    assert.equal(textOf(text, 'users-v2-endpoint'), 'http://localhost:3000/integration/v2/Users');
  });

  test("each environment's interface reference documents it: the endpoint, the exact scope, every error of its tables", async () => {
    const page = await b.get('/portal/reference/integration');
    const endpoints = textOf(page.text, 'users-v2-endpoints') ?? '';
    assert.match(endpoints, /GET http:\/\/localhost:3000\/integration\/v2\/Users\?filter=/);
    assert.match(endpoints, /https:\/\/auth\.aos\.signin\.nhs\.uk\/Users\.retrieve/);
    const errors = textOf(page.text, 'users-v2-errors') ?? '';
    const some = ['Query string "filter" not present', 'More than 5 expressions provided', 'Invalid NHS number', 'No scope was present'];
    for (const text of some)
      assert.ok(errors.includes(text.replace(/"/g, '&quot;')) || errors.includes(text), text);
  });
});
