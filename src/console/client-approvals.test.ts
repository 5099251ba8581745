/**
 * A client's approvals in the console, on both databases: Users Endpoint V2 is off until the team ticks it, and the
 * change is stored and audited with the scopes and vectors; a refused form keeps what was ticked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { csrfOf, type Browser, type Page } from '../test-support/browser.ts';
import { signInToConsole } from '../test-support/team.ts';
import { errorSummaryItems, readableText } from '../test-support/text.ts';
import { registerClient } from '../identity/index.ts';
import { createOrganisation } from '../onboarding/index.ts';
import { getClient } from '../storage/index.ts';

const publicKeyPem = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
}).publicKey;

/** Whether the page's checkbox with this id is ticked. */
const ticked = (p: Page, id: string) => new RegExp(`<input\\b(?=[^>]*\\bid="${id}")[^>]*\\bchecked\\b`).test(p.text);

for (const dialect of DIALECTS) {
  describe(`console: a client's approvals (${dialect})`, () => {
    let app: TestApp;
    let b: Browser;
    let clientId: string;
    let url: string;
    before(async () => {
      app = await startTestApp(dialect);
      const org = await createOrganisation(app.database.db, 'user-lookup', { name: 'Lookup Health' });
      ({ clientId } = await registerClient(app.database.db, {
        env: 'sandpit', organisationId: org.id, name: 'Lookup service', redirectUris: ['https://lookup.example.org/cb'],
        scopes: ['openid', 'profile'], vtr: ['P9.Cp.Cd'], publicKeyPem,
      }));
      ({ b } = await signInToConsole(app, 'approver@nhs.example', 'delivery_manager'));
      url = `/console/clients/sandpit/${clientId}`;
    });
    after(() => app.stop());

    /** Posts the approvals form as the page shows it, with these changes. */
    const approve = async (fields: Record<string, string | string[]>) => {
      const page = await b.get(url);
      const form = new URLSearchParams({ _csrf: csrfOf(page) });
      for (const [k, v] of Object.entries({ scopes: ['openid', 'profile'], vtr: 'P9.Cp.Cd', ...fields })) {
        for (const x of [v].flat()) form.append(k, x);
      }
      return b.post(`${url}/approvals`, form);
    };

    test('Users Endpoint V2 is offered, unticked, with what it is', async () => {
      const page = await b.get(url);
      assert.equal(ticked(page, 'users_v2'), false);
      const lines = readableText(page.text).split('\n');
      assert.equal(
        lines[lines.indexOf('Users Endpoint V2') + 1],
        'Server-to-server look-up of NHS login users by NHS number or email address. '
          + 'The attributes it returns are limited to this client\'s approved scopes.',
      );
      assert.equal((await getClient(app.database.db, 'sandpit', clientId))!.usersV2, false);
    });

    test('ticked and saved, it is stored and the page shows it ticked', async () => {
      const page = await approve({ users_v2: 'yes' });
      assert.equal(page.status, 200);
      assert.equal(ticked(page, 'users_v2'), true);
      assert.equal((await getClient(app.database.db, 'sandpit', clientId))!.usersV2, true);
    });

    test('the change is audited with the other approvals, and the audit trail says it in words', async () => {
      await approve({ users_v2: 'yes' });
      const entry = await app.database.db.selectFrom('audit').selectAll().where('action', '=', 'client.approvals')
        .orderBy('seq', 'desc').executeTakeFirstOrThrow();
      const details = JSON.parse(entry.details) as { from: { usersV2: boolean }; to: { usersV2: boolean } };
      assert.deepEqual([entry.actor, details.to.usersV2], ['approver@nhs.example', true]);
      const audit = readableText((await b.get('/console/audit')).text);
      assert.match(audit, /Users Endpoint V2: yes \(was no\)/);
    });

    test('unticked and saved, it is withdrawn', async () => {
      await approve({ users_v2: 'yes' });
      assert.equal((await getClient(app.database.db, 'sandpit', clientId))!.usersV2, true, 'approved first');
      await approve({});
      assert.equal((await getClient(app.database.db, 'sandpit', clientId))!.usersV2, false);
    });

    test('a refused form is shown again with what was ticked, and nothing is stored', async () => {
      const page = await approve({ users_v2: 'yes', scopes: ['openid', 'gp_integration_credentials'] });
      assert.equal(page.status, 400);
      assert.deepEqual(errorSummaryItems(page.text), ['gp_integration_credentials needs IM1 access: tick IM1 too']);
      assert.deepEqual(
        [ticked(page, 'users_v2'), ticked(page, 'scope-gp_integration_credentials'), ticked(page, 'scope-profile')],
        [true, true, false],
      );
      const stored = (await getClient(app.database.db, 'sandpit', clientId))!;
      assert.deepEqual([stored.usersV2, stored.scopes], [false, ['openid', 'profile']]);
    });
  });
}
