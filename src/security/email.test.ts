import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADDRESS, isEmailAddress, MAX_EMAIL_LENGTH } from './email.ts';

test('addresses in the usual forms pass; malformed ones do not', () => {
  for (const ok of ['name@example.com', 'testuserlive+1@demo.signin.nhs.uk', 'a.b-c@sub.example.co.uk', "o'neil@example.org"])
    assert.ok(isEmailAddress(ok), ok);
  for (const bad of [
    '',
    'name',
    'name@',
    '@example.com',
    'name@example',
    'na me@example.com',
    'a@b@example.com',
    'a@.example.com',
    'a@example..com',
    'a@example.com.',
    'a@example.com\n',
  ]) {
    assert.equal(isEmailAddress(bad), false, JSON.stringify(bad));
  }
});

test('longer than 254 characters is refused, whatever it looks like', () => {
  const local = 'a'.repeat(64);
  const domain = (n: number) => `${'b'.repeat(n)}.example.com`;
  assert.ok(isEmailAddress(`${local}@${domain(MAX_EMAIL_LENGTH - 65 - 12)}`));
  assert.equal(isEmailAddress(`${local}@${domain(MAX_EMAIL_LENGTH - 65 - 11)}`), false);
});

// The old pattern took 12 s on the first of these (event loop blocked); a hang here fails by the timeout.
test('inputs built to make a backtracking pattern explode are answered at once', { timeout: 5000 }, () => {
  const evils = [
    `a@${'.'.repeat(100_000)}@`,
    `a@${'a.'.repeat(50_000)}`,
    `a@${'.'.repeat(250)}@`,
    `${'a'.repeat(120)}@${'a.'.repeat(60)}`,
    `${'a'.repeat(120)}@${'a'.repeat(120)}.@`,
  ];
  for (const evil of evils) {
    assert.equal(isEmailAddress(evil), false, `${evil.slice(0, 20)}… (${evil.length})`);
    // The pattern itself, without the length cap: linear too, so it cannot be the weak point if the cap moves.
    assert.equal(ADDRESS.test(evil), false, `pattern: ${evil.slice(0, 20)}… (${evil.length})`);
  }
});
