/**
 * Users Endpoint V2 (its interface specification v1.1, §3.3): the look-up, its scopes, its errors and its record,
 * end to end in-process on both databases, with the sandpit's published test users.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { createRp, login, type TestRp } from '../../test-support/rp.ts';
import { updateClient } from '../../storage/index.ts';
import { JWT_BEARER } from './grant.ts';
import { usersRetrieveScope } from './scope.ts';

const RETRIEVE = usersRetrieveScope('sandpit');
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
interface ScimUser {
  id: string;
  active: boolean;
  userName?: string;
  emails?: unknown;
  name: { familyName?: string; givenName?: string };
  'uk:nhs:login:auth:1.0:User': { vectorsOfTrust: { IdentityProofing: string }; nhsNumber?: string; birthdate?: string };
}
type Body = { totalResults?: number; Resources?: ScimUser[]; Errors?: { description: string; code: string }[] };

for (const dialect of DIALECTS) {
  describe(`Users Endpoint V2 (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    let tokens: Record<string, string>;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await createRp(app, 'sandpit', { scopes: ['openid', 'profile', 'email', 'gp_integration_credentials'], im1: true });
      await updateClient(app.database.db, 'sandpit', rp.client.clientId, { usersV2: true });
      tokens = {};
      const all = `${RETRIEVE} profile email gp_integration_credentials`;
      for (const scope of [RETRIEVE, `${RETRIEVE} profile`, all, 'profile', 'phone', `${RETRIEVE} email`])
        tokens[scope] = await token(rp, scope);
    });
    after(() => app.stop());

    async function token(r: TestRp, scope: string): Promise<string> {
      const res = await app.fetch(r.tokenEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: JWT_BEARER, assertion: await r.assertion(), scope }).toString(),
      });
      const body = (await res.json()) as { access_token: string };
      assert.equal(res.status, 200, JSON.stringify(body));
      return body.access_token;
    }

    async function users(filter: string | undefined, scope = `${RETRIEVE} profile`, init: RequestInit = {}) {
      const query = filter === undefined ? '' : `?filter=${encodeURIComponent(filter)}`;
      const res = await app.fetch(`${rp.issuer}/v2/Users${query}`, {
        ...init,
        headers: { authorization: `Bearer ${tokens[scope] ?? scope}`, ...(init.headers as Record<string, string>) },
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as Body };
    }

    test('by NHS number: the ListResponse with the attributes of the profile scope', async () => {
      const r = await users('nhsnumber eq "9686368973"');
      assert.equal(r.status, 200);
      assert.match(String(r.headers.get('content-type')), /^application\/scim\+json/);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.deepEqual((r.body as Record<string, unknown>).schemas, [LIST]);
      assert.equal(r.body.totalResults, 1);
      const u = r.body.Resources![0]!;
      assert.equal(u.active, true);
      assert.equal(u['uk:nhs:login:auth:1.0:User'].vectorsOfTrust.IdentityProofing, 'P9');
      assert.equal(u['uk:nhs:login:auth:1.0:User'].nhsNumber, '9686368973');
      assert.equal(u['uk:nhs:login:auth:1.0:User'].birthdate, '1968-02-12');
      assert.equal(u.name.familyName, 'MILLAR');
      assert.equal(u.name.givenName, undefined, 'no given name in the sandpit, and profile_extended was not asked for');
      assert.equal(u.emails, undefined, 'email was not asked for');
    });

    test('the account id is the sub the ID token gives for the same person', async () => {
      const signedIn = await login(app, rp, { scope: 'openid profile' });
      const r = await users(`nhsnumber eq "${String(signedIn.claims.nhs_number)}"`);
      assert.equal(r.body.Resources![0]!.id, signedIn.claims.sub);
    });

    test('two accounts with one NHS number are both returned', async () => {
      const r = await users('nhsnumber eq "9658218903"');
      assert.equal(r.body.totalResults, 2);
      assert.equal(r.body.Resources!.length, 2);
    });

    test('by email, in any case, with the email scope: emails and userName', async () => {
      const r = await users('EMAIL eq "TestUserLive@demo.signin.nhs.uk"', `${RETRIEVE} profile email gp_integration_credentials`);
      assert.equal(r.body.totalResults, 1);
      const u = r.body.Resources![0]!;
      assert.equal(u.userName, 'testuserlive@demo.signin.nhs.uk');
      assert.deepEqual(u.emails, [{ value: 'testuserlive@demo.signin.nhs.uk', type: 'home', primary: true }]);
    });

    test('"or" joins results without duplicates; "and" narrows them; "and" binds tighter than "or"', async () => {
      const either = await users('nhsnumber eq "9686368973" or email eq "testuserlive@demo.signin.nhs.uk"');
      assert.equal(either.body.totalResults, 1);
      const both = await users('nhsnumber eq "9686368973" and email eq "testuserlive+1@demo.signin.nhs.uk"');
      assert.equal(both.status, 200);
      assert.equal(both.body.totalResults, 0);
      assert.deepEqual(both.body.Resources, []);
      const precedence = await users('nhsnumber eq "9686360018" and email eq "a@b.co" or nhsnumber eq "9686368906"');
      assert.equal(precedence.body.totalResults, 1);
      assert.equal(precedence.body.Resources![0]!.name.familyName, 'HUGHES');
    });

    test("each filter error is the specification's 400 with its exact description", async () => {
      for (const [filter, description] of [
        [undefined, 'Query string "filter" not present'],
        ['userName eq "x"', 'Either one of "nhsnumber" or "email" must be used for each query'],
        ['email eq "a@b.c" and userName eq "x"', 'Invalid attribute'],
        ['email co "a"', 'Invalid operator'],
        ['email eq a@b.c', 'Invalid syntax'],
        ['email eq “a@b.c”', 'Invalid syntax'],
        ['nhsnumber eq "123456789"', 'Invalid NHS number'],
        ['email eq "a@b"', 'Invalid email'],
        [Array(6).fill('email eq "a@b.co"').join(' or '), 'More than 5 expressions provided'],
      ] as const) {
        const r = await users(filter);
        assert.equal(r.status, 400, String(filter));
        assert.deepEqual(r.body, { Errors: [{ description, code: '400' }] }, String(filter));
      }
    });

    test('a token asking only for scopes the client is not approved for: 403 did not match', async () => {
      const r = await users('email eq "a@b.co"', 'phone');
      assert.equal(r.status, 403);
      assert.equal(r.body.Errors![0]!.code, '403');
      assert.match(r.body.Errors![0]!.description, /^Requested scopes: phone did not match the clients approved scopes: /);
    });

    test('a token without Users.retrieve: 403 naming the scope', async () => {
      const r = await users('email eq "a@b.co"', 'profile');
      assert.equal(r.status, 403);
      assert.equal(r.body.Errors![0]!.description, `Scope "${RETRIEVE}" required for access was not present in request`);
    });

    test('optional scopes without profile: 403 profile required', async () => {
      const r = await users('email eq "a@b.co"', `${RETRIEVE} email`);
      assert.equal(r.status, 403);
      assert.equal(r.body.Errors![0]!.description, 'Scope "profile" required for access was not present in request');
    });

    test('no token, a foreign one, or a code-flow access token: 401 invalid_token', async () => {
      const signedIn = await login(app, rp, { scope: 'openid profile' });
      for (const t of ['', 'not-a-token', String(signedIn.tokens.access_token)]) {
        const res = await app.fetch(`${rp.issuer}/v2/Users?filter=${encodeURIComponent('email eq "a@b.co"')}`, {
          headers: t ? { authorization: `Bearer ${t}` } : {},
        });
        assert.equal(res.status, 401, t.slice(0, 20));
        assert.match(String(res.headers.get('www-authenticate')), /^Bearer error="invalid_token"/);
        assert.equal(((await res.json()) as Body).Errors![0]!.code, '401');
      }
    });

    test('an approval withdrawn stops the tokens already issued', async () => {
      const own = await createRp(app, 'sandpit');
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { usersV2: true });
      const t = await token(own, RETRIEVE);
      const url = `${own.issuer}/v2/Users?filter=${encodeURIComponent('email eq "a@b.co"')}`;
      const ask = () => app.fetch(url, { headers: { authorization: `Bearer ${t}` } });
      assert.equal((await ask()).status, 200);
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { usersV2: false });
      assert.equal((await ask()).status, 401);
    });

    test('other methods are 405 and paths below it 404, in the same shape', async () => {
      const json = { 'content-type': 'application/json' };
      const post = await app.fetch(`${rp.issuer}/v2/Users`, { method: 'POST', headers: json, body: '{}' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET');
      assert.equal(((await post.json()) as Body).Errors![0]!.code, '405');
      const below = await app.fetch(`${rp.issuer}/v2/Users/abc`);
      assert.equal(below.status, 404);
      assert.equal(((await below.json()) as Body).Errors![0]!.code, '404');
    });

    test('hostile queries are the filter errors, never a 5xx', async () => {
      const ask = async (query: string) => {
        const authorization = `Bearer ${tokens[`${RETRIEVE} profile`]}`;
        const res = await app.fetch(`${rp.issuer}/v2/Users?${query}`, { headers: { authorization } });
        return { status: res.status, body: (await res.json()) as Body };
      };
      for (const query of [
        'filter=a&filter=b', `filter=${'x'.repeat(5000)}`, 'filter=email%20eq%20%22a%00@b.co%22', 'filter=%00', 'filter=%ZZ',
        'filter[a]=b', `filter=${encodeURIComponent('nhsnumber eq "9686368973"'.padEnd(3000, ' '))}`,
      ]) {
        const r = await ask(query);
        assert.equal(r.status, 400, query.slice(0, 40));
        assert.equal(r.body.Errors![0]!.code, '400', query.slice(0, 40));
      }
    });

    test('each call is in the protocol record, a refusal with its code', async () => {
      const own = await createRp(app, 'sandpit', { scopes: ['openid', 'profile'] });
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { usersV2: true });
      const t = await token(own, `${RETRIEVE} profile`);
      const ask = (filter: string) =>
        app.fetch(`${own.issuer}/v2/Users?filter=${encodeURIComponent(filter)}`, { headers: { authorization: `Bearer ${t}` } });
      await ask('nhsnumber eq "9686368973"');
      await ask('email pr');
      const rows = await app.database.db.selectFrom('protocol_event').selectAll().where('client_id', '=', own.client.clientId)
        .where('kind', '=', 'users_v2').orderBy('at').execute();
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.outcome, 'ok');
      assert.equal(JSON.parse(rows[0]!.details!).results, 1);
      assert.equal(rows[1]!.error, 'invalid_operator');
    });
  });
}
