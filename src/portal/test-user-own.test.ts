/** Creating test users on the test users page: for the sandpit or integration, from a PDS record or with one's own details. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../test-support/harness.ts';
import { csrfOf, type Browser } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { createOrganisation } from '../onboarding/index.ts';
import { findPeopleByEmail } from '../storage/index.ts';

describe('portal: creating test users (sqlite)', () => {
  let app: TestApp;
  let b: Browser;
  let url: string;
  const own = {
    source: 'own', env: 'sandpit', nhs_number: '999 000 0018', given_name: 'Ada', family_name: 'Lovelace', birthdate: '1985-12-10',
    postcode: 'ls1 4ap', gp_ods_code: 'b82005', phone_number: '07700 900456', email: 'ada@own.example', level: 'P9',
    phone_pds_matched: 'yes', gp_account_id: 'acc-1', gp_linkage_key: 'key-1',
  };
  const post = async (fields: Record<string, string>) => b.post(url, new URLSearchParams({ _csrf: csrfOf(await b.get(url)), ...fields }));
  before(async () => {
    app = await startTestApp('sqlite');
    const orgId = (await createOrganisation(app.database.db, 'owner', { name: 'Own Details Ltd' })).id;
    b = await partnerIn(app, orgId, 'own@example.org', 'developer');
    url = `/portal/organisations/${orgId}/test-users`;
  });
  after(() => app.stop());

  test('a sandpit user with one\'s own details is stored with them and listed under Sandpit', async () => {
    const page = await post(own);
    assert.equal(page.status, 200);
    const [person] = await findPeopleByEmail(app.database.db, 'sandpit', 'ada@own.example');
    assert.deepEqual(
      [person?.nhs_number, person?.given_name, person?.postcode, person?.gp_ods_code, person?.phone_number, person?.gp_linkage_key],
      ['9990000018', 'Ada', 'LS1 4AP', 'B82005', '+447700900456', 'key-1'],
    );
    assert.match(page.text, /Ada Lovelace<br><strong class="nhsuk-tag[^"]*">Sandpit<\/strong>/);
  });

  test('a user from a PDS record goes to the environment chosen', async () => {
    await post({ source: 'pds', env: 'integration', nhs_number: '9686368973', level: 'P5' });
    const people = await app.database.db.selectFrom('person').select(['env', 'nhs_number']).where('nhs_number', '=', '9686368973')
      .where('organisation_id', 'is not', null).execute();
    assert.deepEqual(people.map((p) => ({ ...p })), [{ env: 'integration', nhs_number: '9686368973' }]);
  });

  test('own details out of the rules: every problem in the summary, pointing into that form, and what was typed kept', async () => {
    const page = await post({ ...own, nhs_number: '9990000019', birthdate: '10/12/1985', email: 'someone-else@own.example' });
    assert.equal(page.status, 400);
    assert.match(page.text, /href="#own_nhs_number">\s*Enter a 10-digit NHS number/);
    assert.match(page.text, /href="#own_birthdate">\s*Enter the date of birth as YYYY-MM-DD/);
    assert.match(page.text, /id="own_birthdate-error"/);
    assert.match(page.text, /id="own_given_name" name="given_name" type="text" value="Ada"/);
    assert.doesNotMatch(page.text, /id="nhs_number-error"/, 'the PDS record form shows no error of the other form');
    assert.equal((await findPeopleByEmail(app.database.db, 'sandpit', 'someone-else@own.example')).length, 0);
  });

  test('live, or an environment sent twice, is the form again with its error at the environment, never a 500', async () => {
    for (const env of [['live'], ['sandpit', 'integration']]) {
      const body = new URLSearchParams({ _csrf: csrfOf(await b.get(url)), source: 'pds', nhs_number: '9686368450', level: 'P9' });
      for (const e of env) body.append('env', e);
      const page = await b.post(url, body);
      assert.equal(page.status, 400, env.join());
      assert.match(page.text, /href="#env"/, env.join());
    }
  });
});
