/** A partner's own demographics for a test user: checked as NHS login's supplier test data request says. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDemographics, checkTestNhsNumber } from './test-user-demographics.ts';
import { FormProblems, type OnboardingError } from './errors.ts';

const ADA = { givenName: 'Ada', familyName: 'Lovelace', birthdate: '1985-12-10' };
const fieldOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof FormProblems ? e.problems.map((p) => p.field) : [(e as OnboardingError).field];
  }
  return [];
};

test('an NHS number must pass Modulus 11 and come from the test range', () => {
  assert.deepEqual(fieldOf(() => checkTestNhsNumber('9990000018')), []);
  assert.deepEqual(fieldOf(() => checkTestNhsNumber('9990000019')), ['nhs_number'], 'checksum');
  assert.deepEqual(fieldOf(() => checkTestNhsNumber('4010232137')), ['nhs_number'], 'a number from the live range');
  assert.deepEqual(fieldOf(() => checkTestNhsNumber('999000001')), ['nhs_number'], 'nine digits');
});

test('names, birth date, postcode, GP, phone, email and linkage are each checked, every problem at once', () => {
  const all = fieldOf(() => checkDemographics({
    givenName: '', familyName: '<b>', birthdate: '2099-01-01', postcode: 'NOT A CODE', gpOdsCode: 'X1',
    phoneNumber: '+1 555 0100', email: 'nope', gpLinkage: { accountId: 'a b', linkageKey: 'k' },
  }));
  assert.deepEqual(all, ['given_name', 'family_name', 'birthdate', 'postcode', 'gp_ods_code', 'phone_number', 'email', 'gp_linkage']);
  assert.deepEqual(fieldOf(() => checkDemographics({ ...ADA, birthdate: '1985-02-30' })), ['birthdate'], 'not a real date');
  assert.deepEqual(fieldOf(() => checkDemographics({ ...ADA, gpLinkage: { accountId: 'a', linkageKey: 'k' } })), ['gp_ods_code']);
});

test('with the NHS number given, its problem is reported with the others', () => {
  assert.deepEqual(fieldOf(() => checkDemographics({ ...ADA, birthdate: '1985-02-30' }, '9990000019')), ['nhs_number', 'birthdate']);
  assert.deepEqual(fieldOf(() => checkDemographics(ADA, '9990000018')), []);
});

test('what is accepted is kept as the claims carry it', () => {
  const c = checkDemographics({
    ...ADA, givenName: " Mary-Ann O'Neil ", postcode: 'ls14ap', gpOdsCode: 'b82005', phoneNumber: '07700 900456',
  });
  assert.deepEqual([c.givenName, c.postcode, c.gpOdsCode, c.phoneNumber], ["Mary-Ann O'Neil", 'LS1 4AP', 'B82005', '+447700900456']);
  assert.equal(checkDemographics(ADA).phoneNumber, '+447700900123', 'the test packs\' number by default');
});
