/** Users Endpoint V2's scopes at call time (U§3.3.3 T10, §5.1 T14; brief §3): the effective set and the 403s in order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveScopes, type ScopeRefusal } from './scopes-check.ts';
import { USERS_V2_OPTIONAL_SCOPES } from './scope.ts';

const URL = 'https://auth.sandpit.signin.nhs.uk/Users.retrieve';
/** The brief's C1 (Users V2 with `openid profile` approved) and C2 (every scope). */
const C1 = [URL, 'profile'];
const C2 = [URL, ...USERS_V2_OPTIONAL_SCOPES];

function granted(requested: string[], approved: string[], env = 'sandpit'): string[] {
  const got = effectiveScopes(env, requested, approved);
  assert.ok(got.ok, got.ok ? '' : got.refusal.description);
  return [...got.scopes];
}

function refused(requested: string[], approved: string[], env = 'sandpit'): ScopeRefusal {
  const got = effectiveScopes(env, requested, approved);
  assert.equal(got.ok, false, 'was allowed');
  return (got as { ok: false; refusal: ScopeRefusal }).refusal;
}

test('the Users.retrieve scope alone is enough', () => {
  assert.deepEqual(granted([URL], C1), [URL]);
});

test('C1 asking for `<URL> profile email` gets `<URL> profile`: an unapproved scope is dropped, not refused', () => {
  assert.deepEqual(granted([URL, 'profile', 'email'], C1), [URL, 'profile']);
});

test('C2 asking for every scope gets every scope', () => {
  assert.deepEqual(new Set(granted(C2, C2)), new Set(C2));
});

test('an approval withdrawn since the token was issued no longer counts', () => {
  assert.deepEqual(granted([URL, 'profile', 'phone'], [URL, 'profile']), [URL, 'profile']);
});

test('no scope at all: "No scope was present in the request"', () => {
  assert.deepEqual(refused([], C2), { error: 'no_scope', description: 'No scope was present in the request' });
});

test('empty strings (an empty scope string split) count as no scope', () => {
  assert.equal(refused([''], C2).error, 'no_scope');
});

test('C1 asking for `email` only: none matched, both lists in the description', () => {
  assert.deepEqual(refused(['email'], C1), {
    error: 'scope_not_approved',
    description: `Requested scopes: email did not match the clients approved scopes: ${URL} profile`,
  });
});

test('the requested scopes are listed as asked, space-separated', () => {
  assert.match(refused(['email', 'phone'], C1).description, /^Requested scopes: email phone did not match/);
});

test('scopes are case-sensitive: `Profile` is not `profile` (U§3.2.1 T1)', () => {
  assert.equal(refused(['Profile'], C1).error, 'scope_not_approved');
});

test('a scope outside the allowable list never counts, even if the approvals hold it', () => {
  assert.equal(refused(['openid'], [...C1, 'openid']).error, 'scope_not_approved');
});

test('another environment\'s Users.retrieve URL does not count', () => {
  assert.equal(refused(['https://auth.aos.signin.nhs.uk/Users.retrieve'], C1).error, 'scope_not_approved');
});

test('C1 asking for `profile` without the Users.retrieve scope: that scope is required, named in full', () => {
  assert.deepEqual(refused(['profile'], C1), {
    error: 'scope_missing',
    description: `Scope "${URL}" required for access was not present in request`,
  });
});

test('the Users.retrieve scope is the environment\'s own', () => {
  const aos = 'https://auth.aos.signin.nhs.uk/Users.retrieve';
  assert.deepEqual(granted([aos], [aos, 'profile'], 'integration'), [aos]);
  const { description } = refused(['profile'], [aos, 'profile'], 'integration');
  assert.equal(description, `Scope "${aos}" required for access was not present in request`);
});

test('C2 asking for `<URL> email`: profile is required (T10)', () => {
  assert.deepEqual(refused([URL, 'email'], C2), {
    error: 'scope_missing',
    description: 'Scope "profile" required for access was not present in request',
  });
});

test('every optional scope other than profile needs profile', () => {
  for (const s of USERS_V2_OPTIONAL_SCOPES.filter((x) => x !== 'profile')) assert.equal(refused([URL, s], C2).error, 'scope_missing', s);
});

test('profile is only required when the other scope is effective: an unapproved one is dropped first', () => {
  assert.deepEqual(granted([URL, 'email'], C1), [URL]);
});

// The order of the brief's table: the first failing row wins.
test('order: none matched before Users.retrieve missing', () => {
  assert.equal(refused(['email'], C1).error, 'scope_not_approved');
});

test('order: Users.retrieve missing before profile missing', () => {
  assert.match(refused(['email'], C2).description, /Users\.retrieve/);
});
