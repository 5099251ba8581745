/** The published scope table (SCOPE_LEVELS) agrees with what personClaims actually returns. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLAIMS_BY_SCOPE, personClaims, SCOPE_LEVELS } from './claims.ts';
import { testPerson } from '../test-support/people.ts';

const person = testPerson;

test('claims per level match the published table', () => {
  for (const level of ['P0', 'P5', 'P9']) {
    const got = personClaims('userinfo', {
      env: 'integration',
      person: person(level),
      vot: undefined,
      vtm: 'x',
      clientIm1: true,
      clientUserMetadata: 'm',
    });
    for (const [scope, claims] of Object.entries(CLAIMS_BY_SCOPE)) {
      if (['openid', 'landline', 'nhs_app_credentials'].includes(scope)) continue;
      const published = (SCOPE_LEVELS[scope] ?? '').includes(level);
      const present = claims.some((c) => c in got);
      assert.equal(present, published, `${scope} at ${level}`);
    }
    for (const v of Object.values(got)) assert.notEqual(v, null);
  }
});
