/** A protocol event's page in the portal reads as words: what happened, the test user by name, each detail labelled. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../test-support/harness.ts';
import type { Browser } from '../test-support/browser.ts';
import { partnerIn } from '../test-support/partner.ts';
import { createRp, login, type TestRp } from '../test-support/rp.ts';
import { readableText, textOf } from '../test-support/text.ts';
import { createOrganisation } from '../onboarding/index.ts';
import type { EventKind } from '../storage/index.ts';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

describe('portal: a protocol event', () => {
  let app: TestApp;
  let b: Browser;
  let rp: TestRp;
  let base: string;
  before(async () => {
    app = await startTestApp('sqlite');
    const org = await createOrganisation(app.database.db, 'user-owner', { name: 'Events Ltd' });
    b = await partnerIn(app, org.id, 'events@example.org');
    rp = await createRp(app, 'sandpit', { organisationId: org.id, vtr: ['P9.Cp.Cd'] });
    await login(app, rp, {});
    await app.events.flush();
    base = `/portal/organisations/${org.id}/clients/${rp.client.clientId}`;
  });
  after(() => app.stop());

  const eventPage = async (kind: EventKind) => {
    const e = await app.database.db
      .selectFrom('protocol_event')
      .selectAll()
      .where('client_id', '=', rp.client.clientId)
      .where('kind', '=', kind)
      .executeTakeFirstOrThrow();
    return b.get(`${base}/events/${e.id}`);
  };

  test('a token request: its name, its outcome, the test user by name and each detail under a label', async () => {
    const page = await eventPage('token');
    assert.equal(page.status, 200);
    assert.equal(
      textOf(page.text, 'maincontent')
        ?.split('\n')
        .find((l) => l === 'Token request'),
      'Token request',
      'the heading says what it was',
    );
    const summary = textOf(page.text, 'event-summary')!;
    const person = (
      await app.database.db
        .selectFrom('protocol_event')
        .select('person')
        .where('kind', '=', 'token')
        .where('client_id', '=', rp.client.clientId)
        .executeTakeFirstOrThrow()
    ).person!;
    const user = await app.database.db.selectFrom('person').selectAll().where('id', '=', person).executeTakeFirstOrThrow();
    assert.match(summary, /^Outcome\nSucceeded$/m);
    assert.match(summary, new RegExp(`^Test user\\n${user.given_name} ${user.family_name} \\(${user.email.replace('.', '\\.')}\\)$`, 'm'));
    assert.match(summary, /^Grant type\nauthorization_code$/m);
    assert.match(summary, /^Vector of trust given\nP9\.Cp\.Cd$/m);
    assert.match(summary, /^HTTP status\n200$/m);
    assert.doesNotMatch(summary, UUID, 'no id where a name belongs');
    assert.doesNotMatch(summary, /[{}]/, 'no JSON');
  });

  test('an authorisation request shows the vectors of trust requested as a list, not JSON', async () => {
    const summary = textOf((await eventPage('authorize')).text, 'event-summary')!;
    assert.match(summary, /^Vectors of trust requested\nP9\.Cp\.Cd$/m);
    assert.match(summary, /^Redirect URI\nhttps:\/\/rp\.example\.org\/callback$/m);
  });

  test('the stored JSON is still there, folded away, for whoever wants it exactly', async () => {
    const page = await eventPage('token');
    assert.match(readableText(page.text), /^The event as recorded \(JSON\)$/m);
    assert.match(textOf(page.text, 'event-details')!, /"grant_type": "authorization_code"/);
  });
});
