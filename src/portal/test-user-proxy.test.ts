/**
 * The test users page's proxy links (issue 15 §4, proxy access in integration): a partner lets one of its test users manage
 * health services for another, the stand-in NHS App then offers that patient to the proxy, and the link can be ended;
 * choices that are not the partner's own users are named in the error summary. On both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser, csrfOf } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { errorSummaryItems } from '../test-support/text.ts';
import { createRp, throughJourney } from '../test-support/rp.ts';
import { createOrganisation, TEST_OTP, TEST_PASSWORD } from '../onboarding/index.ts';
import { setNhsAppAddress } from '../identity/index.ts';

const ORIGIN = 'http://localhost:3000';

for (const dialect of DIALECTS) {
  describe(`portal: proxy links between test users (${dialect})`, () => {
    let app: TestApp;
    let b: Browser;
    let url: string;
    const users: { id: string; email: string }[] = [];
    before(async () => {
      app = await startTestApp(dialect);
      const orgId = (await createOrganisation(app.database.db, 'user-owner', { name: 'Proxy Ltd' })).id;
      b = await partnerIn(app, orgId, 'proxy@example.org', 'developer');
      url = `/portal/organisations/${orgId}/test-users`;
      for (const nhs of ['9686367403', '9686367411']) {
        const page = await b.post(url, new URLSearchParams({ _csrf: csrfOf(await b.get(url)), nhs_number: nhs, level: 'P9' }));
        const email = new RegExp(`<code>(${nhs}\\.[^<]+)</code>`).exec(page.text)![1]!;
        const ids = [...page.text.matchAll(/<select class="nhsuk-select" id="level-([0-9a-f]+)"/g)].map((m) => m[1]!);
        users.push({ id: ids.at(-1)!, email });
      }
    });
    after(() => app.stop());

    const post = async (proxy: string, patient: string, action: string) =>
      b.post(`${url}/${proxy}/proxy`, new URLSearchParams({ _csrf: csrfOf(await b.get(url)), patient, action }));

    test('linked on the page, the proxy sees the patient in the stand-in NHS App', async () => {
      const [proxy, patient] = users as [{ id: string; email: string }, { id: string; email: string }];
      const page = await post(proxy.id, patient.id, 'add');
      assert.equal(page.status, 200);
      const section = page.text.slice(page.text.indexOf(`id="proxy-${proxy.id}"`));
      assert.match(section.slice(0, 1500), /Manages health services for<\/h3>\s*<ul class="nhsuk-list"><li>Andrew ELLERY/);

      const rp = await createRp(app, 'integration');
      await setNhsAppAddress(app.database.db, 'integration', rp.client.clientId, 'https://rp.example.org/nhs-app');
      const nhsApp = new Browser(app.fetch, ORIGIN);
      const login = await nhsApp.get(`${ORIGIN}/integration/nhs-app/login?service=${rp.client.clientId}`);
      const { page: home } = await throughJourney(nhsApp, login, { email: proxy.email, password: TEST_PASSWORD, otp: TEST_OTP });
      assert.match(home.text, /Manage health services for others/);
      assert.match(home.text, new RegExp(`value="${patient.id}"`));

      await post(proxy.id, patient.id, 'remove');
      const again = await nhsApp.get(`${ORIGIN}/integration/nhs-app/services/${rp.client.clientId}`);
      assert.doesNotMatch(again.text, /Manage health services for others/, 'the link ended');
    });

    test('a user for themselves, or someone not the organisation\'s, is named in the error summary', async () => {
      const proxy = users[0]!;
      for (const patient of [proxy.id, 'not-a-user']) {
        const page = await post(proxy.id, patient, 'add');
        assert.equal(page.status, 400);
        assert.equal(errorSummaryItems(page.text).length, 1, patient);
        assert.match(page.text, /id="patient-error"/);
      }
      const hostile = await b.post(`${url}/${proxy.id}/proxy`,
        new URLSearchParams([['_csrf', csrfOf(await b.get(url))], ['patient', 'a'], ['patient', 'b'], ['action', 'add']]));
      assert.equal(hostile.status, 400, 'a list where one value belongs');
    });
  });
}
