import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_VTR, matchVector, parseVtr, VtrError } from './vectors.ts';

test('vtr: default when absent, JSON array otherwise, unknown vectors refused', () => {
  assert.deepEqual(parseVtr(undefined).map((v) => v.value), DEFAULT_VTR);
  assert.deepEqual(parseVtr('["P5.Cp.Cd"]').map((v) => v.value), ['P5.Cp.Cd']);
  assert.throws(() => parseVtr('P9.Cp.Cd'), VtrError);
  assert.throws(() => parseVtr('[]'), VtrError);
  assert.throws(() => parseVtr('["P9.Cx"]'), VtrError);
});

test('AND inside a vector, OR across vectors, level at least', () => {
  const req = parseVtr('["P9.Cp.Cd","P5.Cp.Cd"]');
  assert.equal(matchVector(req, { level: 'P9', credentials: ['Cp', 'Cd'] })?.value, 'P9.Cp.Cd');
  assert.equal(matchVector(req, { level: 'P5', credentials: ['Cp', 'Cd'] })?.value, 'P5.Cp.Cd');
  assert.equal(matchVector(req, { level: 'P9', credentials: ['Cp'] }), undefined);
  assert.equal(matchVector(req, { level: 'P0', credentials: ['Cp', 'Cd'] }), undefined);
  assert.equal(matchVector(parseVtr('["P0.Cp"]'), { level: 'P9', credentials: ['Cp'] })?.value, 'P0.Cp');
});

test('vot is the best requested vector met, not the first: a P9 user asking ["P5.Cp.Cd","P9.Cp.Cd"] gets P9 (§5.1.6.3)', () => {
  const req = parseVtr('["P5.Cp.Cd","P5.Cp.Ck","P9.Cp.Cd","P9.Cp.Ck","P9.Cm"]');
  assert.equal(matchVector(req, { level: 'P9', credentials: ['Cp', 'Cd'] })?.value, 'P9.Cp.Cd');
  assert.equal(matchVector(req, { level: 'P5', credentials: ['Cp', 'Cd'] })?.value, 'P5.Cp.Cd');
});

test('at the same level the stronger authentication is the vot: password and OTP give P0.Cp.Cd over P0.Cp', () => {
  assert.equal(matchVector(parseVtr('["P0.Cp","P0.Cp.Cd"]'), { level: 'P0', credentials: ['Cp', 'Cd'] })?.value, 'P0.Cp.Cd');
  assert.equal(matchVector(parseVtr('["P0.Cp","P0.Cp.Cd"]'), { level: 'P0', credentials: ['Cp'] })?.value, 'P0.Cp');
});
