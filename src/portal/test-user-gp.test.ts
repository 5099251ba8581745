/**
 * The test users page's GP credential state form: a partner puts its own integration test user into a state, the
 * stand-in GP system answers accordingly, and a wrong choice is named in the error summary. On both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { csrfOf, type Browser } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { errorSummaryItems } from '../test-support/text.ts';
import { createRp, login } from '../test-support/rp.ts';
import { createOrganisation } from '../onboarding/index.ts';

for (const dialect of DIALECTS) {
  describe(`portal: a test user's GP credential state (${dialect})`, () => {
    let app: TestApp;
    let b: Browser;
    let url: string;
    let personId: string;
    let email: string;
    before(async () => {
      app = await startTestApp(dialect);
      const orgId = (await createOrganisation(app.database.db, 'user-owner', { name: 'GP Ltd' })).id;
      b = await partnerIn(app, orgId, 'gp@example.org', 'developer');
      url = `/portal/organisations/${orgId}/test-users`;
      const page = await b.post(url, new URLSearchParams({ _csrf: csrfOf(await b.get(url)), nhs_number: '9686368450', level: 'P9' }));
      email = /<code>(9686368450\.[^<]+)<\/code>/.exec(page.text)![1]!;
      personId = /action="\/portal\/organisations\/[^/]+\/test-users\/([0-9a-f]+)\/gp-state"/.exec(page.text)![1]!;
    });
    after(() => app.stop());

    const setState = async (gp_state: string) =>
      b.post(`${url}/${personId}/gp-state`, new URLSearchParams({ _csrf: csrfOf(await b.get(url)), gp_state }));
    const session = async (body: unknown) => {
      const res = await app.fetch('http://localhost:3000/integration/gp-system/session', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };

    test('moved practice: the GP system refuses the credentials until the user signs in again', async () => {
      const page = await setState('moved_practice');
      assert.equal(page.status, 200);
      assert.match(page.text, /value="moved_practice" checked/);
      const old = { gp_user_id: '9422353604', gp_linkage_key: 'YCRPyPSEUARw5', gp_ods_code: 'B85036' };
      assert.equal((await session(old)).status, 401);
      const rp = await createRp(app, 'integration', {
        im1: true, scopes: ['openid', 'profile', 'gp_integration_credentials'], vtr: ['P9.Cp.Cd'],
      });
      const r = await login(app, rp, { email, scope: 'openid profile gp_integration_credentials', vtr: ['P9.Cp.Cd'] });
      const ui = await oidc.fetchUserInfo(rp.config, r.tokens.access_token, r.claims.sub);
      const fresh = ui.gp_integration_credentials as typeof old;
      assert.notEqual(fresh.gp_ods_code, old.gp_ods_code);
      assert.equal((await session(fresh)).body.ApplicationLinkLevel, 'Linked');
      assert.match((await b.get(url)).text, /value="current" checked/);
    });

    test('a state that is not one is named in the error summary, on that user\'s form', async () => {
      const page = await setState('lost');
      assert.equal(page.status, 400);
      assert.equal(errorSummaryItems(page.text).length, 1);
      assert.match(errorSummaryItems(page.text)[0]!, /Choose a GP credential state/);
      assert.match(page.text, /id="gp_state-error"/);
    });

    test('another organisation\'s user is not found', async () => {
      const otherOrg = (await createOrganisation(app.database.db, 'user-other', { name: 'Other Ltd' })).id;
      const other = await partnerIn(app, otherOrg, 'other@example.org', 'developer');
      const otherUrl = `/portal/organisations/${otherOrg}/test-users`;
      const res = await other.post(`${otherUrl}/${personId}/gp-state`,
        new URLSearchParams({ _csrf: csrfOf(await other.get(otherUrl)), gp_state: 'revoked' }));
      assert.equal(res.status, 404);
    });
  });
}
