/** Deleting a test user from the test users page: gone from the page and its links; another partner's is not found. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../test-support/harness.ts';
import { csrfOf } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { createOrganisation } from '../onboarding/index.ts';
import { addProxyLink, findPerson } from '../storage/index.ts';

describe('portal: deleting a test user (sqlite)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp('sqlite');
  });
  after(() => app.stop());

  test('a deleted test user leaves the page, the database and every proxy link; another partner\'s is not found', async () => {
    const orgId = (await createOrganisation(app.database.db, 'owner', { name: 'Delete Ltd' })).id;
    const b = await partnerIn(app, orgId, 'delete@example.org', 'developer');
    const url = `/portal/organisations/${orgId}/test-users`;
    const ids: string[] = [];
    for (const nhs of ['9686367403', '9686367411']) {
      const page = await b.post(url, new URLSearchParams({ _csrf: csrfOf(await b.get(url)), nhs_number: nhs, level: 'P9' }));
      ids.push([...page.text.matchAll(/id="delete-([0-9a-f]+)"/g)].map((m) => m[1]!).at(-1)!);
    }
    await addProxyLink(app.database.db, 'integration', ids[0]!, ids[1]!);
    const otherOrg = (await createOrganisation(app.database.db, 'other', { name: 'Other Ltd' })).id;
    const other = await partnerIn(app, otherOrg, 'other@example.org', 'developer');
    const otherUrl = `/portal/organisations/${otherOrg}/test-users`;
    const stolen = await other.post(`${otherUrl}/${ids[1]}/delete`, new URLSearchParams({ _csrf: csrfOf(await other.get(otherUrl)) }));
    assert.equal(stolen.status, 404);
    const page = await b.post(`${url}/${ids[1]}/delete`, new URLSearchParams({ _csrf: csrfOf(await b.get(url)) }));
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, new RegExp(`delete-${ids[1]}`));
    assert.match(page.text, new RegExp(`delete-${ids[0]}`));
    assert.equal(await findPerson(app.database.db, 'integration', ids[1]!), undefined);
    const links = await app.database.db.selectFrom('proxy_link').selectAll().execute();
    assert.equal(links.length, 0, 'the link to the deleted patient went with it');
  });
});
