/**
 * Provision Account on the portal: the client page's row (who to ask until the NHS login team approves it, then its
 * ODS codes and what to call), and the environment's interface reference section with every error and our choices.
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

describe('portal: Provision Account', () => {
  let app: TestApp;
  let b: Browser;
  let orgId: string;
  const pageFor = async (approved: boolean) => {
    const c = await registerClient(app.database.db, {
      env: 'sandpit', organisationId: orgId, name: 'Provisioner', redirectUris: ['https://provision.example.org/cb'],
      scopes: ['openid', 'profile'], vtr: ['P9.Cp.Cd'], publicKeyPem,
    });
    if (approved) {
      await approveClient(app.database.db, 'dm@nhs.example', 'sandpit', c.clientId, {
        scopes: c.scopes, vtr: c.vtr, im1: false, usersV2: false, provisioning: true, provisioningOds: ['A00002', 'B85036'],
      });
    }
    const page = await b.get(`/portal/organisations/${orgId}/clients/${c.clientId}`);
    assert.equal(page.status, 200);
    return page.text;
  };
  before(async () => {
    app = await startTestApp('sqlite');
    orgId = (await createOrganisation(app.database.db, 'user-owner', { name: 'Provision Ltd' })).id;
    b = await partnerIn(app, orgId, 'provision@example.org', 'developer');
  });
  after(() => app.stop());

  test('not approved, the row says so and whom to ask', async () => {
    const text = await pageFor(false);
    assert.match(textOf(text, 'provisioning') ?? '', /^Not approved: ask the NHS login team in messages ?\.$/);
  });

  test('approved, the row names the ODS codes, the token endpoint and the endpoint', async () => {
    const text = await pageFor(true);
    assert.equal(textOf(text, 'provisioning'), 'Approved for ODS A00002, B85036');
    assert.equal(textOf(text, 'provisioning-token-endpoint'), 'http://localhost:3000/sandpit/token');
    assert.equal(textOf(text, 'provisioning-endpoint'), 'http://localhost:3000/sandpit/provision-account');
  });

  test('the interface reference lists every error of Table 11 with its status, and the choices we made', async () => {
    const page = await b.get('/portal/reference/sandpit');
    const errors = textOf(page.text, 'provisioning-errors') ?? '';
    for (const code of ['11000 (503)', '11001', '11002', '11003', '11004', '11005', '11006', '11007', '11008', '11009', '11010',
      '11011 (429)', '11018', '11019', '11021']) assert.ok(errors.includes(code), code);
    assert.ok(errors.includes('User already has a pending provision account request from within last 7 days.'));
    assert.match(textOf(page.text, 'provisioning-assumptions') ?? '', /Modulus 11/);
  });
});
