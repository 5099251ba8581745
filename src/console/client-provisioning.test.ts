/**
 * Provision Account's approval in the console, on both databases: off until the team ticks it with the ODS codes the
 * client may provision for (spec-Provision_Account_v1 §3.3.1 T7 `ods_code`, 11021 otherwise), stored and audited.
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

const ticked = (p: Page, id: string) => new RegExp(`<input\\b(?=[^>]*\\bid="${id}")[^>]*\\bchecked\\b`).test(p.text);
const odsValue = (p: Page) => /<input\b(?=[^>]*\bid="provisioning_ods")[^>]*\bvalue="([^"]*)"/.exec(p.text)?.[1];

for (const dialect of DIALECTS) {
  describe(`console: Provision Account's approval (${dialect})`, () => {
    let app: TestApp;
    let b: Browser;
    let clientId: string;
    let url: string;
    before(async () => {
      app = await startTestApp(dialect);
      const org = await createOrganisation(app.database.db, 'provisioner', { name: 'Provision Health' });
      await app.database.db.updateTable('organisation').set({ ods_code: 'A00002' }).where('id', '=', org.id).execute();
      ({ clientId } = await registerClient(app.database.db, {
        env: 'sandpit', organisationId: org.id, name: 'Provisioning service', redirectUris: ['https://provision.example.org/cb'],
        scopes: ['openid', 'profile'], vtr: ['P9.Cp.Cd'], publicKeyPem,
      }));
      ({ b } = await signInToConsole(app, 'approver@nhs.example', 'delivery_manager'));
      url = `/console/clients/sandpit/${clientId}`;
    });
    after(() => app.stop());

    const approve = async (fields: Record<string, string>) => {
      const page = await b.get(url);
      const form = new URLSearchParams({ _csrf: csrfOf(page), scopes: 'openid', vtr: 'P9.Cp.Cd', ...fields });
      form.append('scopes', 'profile');
      return b.post(`${url}/approvals`, form);
    };

    test('it is offered unticked, with the organisation\'s ODS code suggested', async () => {
      const page = await b.get(url);
      assert.equal(ticked(page, 'provisioning'), false);
      assert.equal(odsValue(page), 'A00002');
      assert.equal((await getClient(app.database.db, 'sandpit', clientId))!.provisioning, false);
    });

    test('ticked with ODS codes, it is stored and audited in words', async () => {
      const page = await approve({ provisioning: 'yes', provisioning_ods: 'a00002, B85036' });
      assert.equal(page.status, 200);
      assert.equal(ticked(page, 'provisioning'), true);
      const stored = (await getClient(app.database.db, 'sandpit', clientId))!;
      assert.deepEqual([stored.provisioning, stored.provisioningOds], [true, ['A00002', 'B85036']]);
      assert.match(readableText((await b.get('/console/audit')).text), /Provision Account: yes for A00002, B85036 \(was no\)/);
    });

    test('ticked with no ODS code, it is refused and nothing changes', async () => {
      await approve({ provisioning_ods: '' });
      const page = await approve({ provisioning: 'yes', provisioning_ods: '' });
      assert.equal(page.status, 400);
      assert.deepEqual(errorSummaryItems(page.text), ['Enter the ODS codes it may provision for']);
      assert.equal((await getClient(app.database.db, 'sandpit', clientId))!.provisioning, false);
    });

    test('an ODS code of another shape is refused by name', async () => {
      const page = await approve({ provisioning: 'yes', provisioning_ods: 'A0002' });
      assert.equal(page.status, 400);
      assert.deepEqual(errorSummaryItems(page.text), ['"A0002" is not an ODS code of a letter and 5 or 6 digits, like A00002']);
    });

    test('unticked and saved, it is withdrawn', async () => {
      await approve({ provisioning: 'yes', provisioning_ods: 'A00002' });
      await approve({ provisioning_ods: 'A00002' });
      assert.equal((await getClient(app.database.db, 'sandpit', clientId))!.provisioning, false);
    });
  });
}
