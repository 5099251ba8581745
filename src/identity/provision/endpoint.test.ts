/**
 * Provision Account (spec-Provision_Account_v1 §3.3): every answer of brief §5's check order, its record, and the
 * pending rule, end to end in-process on both databases, with the test PDS records.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DIALECTS, startTestApp, type TestApp } from '../../test-support/harness.ts';
import { createRp, type TestRp } from '../../test-support/rp.ts';
import { insertPerson, updateClient, type PersonRow } from '../../storage/index.ts';
import { JWT_BEARER } from '../users-v2/grant.ts';
import { usersRetrieveScope } from '../users-v2/scope.ts';
import { ODS_REQUESTS } from './endpoint.ts';
import { armFault } from '../fault-sequence.ts';

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const UNABLE = 'Unable to provision account for user';
type Answer = { status: number; headers: Headers; body: { code: string; description: string } };
let seq = 0;
const fresh = () => `provision-${Date.now()}-${++seq}@example.org`;

for (const dialect of DIALECTS) {
  describe(`Provision Account (${dialect})`, () => {
    let app: TestApp;
    let rp: TestRp;
    before(async () => {
      app = await startTestApp(dialect);
      rp = await approved('A00002');
    });
    after(() => app.stop());

    async function approved(...ods: string[]): Promise<TestRp> {
      const r = await createRp(app, 'sandpit');
      await updateClient(app.database.db, 'sandpit', r.client.clientId, { provisioning: true, provisioningOds: ods });
      return r;
    }

    async function token(r: TestRp): Promise<string> {
      const form = {
        grant_type: 'client_credentials', client_assertion_type: CLIENT_ASSERTION_TYPE, client_assertion: await r.assertion(),
      };
      const res = await app.fetch(r.tokenEndpoint, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(),
      });
      const body = (await res.json()) as { access_token: string };
      assert.equal(res.status, 200, JSON.stringify(body));
      return body.access_token;
    }

    async function call(body: unknown, o: { r?: TestRp; token?: string | null; method?: string; raw?: string; path?: string } = {}) {
      const r = o.r ?? rp;
      const t = o.token === undefined ? await token(r) : o.token;
      const res = await app.fetch(`${r.issuer}${o.path ?? '/provision-account'}`, {
        method: o.method ?? 'POST',
        headers: { 'content-type': 'application/json', ...(t ? { authorization: `Bearer ${t}` } : {}) },
        ...((o.method ?? 'POST') === 'GET' ? {} : { body: o.raw ?? JSON.stringify(body) }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] } satisfies Answer;
    }

    const request = (nhs: string, dob: string, email = fresh(), more: Record<string, unknown> = {}) =>
      ({ nhs_number: nhs, email_address: email, date_of_birth: dob, ods_code: 'A00002', phone_number: '+447825428822', ...more });

    function refused(a: Answer, code: string, description: string, status = 400) {
      assert.equal(a.status, status, JSON.stringify(a.body));
      assert.deepEqual(a.body, { code, description });
    }

    async function person(p: Partial<PersonRow>): Promise<PersonRow> {
      const row: PersonRow = {
        env: 'sandpit', id: randomUUID().replaceAll('-', ''), email: fresh(), password_hash: 'x', otp: '190696', proofing_level: 'P5',
        highest_level: 'P5', nhs_number: null, given_name: null, family_name: null, birthdate: null, postcode: null, phone_number: null,
        gp_ods_code: null, im1: 0, gp_user_id: null, gp_linkage_key: null, created_at: Date.now(), organisation_id: null, otp_disabled: 0,
        phone_pds_matched: null, pds_trace_fails: 0, ...p,
      };
      await insertPerson(app.database.db, row);
      return row;
    }

    const events = () => app.database.db.selectFrom('protocol_event').selectAll().where('kind', '=', 'provision').orderBy('at').execute();

    test('a person with a PDS record and no account can create one, stored before the answer (P§3.3.2 T9)', async () => {
      const a = await call(request('9686367403', '1935-02-26'));
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.deepEqual(a.body, { code: 'create', description: 'User able to create a new account' });
      const row = await app.database.db.selectFrom('provision_request').selectAll().where('nhs_number', '=', '9686367403')
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'pending');
      assert.equal(row.kind, 'create');
      assert.equal(row.client_id, rp.client.clientId);
      assert.equal(row.expires_at - row.created_at, 7 * 24 * 3600 * 1000);
      const ev = (await events()).at(-1)!;
      assert.equal(ev.outcome, 'ok');
      assert.equal(ev.client_id, rp.client.clientId);
    });

    test('each answer is counted by its code in the metrics', async () => {
      await call(request('9686360018', '1980-01-01'));
      const text = (await app.metricsServer.inject('/metrics')).body;
      assert.match(text, /toolkit_provision_requests_total\{code="11001",env="sandpit"\} [1-9]/);
    });

    test('a P0 account with the email and no NHS number is an uplift', async () => {
      const p0 = await person({ proofing_level: 'P0', highest_level: 'P0' });
      const a = await call(request('9686367411', '1947-07-16', p0.email));
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.deepEqual(a.body, { code: 'uplift', description: 'User able to uplift an existing account' });
    });

    test('the same request again within 7 days is 11003', async () => {
      const body = request('9686367438', '1940-03-25');
      assert.equal((await call(body)).status, 200);
      refused(await call(body), '11003', 'User already has a pending provision account request from within last 7 days.');
    });

    test('the same request sent twice at once: one is accepted, the other is 11003', async () => {
      const body = request('9686367446', '1937-07-04');
      const both = await Promise.all([call(body), call(body)]);
      assert.deepEqual(both.map((a) => a.status).sort(), [200, 400]);
      assert.equal(both.find((a) => a.status === 400)!.body.code, '11003');
    });

    test('a pending request of another partner does not block this one in the sandpit', async () => {
      const body = request('9686367454', '1922-08-22');
      assert.equal((await call(body)).status, 200);
      assert.equal((await call(body, { r: await approved('A00002') })).status, 200);
    });

    test('a P9 account with the NHS number is 11005', async () => {
      refused(await call(request('9686368973', '1968-02-12')), '11005', 'User already has P9 account');
    });

    test('an email in use by another person\'s account is 11004', async () => {
      refused(await call(request('9686367462', '1931-12-22', 'testuserlive+1@demo.signin.nhs.uk')), '11004',
        'Unable to provision account for user email already in use');
    });

    test('two accounts below P9 with the NHS number is 11007', async () => {
      await person({ nhs_number: '9686367470' });
      await person({ nhs_number: '9686367470' });
      refused(await call(request('9686367470', '1937-01-12')), '11007', UNABLE);
    });

    test("another organisation's test users of the record neither block a request (11005, 11007) nor are told of", async () => {
      await person({ nhs_number: '9686367608', proofing_level: 'P9', highest_level: 'P9', organisation_id: 'another-org' });
      await person({ nhs_number: '9686367608', organisation_id: 'another-org' });
      const answer = await call(request('9686367608', '1943-11-23'));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
    });

    test("a partner's own test user of the record is the account uplifted", async () => {
      const own = await createRp(app, 'sandpit', { organisationId: 'own-org' });
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { provisioning: true, provisioningOds: ['A00002'] });
      const mine = await person({ nhs_number: '9686367616', organisation_id: 'own-org' });
      await person({ nhs_number: '9686367616', organisation_id: 'another-org' });
      const answer = await call(request('9686367616', '1947-08-17', mine.email), { r: own });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const row = await app.database.db.selectFrom('provision_request').select(['kind', 'person_id'])
        .where('nhs_number', '=', '9686367616').executeTakeFirstOrThrow();
      assert.deepEqual([row.kind, row.person_id], ['uplift', mine.id]);
    });

    test('the account with the NHS number having another email is 11008', async () => {
      refused(await call(request('9686369120', '1997-05-13')), '11008', UNABLE);
    });

    test('an NHS number with no PDS record is 11001', async () => {
      refused(await call(request('9686360018', '1980-01-01')), '11001', UNABLE);
    });

    test('a date of birth other than the PDS record\'s is 11002', async () => {
      refused(await call(request('9686367489', '1940-09-27')), '11002', UNABLE);
    });

    test('a PDS record with a date of death is 11006', async () => {
      refused(await call(request('9686368493', '1995-04-13')), '11006', UNABLE);
    });

    test('the account\'s "PDS trace fails" switch is 11009', async () => {
      const p = await person({ nhs_number: '9686367497', pds_trace_fails: 1 });
      refused(await call(request('9686367497', '1929-01-21', p.email)), '11009', UNABLE);
    });

    test('a person under 13 is 11018', async () => {
      refused(await call(request('9686367624', '2019-03-06')), '11018', UNABLE);
    });

    test('an ODS code the client is not approved for is 11021', async () => {
      refused(await call(request('9686367500', '1929-01-07', fresh(), { ods_code: 'B85036' })), '11021',
        'Service not supported for ODS code provided');
    });

    for (const [what, change] of [
      ['a 9-digit NHS number', { nhs_number: '968636897' }],
      ['a wrong check digit', { nhs_number: '9686368974' }],
      ['an email without a dot', { email_address: 'a@b' }],
      ['a date that is not one', { date_of_birth: '1993-17-12' }],
      ['an ODS code of 4 digits', { ods_code: 'A0002' }],
      ['a phone number without the country code', { phone_number: '07825428822' }],
      ['a number instead of a string', { nhs_number: 9686367519 }],
      ['a missing field', { phone_number: undefined }],
    ] as const) {
      test(`${what} is 11010`, async () => {
        refused(await call(request('9686367519', '1952-12-18', fresh(), change)), '11010', 'Data in request not valid');
      });
    }

    for (const [what, raw] of [['a body that is not JSON', '{"nhs_number":'], ['a JSON array', '[]'], ['an empty body', ''],
      ['a body over 8 KB', JSON.stringify({ ...request('9686367519', '1952-12-18'), pad: 'x'.repeat(9000) })]] as const) {
      test(`${what} is 11010, never a 500`, async () => {
        refused(await call(undefined, { raw }), '11010', 'Data in request not valid');
      });
    }

    test('the 11010 record names the field, the answer does not', async () => {
      await call(request('9686367519', '1952-12-18', 'a@b'));
      const ev = (await events()).at(-1)!;
      assert.equal(ev.error, '11010');
      assert.match(String(ev.details), /email_address/);
    });

    test('more requests for an ODS code than the window allows is 11011, 429 with Retry-After', async () => {
      const own = await approved('A00003');
      const t = await token(own);
      const body = request('9686360018', '1980-01-01', fresh(), { ods_code: 'A00003' });
      for (let n = 0; n < ODS_REQUESTS; n++) assert.equal((await call(body, { r: own, token: t })).body.code, '11001');
      const a = await call(body, { r: own, token: t });
      refused(a, '11011', 'Too many requests from ODS code', 429);
      assert.equal(a.headers.get('retry-after'), '900');
    });

    for (const [kind, code, status, description] of [
      ['provision_unavailable', '11000', 503, 'Service not available.'],
      ['provision_rate_limited', '11011', 429, 'Too many requests from ODS code'],
      ['provision_unable', '11019', 400, UNABLE],
    ] as const) {
      test(`the armed fault ${kind} is ${code}, once`, async () => {
        const own = await approved('A00002');
        await armFault(app.database.db, 'sandpit', own.client.clientId, kind, 1);
        refused(await call(request('9686367527', '1935-04-18'), { r: own }), code, description, status);
        assert.equal((await call(request('9686367527', '1935-04-18'), { r: own })).status, 200);
      });
    }

    test('no token is 401 invalid_token', async () => {
      const a = await call(request('9686367535', '1922-07-28'), { token: null });
      assert.equal(a.status, 401);
      assert.equal(a.body.code, '401');
      assert.match(String(a.headers.get('www-authenticate')), /^Bearer error="invalid_token"/);
    });

    test('a Users Endpoint V2 token is 401', async () => {
      const own = await approved('A00002');
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { usersV2: true });
      const form = { grant_type: JWT_BEARER, assertion: await own.assertion(), scope: usersRetrieveScope('sandpit') };
      const res = await app.fetch(own.tokenEndpoint, {
        method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(),
      });
      const t = ((await res.json()) as { access_token: string }).access_token;
      assert.equal((await call(request('9686367535', '1922-07-28'), { r: own, token: t })).status, 401);
    });

    test('a token of a client whose approval was withdrawn is 401', async () => {
      const own = await approved('A00002');
      const t = await token(own);
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { provisioning: false });
      assert.equal((await call(request('9686367535', '1922-07-28'), { r: own, token: t })).status, 401);
    });

    test('a token of a suspended client is 401', async () => {
      const own = await approved('A00002');
      const t = await token(own);
      await updateClient(app.database.db, 'sandpit', own.client.clientId, { status: 'suspended' });
      assert.equal((await call(request('9686367535', '1922-07-28'), { r: own, token: t })).status, 401);
    });

    test('GET is 405 with Allow: POST', async () => {
      const a = await call(undefined, { method: 'GET', token: null });
      assert.equal(a.status, 405);
      assert.equal(a.headers.get('allow'), 'POST');
    });

    test('a path below it is 404 in its own shape', async () => {
      const a = await call({}, { path: '/provision-account/x', token: null });
      assert.equal(a.status, 404);
      assert.equal(a.body.code, '404');
    });
  });
}
