/**
 * Session limits on the portal's client page (identity/session-rules.ts): a sandpit client's partner sets them, sees
 * them, and clears them; a refused value is the error summary with what was typed; other environments have no form.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startTestApp, type TestApp } from '../test-support/harness.ts';
import { csrfOf, type Browser } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { registerClient } from '../identity/index.ts';
import { createOrganisation } from '../onboarding/index.ts';
import { getClient } from '../storage/index.ts';

const publicKeyPem = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;

describe('portal: session limits on the client page', () => {
  let app: TestApp;
  let b: Browser;
  let orgId: string;
  const client = (env: 'sandpit' | 'integration') => registerClient(app.database.db, {
    env, organisationId: orgId, name: `Sessions ${env}`, redirectUris: ['https://sessions.example.org/cb'],
    scopes: ['openid', 'profile'], vtr: ['P9.Cp.Cd'], publicKeyPem,
  });
  const save = async (path: string, idle: string, absolute: string) =>
    b.post(`${path}/session-rules`,
      new URLSearchParams({ _csrf: csrfOf(await b.get(path)), idle_minutes: idle, absolute_minutes: absolute }));
  before(async () => {
    app = await startTestApp('sqlite');
    orgId = (await createOrganisation(app.database.db, 'sessions-owner', { name: 'Sessions Ltd' })).id;
    b = await partnerIn(app, orgId, 'sessions@example.org', 'developer');
  });
  after(() => app.stop());

  test('a sandpit client sets its limits, sees them on the page, and clears them', async () => {
    const c = await client('sandpit');
    const path = `/portal/organisations/${orgId}/clients/${c.clientId}`;
    let page = await save(path, '2', '5');
    assert.match(page.url, /#session-rules$/);
    assert.match(page.text, /id="idle_minutes"[^>]*value="2"/);
    assert.match(page.text, /id="absolute_minutes"[^>]*value="5"/);
    const stored = (await getClient(app.database.db, 'sandpit', c.clientId))!;
    assert.deepEqual([stored.sessionIdleS, stored.sessionAbsoluteS], [120, 300]);
    page = await save(path, '', '');
    assert.deepEqual([(await getClient(app.database.db, 'sandpit', c.clientId))!.sessionIdleS], [null]);
  });

  test('a limit out of range is the error summary at its field, keeping what was typed', async () => {
    const c = await client('sandpit');
    const page = await save(`/portal/organisations/${orgId}/clients/${c.clientId}`, '45', '5');
    assert.equal(page.status, 400);
    assert.match(page.text, /nhsuk-error-summary/);
    assert.match(page.text, /href="#idle_minutes">\s*Enter a whole number of minutes from 1 to 30/);
    assert.match(page.text, /id="idle_minutes"[^>]*value="45"/);
  });

  test('an integration client has no session limits form (they are the sandpit\'s)', async () => {
    const c = await client('integration');
    const page = await b.get(`/portal/organisations/${orgId}/clients/${c.clientId}`);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, /id="session-rules"/);
  });
});
