/** Each environment's capabilities, stated: what the code asks of an environment instead of its name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAPABILITIES, capabilitiesOf, isEnvironmentName } from './capabilities.ts';
import { loadConfig } from './index.ts';

test('the sandpit: open to every partner, faults and conformance runs, http://localhost, no PDS, test accounts, a GP system', () => {
  assert.deepEqual(CAPABILITIES.sandpit, {
    access: 'open', faults: true, conformanceRuns: true, localhostHttp: true, pds: false, testAccounts: true,
    gpSystem: true, shortSessions: true, nhsApp: true, testUserHeader: true, ownTestUsers: true,
  });
});

test('integration: by an approved request, faults and conformance runs, https only, PDS, test accounts, a GP system', () => {
  assert.deepEqual(CAPABILITIES.integration, {
    access: 'request', faults: true, conformanceRuns: true, localhostHttp: false, pds: true, testAccounts: true,
    gpSystem: true, shortSessions: false, nhsApp: true, testUserHeader: true, ownTestUsers: true,
  });
});

test('live: by request, PDS, and nothing for testing (no faults, runs, test accounts, GP system, header sign-in, own test users)', () => {
  assert.deepEqual(CAPABILITIES.live, {
    access: 'request', faults: false, conformanceRuns: false, localhostHttp: false, pds: true, testAccounts: false,
    gpSystem: false, shortSessions: false, nhsApp: false, testUserHeader: false, ownTestUsers: false,
  });
});

test('a name that is no environment has no capabilities', () => {
  assert.equal(capabilitiesOf('production'), undefined);
  assert.equal(capabilitiesOf('__proto__'), undefined);
  assert.equal(isEnvironmentName('constructor'), false);
});

test('each configured environment carries its capabilities', () => {
  for (const e of loadConfig({}).environments) assert.equal(e.capabilities, CAPABILITIES[e.name], e.name);
});
