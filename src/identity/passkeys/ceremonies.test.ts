/**
 * The passkey ceremonies on both databases, against a software authenticator: registration bound to one person,
 * sign-in bound to one interaction, each challenge single use, user verification required, the counter checked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, openTestDatabase } from '../../test-support/harness.ts';
import { softAuthenticator } from '../../test-support/authenticator.ts';
import { findPasskey, type Database } from '../../storage/index.ts';
import { finishRegistration, finishSignIn, registrationOptions, signInOptions } from './ceremonies.ts';
import { parseAuthentication, parseRegistration } from './parse.ts';

const env = { name: 'sandpit', issuer: 'http://localhost:3000/sandpit' };
const ORIGIN = 'http://localhost:3000';
let n = 0;
const person = () => ({ id: `person-${++n}`, email: `p${n}@example.com` });

for (const dialect of DIALECTS) {
  describe(`passkey ceremonies (${dialect})`, () => {
    let database: Database;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(() => database.close());

    async function registered() {
      const p = person();
      const auth = softAuthenticator();
      const options = await registrationOptions(database.db, env, p);
      const r = await finishRegistration(database.db, env, p.id, parseRegistration(JSON.stringify(auth.register(options, ORIGIN)))!);
      assert.equal(r.ok, true);
      return { p, auth };
    }

    test('registration: RP ID is the issuer host, the user handle is not the email, the passkey is stored', async () => {
      const p = person();
      const auth = softAuthenticator();
      const options = await registrationOptions(database.db, env, p);
      assert.equal(options.rp.id, 'localhost');
      assert.equal(options.authenticatorSelection?.userVerification, 'required');
      assert.doesNotMatch(Buffer.from(options.user.id, 'base64url').toString(), /@/);
      const r = await finishRegistration(database.db, env, p.id, parseRegistration(JSON.stringify(auth.register(options, ORIGIN)))!);
      assert.ok(r.ok);
      assert.equal((await findPasskey(database.db, 'sandpit', r.credentialId))?.personId, p.id);
    });

    test('registration: a replayed response is refused (the challenge is single use)', async () => {
      const p = person();
      const body = softAuthenticator().register(await registrationOptions(database.db, env, p), ORIGIN);
      assert.equal((await finishRegistration(database.db, env, p.id, parseRegistration(JSON.stringify(body))!)).ok, true);
      assert.deepEqual(await finishRegistration(database.db, env, p.id, parseRegistration(JSON.stringify(body))!),
        { ok: false, refusal: 'challenge' });
    });

    test("registration: a challenge issued for one person does not register another's passkey", async () => {
      const p = person();
      const body = softAuthenticator().register(await registrationOptions(database.db, env, p), ORIGIN);
      assert.deepEqual(await finishRegistration(database.db, env, 'someone-else', parseRegistration(JSON.stringify(body))!),
        { ok: false, refusal: 'challenge' });
    });

    test('registration: another origin is refused', async () => {
      const p = person();
      const body = softAuthenticator().register(await registrationOptions(database.db, env, p), 'https://evil.example');
      assert.deepEqual(await finishRegistration(database.db, env, p.id, parseRegistration(JSON.stringify(body))!),
        { ok: false, refusal: 'not_verified' });
    });

    test('registration: without user verification it is refused', async () => {
      const p = person();
      const auth = softAuthenticator();
      auth.flags = 0x01;
      const body = auth.register(await registrationOptions(database.db, env, p), ORIGIN);
      assert.deepEqual(await finishRegistration(database.db, env, p.id, parseRegistration(JSON.stringify(body))!),
        { ok: false, refusal: 'not_verified' });
    });

    test('sign-in: a registered passkey signs its person in, and the counter moves', async () => {
      const { p, auth } = await registered();
      const options = await signInOptions(database.db, env, 'uid-1');
      assert.equal(options.userVerification, 'required');
      const r = await finishSignIn(database.db, env, 'uid-1', parseAuthentication(JSON.stringify(auth.assert(options, ORIGIN)))!);
      assert.ok(r.ok);
      assert.equal(r.personId, p.id);
      assert.equal((await findPasskey(database.db, 'sandpit', r.credentialId))?.counter, 1);
    });

    test('sign-in: the challenge belongs to one interaction and is used once', async () => {
      const { auth } = await registered();
      const body = JSON.stringify(auth.assert(await signInOptions(database.db, env, 'uid-2'), ORIGIN));
      assert.deepEqual(await finishSignIn(database.db, env, 'uid-other', parseAuthentication(body)!), { ok: false, refusal: 'challenge' });
      const again = JSON.stringify(auth.assert(await signInOptions(database.db, env, 'uid-3'), ORIGIN));
      assert.equal((await finishSignIn(database.db, env, 'uid-3', parseAuthentication(again)!)).ok, true);
      assert.deepEqual(await finishSignIn(database.db, env, 'uid-3', parseAuthentication(again)!), { ok: false, refusal: 'challenge' });
    });

    test('sign-in: an unknown passkey, or one from another environment, is refused', async () => {
      const stranger = softAuthenticator();
      stranger.userHandle = 'x';
      const body = JSON.stringify(stranger.assert(await signInOptions(database.db, env, 'uid-4'), ORIGIN));
      assert.deepEqual(await finishSignIn(database.db, env, 'uid-4', parseAuthentication(body)!),
        { ok: false, refusal: 'unknown_passkey' });
      const { auth } = await registered();
      const integration = { name: 'integration', issuer: 'http://localhost:3000/integration' };
      const other = JSON.stringify(auth.assert(await signInOptions(database.db, integration, 'uid-5'), ORIGIN));
      assert.deepEqual(await finishSignIn(database.db, integration, 'uid-5', parseAuthentication(other)!),
        { ok: false, refusal: 'unknown_passkey' });
    });

    test('sign-in: a counter that goes back (a cloned authenticator) is refused', async () => {
      const { auth } = await registered();
      auth.counter = 10;
      const first = JSON.stringify(auth.assert(await signInOptions(database.db, env, 'uid-6'), ORIGIN));
      assert.equal((await finishSignIn(database.db, env, 'uid-6', parseAuthentication(first)!)).ok, true);
      auth.counter = 3;
      const cloned = JSON.stringify(auth.assert(await signInOptions(database.db, env, 'uid-7'), ORIGIN));
      assert.deepEqual(await finishSignIn(database.db, env, 'uid-7', parseAuthentication(cloned)!), { ok: false, refusal: 'counter' });
    });

    test('sign-in: without user verification it is refused', async () => {
      const { auth } = await registered();
      auth.flags = 0x01;
      const body = JSON.stringify(auth.assert(await signInOptions(database.db, env, 'uid-8'), ORIGIN));
      assert.deepEqual(await finishSignIn(database.db, env, 'uid-8', parseAuthentication(body)!), { ok: false, refusal: 'not_verified' });
    });
  });
}

describe('passkey responses are shape-checked', () => {
  test('anything but a public-key credential of base64url strings is refused, never thrown', () => {
    for (const raw of [undefined, ['x'], '{', 'null', '{"type":"public-key","id":"a","rawId":"a","response":[]}',
      '{"type":"public-key","id":"a b","rawId":"a b","response":{"clientDataJSON":"x","attestationObject":"y"}}',
      '{"type":"public-key","id":"a","rawId":"a","response":{"clientDataJSON":{"x":1},"authenticatorData":"y","signature":"z"}}']) {
      assert.equal(parseRegistration(raw), undefined, String(raw));
      assert.equal(parseAuthentication(raw), undefined, String(raw));
    }
  });
});
