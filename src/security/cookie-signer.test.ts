import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { cookieSigner } from './cookie-signer.ts';

// Keygrip's signature of a Koa cookie, written out: HMAC-SHA1 over "name=value", base64 with / + = made URL-safe.
const keygrip = (key: string, data: string) =>
  createHmac('sha1', key).update(data).digest('base64').replace(/\/|\+|=/g, (x) => ({ '/': '_', '+': '-', '=': '' })[x]!);

test('signatures are Keygrip’s, so cookies signed before stay valid', () => {
  const s = cookieSigner(['k1', 'k0']);
  for (const data of ['_nhsl_sandpit=abc', '_nhsl_sandpit_i=x'.repeat(20), 'n=ü€']) {
    assert.equal(s.sign(data), keygrip('k1', data));
    assert.equal(s.index(data, keygrip('k1', data)), 0);
  }
});

test('a cookie signed with an older key is found by its key’s position (Koa then re-signs it)', () => {
  const s = cookieSigner(['new', 'old']);
  assert.equal(s.index('a=b', keygrip('old', 'a=b')), 1);
  assert.equal(s.verify('a=b', keygrip('old', 'a=b')), true);
});

test('tampered, truncated, padded, unknown-key and empty signatures are refused', () => {
  const s = cookieSigner(['k1', 'k0']);
  const good = s.sign('a=b');
  const flipped = `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`;
  for (const bad of [flipped, good.slice(0, -1), `${good}=`, `${good}A`, keygrip('other', 'a=b'), '', s.sign('a=c')]) {
    assert.equal(s.index('a=b', bad), -1, bad);
    assert.equal(s.verify('a=b', bad), false, bad);
  }
});

test('no keys is a start-up error, not an unsigned cookie', () => {
  assert.throws(() => cookieSigner([]), /at least one key/);
});
