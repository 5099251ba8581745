/**
 * Journey evidence ticks only from matching traffic: logins count when the service redeemed the code; users
 * by level (with uplift below the client's vectors); settings visits attributed to the service that sent the
 * person; IM1 linkage both ways. On both databases.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { DIALECTS, startTestApp, type TestApp } from '../test-support/harness.ts';
import { Browser } from '../test-support/browser.ts';
import { createRp, login, signIn, REDIRECT_URI, type TestRp } from '../test-support/rp.ts';
import { EVENT_RETENTION_MS, getClient, insertPerson, setGpState, updateClient } from '../storage/index.ts';
import { usersRetrieveScope } from '../identity/users-v2/scope.ts';
import { hashPassword } from '../security/passwords.ts';
import { testPerson } from '../test-support/people.ts';
import { journeyChecklist, keepEvidence } from './evidence.ts';

for (const dialect of DIALECTS) {
  describe(`journey evidence (${dialect})`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp(dialect);
    });
    after(() => app.stop());
    const ticks = async (rp: TestRp) => {
      await app.events.flush();
      const items = await journeyChecklist(app.database.db, rp.client);
      return Object.fromEntries(items.map((i) => [i.id, i.done]));
    };

    test('a login counts only once the service redeemed the code; users by level, uplift below the vectors', async () => {
      const rp = await createRp(app, 'sandpit', { vtr: ['P9.Cp.Cd'] });
      const unredeemed = await signIn(app, rp, { vtr: ['P9.Cp.Cd'] });
      assert.ok(unredeemed.callback?.searchParams.get('code'));
      let t = await ticks(rp);
      assert.equal(t['login-P9.Cp.Cd'], false, 'a code never exchanged proves nothing');
      assert.equal(t['user-P9'], false);

      await login(app, rp, { vtr: ['P9.Cp.Cd'], email: 'testuserlive+8@demo.signin.nhs.uk' });
      t = await ticks(rp);
      assert.equal(t['login-P9.Cp.Cd'], true);
      assert.equal(t['user-P9'], true);
      assert.equal(t['vot-matches'], true);
      assert.equal(t['user-P5'], false);

      // A P5 user asking for P9 proves their identity, then the service redeems the code.
      const b = new Browser(app.fetch, 'http://localhost:3000');
      const s = await signIn(app, rp, {
        browser: b,
        vtr: ['P9.Cp.Cd'],
        email: 'testuserlive+p5-1@demo.signin.nhs.uk',
        stopAt: 'prove-identity',
      });
      let page = await b.post(s.page.url, { document: 'passport' });
      page = await b.post(page.url, {});
      await oidc.authorizationCodeGrant(rp.config, new URL(page.url), { expectedState: s.state, expectedNonce: s.nonce });
      t = await ticks(rp);
      assert.equal(t['user-P5'], true, 'a P5 user uplifted and returned');
      assert.equal(t['user-P0'], false);
      assert.equal(t.registration, false);
    });

    test('Users Endpoint V2: its items only once approved, ticked by a look-up that found someone and one that found nobody', async () => {
      const rp = await createRp(app, 'sandpit', { scopes: ['openid', 'profile'] });
      assert.equal((await ticks(rp))['users-v2-found'], undefined, 'not approved: not on the checklist');
      await updateClient(app.database.db, 'sandpit', rp.client.clientId, { usersV2: true });
      const approved = (await getClient(app.database.db, 'sandpit', rp.client.clientId))!;
      const items = async () => {
        await app.events.flush();
        return Object.fromEntries((await journeyChecklist(app.database.db, approved)).map((i) => [i.id, i.done]));
      };
      assert.deepEqual([(await items())['users-v2-found'], (await items())['users-v2-none']], [false, false]);
      const res = await app.fetch(rp.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: await rp.assertion(),
          scope: `${usersRetrieveScope('sandpit')} profile`,
        }).toString(),
      });
      const { access_token } = (await res.json()) as { access_token: string };
      const ask = (filter: string) =>
        app.fetch(`${rp.issuer}/v2/Users?filter=${encodeURIComponent(filter)}`, { headers: { authorization: `Bearer ${access_token}` } });
      await ask('nhsnumber eq "9686368973"');
      assert.deepEqual([(await items())['users-v2-found'], (await items())['users-v2-none']], [true, false]);
      await ask('nhsnumber eq "9686360018"');
      assert.equal((await items())['users-v2-none'], true);
    });

    test('Provision Account: its items only once approved, ticked by an accepted request and by a refused one', async () => {
      const rp = await createRp(app, 'sandpit');
      assert.equal((await ticks(rp))['provision-accepted'], undefined, 'not approved: not on the checklist');
      await updateClient(app.database.db, 'sandpit', rp.client.clientId, { provisioning: true, provisioningOds: ['A00002'] });
      const approved = (await getClient(app.database.db, 'sandpit', rp.client.clientId))!;
      const items = async () => {
        await app.events.flush();
        return Object.fromEntries((await journeyChecklist(app.database.db, approved)).map((i) => [i.id, i.done]));
      };
      assert.deepEqual([(await items())['provision-accepted'], (await items())['provision-refused']], [false, false]);
      const res = await app.fetch(rp.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await rp.assertion(),
        }).toString(),
      });
      const { access_token } = (await res.json()) as { access_token: string };
      const ask = (nhs: string, dob: string) => app.fetch(`${rp.issuer}/provision-account`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${access_token}` },
        body: JSON.stringify({
          nhs_number: nhs, email_address: `evidence-${nhs}@example.org`, date_of_birth: dob, ods_code: 'A00002',
          phone_number: '+447700900123',
        }),
      });
      await ask('9686367543', '1940-12-24');
      assert.deepEqual([(await items())['provision-accepted'], (await items())['provision-refused']], [true, false]);
      await ask('9686368973', '1968-02-12');
      assert.equal((await items())['provision-refused'], true);
    });

    test('settings visits count for the service that sent the person there, not for others', async () => {
      const mine = await createRp(app, 'sandpit', { redirectUris: [REDIRECT_URI] });
      const theirs = await createRp(app, 'sandpit', { redirectUris: ['https://other.example.net/cb'] });
      const r = await login(app, mine, { email: 'testuserlive+9@demo.signin.nhs.uk' });
      await login(app, theirs, {
        browser: r.browser,
        email: 'testuserlive+9@demo.signin.nhs.uk',
        extra: { redirect_uri: 'https://other.example.net/cb' },
      });
      const settings = new URL('http://localhost:3000/sandpit/settings');
      const res = await app.fetch(settings.href, {
        headers: { cookie: r.browser.cookieHeader(settings), referer: 'https://rp.example.org/account' },
      });
      assert.equal(res.status, 200);
      assert.equal((await ticks(mine)).settings, true);
      assert.equal((await ticks(theirs)).settings, false, 'the other service did not send them');
      // Refresh, for completeness of the generic items.
      assert.equal((await ticks(mine)).refresh, false);
      const tokens = await oidc.refreshTokenGrant(mine.config, r.tokens.refresh_token!);
      assert.ok(tokens.access_token);
      assert.equal((await ticks(mine)).refresh, true);
    });

    test('IM1 clients: GP linkage received, and a user without linkage gets none', async () => {
      const rp = await createRp(app, 'integration', {
        im1: true,
        scopes: ['openid', 'profile', 'gp_integration_credentials'],
        vtr: ['P9.Cp.Cd', 'P5.Cp.Cd'],
      });
      let t = await ticks(rp);
      assert.equal(t['im1-linked'], false);
      const linked = await login(app, rp, {
        email: 'testuserlive+1@demo.signin.nhs.uk',
        scope: 'openid gp_integration_credentials',
        vtr: ['P9.Cp.Cd'],
      });
      const ui = await oidc.fetchUserInfo(rp.config, linked.tokens.access_token, linked.claims.sub);
      assert.ok(ui.gp_integration_credentials, 'the fixed P9 account is linked');
      const unlinked = await login(app, rp, {
        email: 'testuserlive+2@demo.signin.nhs.uk',
        scope: 'openid gp_integration_credentials',
        vtr: ['P5.Cp.Cd'],
      });
      await oidc.fetchUserInfo(rp.config, unlinked.tokens.access_token, unlinked.claims.sub);
      t = await ticks(rp);
      assert.equal(t['im1-linked'], true);
      assert.equal(t['im1-unlinked'], true);
      const sandpit = await createRp(app, 'sandpit');
      assert.equal('im1-linked' in (await ticks(sandpit)), false, 'only IM1 clients have the IM1 items');
    });

    test('IM1 clients: GP credentials put right by a sign-in through the service', async () => {
      const rp = await createRp(app, 'sandpit', { im1: true, scopes: ['openid', 'profile', 'gp_integration_credentials'] });
      const id = `gp-${rp.client.clientId}`;
      await insertPerson(app.database.db, testPerson('P9', {
        env: 'sandpit', id, email: `${id}@example.org`, password_hash: await hashPassword('Passw0rd$1'), im1: 1,
        gp_user_id: '1234567890', gp_linkage_key: 'abcdefghijklm', gp_ods_code: 'B85036', created_at: Date.now(),
      }));
      await login(app, rp, { email: `${id}@example.org`, scope: 'openid gp_integration_credentials', vtr: ['P9.Cp.Cd'] });
      assert.equal((await ticks(rp))['gp-credentials-resolved'], false, 'nothing to put right');
      await setGpState(app.database.db, 'sandpit', id, 'moved_practice');
      await login(app, rp, { email: `${id}@example.org`, scope: 'openid gp_integration_credentials', vtr: ['P9.Cp.Cd'] });
      assert.equal((await ticks(rp))['gp-credentials-resolved'], true);
    });

    test('a sign-in with a passkey counts as a sign-in at the person\'s level', async () => {
      const rp = await createRp(app, 'sandpit', { vtr: ['P9.Cp.Cd'] });
      const common = { env: 'sandpit', clientId: rp.client.clientId, correlationId: `journey-${rp.client.clientId}` };
      // The record a passkey journey writes (journeys/passkey.ts), without the browser's WebAuthn ceremony.
      app.events.record({ ...common, kind: 'authorize', outcome: 'ok', details: { code_ref: 'c1', vtr: '["P9.Cp.Cd"]' } });
      app.events.record({ ...common, kind: 'passkey_sign_in', outcome: 'ok', details: { level: 'P9' } });
      assert.equal((await ticks(rp))['user-P9'], false, 'no code redeemed yet');
      app.events.record({
        env: 'sandpit', clientId: rp.client.clientId, kind: 'token', outcome: 'ok',
        details: { code_ref: 'c1', grant_type: 'authorization_code', vot: 'P9.Cp.Cd' },
      });
      assert.equal((await ticks(rp))['user-P9'], true);
    });

    test('showing the checklist writes nothing', async () => {
      const rp = await createRp(app, 'sandpit', { vtr: ['P9.Cp.Cd'] });
      await login(app, rp, { vtr: ['P9.Cp.Cd'], email: 'testuserlive+11@demo.signin.nhs.uk' });
      await app.events.flush();
      assert.ok((await journeyChecklist(app.database.db, rp.client)).some((i) => i.done));
      const stored = await app.database.db
        .selectFrom('evidence_tick')
        .select('item_id')
        .where('client_id', '=', rp.client.clientId)
        .execute();
      assert.deepEqual(stored, []);
    });

    test('ticks outlive the protocol record: once ticked, kept with a copy of their evidence', async () => {
      const rp = await createRp(app, 'sandpit', { vtr: ['P9.Cp.Cd'] });
      await login(app, rp, { vtr: ['P9.Cp.Cd'], email: 'testuserlive+11@demo.signin.nhs.uk' });
      await app.events.flush();
      const before = await journeyChecklist(app.database.db, rp.client);
      const login9 = before.find((i) => i.id === 'login-P9.Cp.Cd')!;
      assert.ok(login9.done);
      // 90 days on, before the purge removes the events (purgeExpired), their ticks are kept.
      await keepEvidence(app.database.db, Date.now() + EVENT_RETENTION_MS);
      await app.database.db.deleteFrom('protocol_event').where('client_id', '=', rp.client.clientId).execute();
      const after = await journeyChecklist(app.database.db, rp.client);
      const kept = after.find((i) => i.id === 'login-P9.Cp.Cd')!;
      assert.ok(kept.done, 'still ticked');
      assert.equal(kept.evidence[0]!.id, login9.evidence[0]!.id, 'with the same evidence');
      const { evidenceEvent } = await import('./evidence.ts');
      assert.equal((await evidenceEvent(app.database.db, rp.client, kept.evidence[0]!.id))?.kind, 'token', 'its event still opens');
      assert.equal(
        await evidenceEvent(app.database.db, { env: 'sandpit', clientId: 'someone-else' }, kept.evidence[0]!.id),
        undefined,
        'but not for another client',
      );
    });
  });
}
