/** `toolkit organisations create`: the operator makes a partner organisation for a CI's own toolkit, with an API token. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/index.ts';
import { openDatabase, type Database } from '../storage/index.ts';
import { acceptInvitation, actorForToken } from '../onboarding/index.ts';
import { main } from './main.ts';

describe('toolkit organisations create (sqlite)', () => {
  let dir: string;
  let env: Record<string, string>;
  let database: Database;
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const exit = await main(['organisations', 'create', ...args], { out: (t) => out.push(t), err: (t) => err.push(t) }, env);
    return { exit, out: out.join('\n'), err: err.join('\n') };
  };
  const organisations = async () => (await database.db.selectFrom('organisation').select('id').execute()).length;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'toolkit-orgs-'));
    env = { DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`, PUBLIC_URL: 'https://toolkit.example' };
    assert.equal((await run('--name', 'Warm-up', '--email', 'warm@up.example')).exit, 0); // migrates the database
    database = await openDatabase(loadConfig(env).database);
  });
  after(async () => {
    await database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('prints the organisation, its admin\'s invitation link and an API token that acts for it', async () => {
    const r = await run('--name', 'CI Health Ltd', '--email', 'Lead@CI.example', '--ods', 'a1b2c', '--token-name', 'pipeline', '--json');
    assert.equal(r.exit, 0, r.err);
    const printed = JSON.parse(r.out) as { organisation_id: string; name: string; invitation_link: string; api_token: string };
    assert.equal(printed.name, 'CI Health Ltd');
    assert.match(printed.invitation_link, /^https:\/\/toolkit\.example\/portal\/invitations\/[\w-]+$/);
    const actor = await actorForToken(database.db, printed.api_token);
    assert.equal(actor?.organisation.id, printed.organisation_id);
    const org = await database.db.selectFrom('organisation').selectAll().where('id', '=', printed.organisation_id).executeTakeFirst();
    assert.equal(org?.ods_code, 'A1B2C');
    // The invited admin, signed up with that address, joins as the partner admin.
    const secret = printed.invitation_link.split('/').pop()!;
    assert.equal(await acceptInvitation(database.db, { id: 'lead-user', email: 'lead@ci.example' }, secret), printed.organisation_id);
    const member = await database.db.selectFrom('membership').select('role').where('user_id', '=', 'lead-user').executeTakeFirst();
    assert.equal(member?.role, 'partner_admin');
  });

  test('without --token-name there is no token; the text says where the link goes', async () => {
    const r = await run('--name', 'No Token Ltd', '--email', 'admin@notoken.example');
    assert.equal(r.exit, 0, r.err);
    assert.match(r.out, /^Organisation No Token Ltd created: [\w-]+\. Send its partner admin this invitation link/);
    assert.doesNotMatch(r.out, /API token/);
  });

  test('a missing --email is a usage error, a bad one names the field; neither creates anything', async () => {
    const before = await organisations();
    const missing = await run('--name', 'Nobody Ltd');
    assert.equal(missing.exit, 2);
    assert.match(missing.err, /--email is required/);
    const bad = await run('--name', 'Nobody Ltd', '--email', 'not-an-address', '--token-name', 'ci');
    assert.equal(bad.exit, 1);
    assert.match(bad.err, /invalid_email|email address/);
    const noName = await run('--name', ' ', '--email', 'a@b.example', '--token-name', 'ci');
    assert.notEqual(noName.exit, 0);
    assert.equal(await organisations(), before);
  });
});
