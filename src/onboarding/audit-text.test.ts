/** The audit trail in words (audit-text.ts): each kind of entry read as a sentence, with names for ids. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { openTestDatabase } from '../test-support/harness.ts';
import type { AuditTable, Database } from '../storage/index.ts';
import { registerClient } from '../identity/index.ts';
import { readableAudit } from './audit-text.ts';

const publicKeyPem = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;
let database: Database & { close(): Promise<void> };
const ids: Record<string, string> = {};
before(async () => {
  database = await openTestDatabase('sqlite');
  for (const name of ['Booking', 'Records']) {
    const c = await registerClient(database.db, {
      env: 'sandpit',
      name,
      redirectUris: ['https://svc.example/cb'],
      scopes: ['openid'],
      vtr: ['P9.Cp.Cd'],
      publicKeyPem,
    });
    ids[name] = c.clientId;
  }
});
after(() => database.close());

const entry = (action: string, subject: string, details: unknown = {}): AuditTable =>
  ({ seq: 1, at: 0, actor: 'dm@nhs.example', action, subject, details: JSON.stringify(details), prev_hash: '', hash: '' });
const read = async (e: AuditTable) => (await readableAudit(database.db, [e]))[0]!;

test('a single sign-on change names the client and the clients it pairs with', async () => {
  const r = await read(entry('client.sso_pairs', `sandpit:${ids.Booking}`, { from: [], to: [ids.Records] }));
  assert.deepEqual(
    [r.what, r.subject, r.details],
    ['Changed which clients it may single sign-on into', 'Booking (sandpit client)', ['Before: none', 'Now: Records']],
  );
  assert.equal(r.href, `/console/clients/sandpit/${ids.Booking}`);
});

test('changed approvals read as what is approved now and what was', async () => {
  const r = await read(
    entry('client.approvals', `sandpit:${ids.Records}`, {
      from: { scopes: ['openid'], vtr: ['P9.Cp.Cd'], im1: false },
      to: { scopes: ['openid', 'profile'], vtr: ['P9.Cp.Cd'], im1: true },
    }),
  );
  assert.deepEqual(r.details, ['Scopes: openid, profile (were openid)', 'Vectors of trust: P9.Cp.Cd (were P9.Cp.Cd)', 'IM1: yes (was no)']);
});

test('changed approvals say whether Users Endpoint V2 is approved now and whether it was', async () => {
  const r = await read(
    entry('client.approvals', `sandpit:${ids.Records}`, {
      from: { scopes: ['openid'], vtr: ['P9.Cp.Cd'], im1: false, usersV2: false },
      to: { scopes: ['openid'], vtr: ['P9.Cp.Cd'], im1: false, usersV2: true },
    }),
  );
  assert.equal(r.details.at(-1), 'Users Endpoint V2: yes (was no)');
});

test('a failed console sign-in says which factor, for the team; a role change names the roles', async () => {
  assert.deepEqual((await read(entry('console.sign_in_failed', 'dm@nhs.example', { reason: 'code' }))).details, ['The code was not right']);
  assert.deepEqual((await read(entry('team.change_role', 'dm@nhs.example', { from: 'delivery_manager', to: 'team_admin' }))).details, [
    'from delivery manager to team admin',
  ]);
});

test('a subject no longer registered says so; an action nobody has described shows its code and its fields', async () => {
  const gone = await read(entry('partner.delivery_manager', 'an-organisation-since-deleted', { manager: null }));
  assert.deepEqual(
    [gone.subject, gone.href, gone.details],
    ['An organisation no longer registered', undefined, ['Delivery manager: none']],
  );
  const unknown = await read(entry('made.up', 'someone@example.org', { reason: 'Tidying', count: 3 }));
  assert.deepEqual([unknown.what, unknown.details], ['made.up', ['Reason: Tidying', 'count: 3']]);
});
