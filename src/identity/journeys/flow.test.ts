/** Where a journey goes after a passkey sign-in (Cm): on as after the security code, never back to the code (issue 15 §5). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PersonRow } from '../../storage/index.ts';
import { parseVtr } from '../vectors.ts';
import { nextStep, type Journey } from './flow.ts';

function journey(level: string, credentials: string[], vtr: string[]): Journey {
  return {
    uid: 'u',
    details: { prompt: { name: 'login' } } as Journey['details'],
    state: { personId: 'p', credentials },
    person: { id: 'p', proofing_level: level } as PersonRow,
    requested: parseVtr(JSON.stringify(vtr)),
    base: '/sandpit/interaction/u',
  };
}

test('a P9 person signed in with a passkey goes to consent when the request allows P9.Cm', () => {
  assert.equal(nextStep(journey('P9', ['Cm'], ['P9.Cm', 'P9.Cp.Cd'])), 'consent');
});

test('a P5 person signed in with a passkey goes on to prove their identity', () => {
  assert.equal(nextStep(journey('P5', ['Cm'], ['P9.Cm'])), 'prove-identity');
});

test('a passkey does not meet a request of only Cp vectors, and never sends the person to the security code', () => {
  assert.equal(nextStep(journey('P9', ['Cm'], ['P9.Cp.Cd'])), 'unsupported');
});

test('a password still goes to the security code when the request allows P9.Cm too', () => {
  assert.equal(nextStep(journey('P9', ['Cp'], ['P9.Cm', 'P9.Cp.Cd'])), 'otp');
});
