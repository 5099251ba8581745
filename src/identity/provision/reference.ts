/**
 * Provision Account as this environment serves it (spec-Provision_Account_v1), for the portal's interface reference,
 * and what we chose where the specification is silent (brief §4–§6; each is also in the README's differences).
 */
import { TTL } from '../provider.ts';
import { ODS_REQUESTS, PROVISION_TEXT } from './endpoint.ts';

/** P§3.3.3 T11 with the conditions we chose (ASSUMPTIONS: T11 gives the descriptions only). */
const WHEN: Record<keyof typeof PROVISION_TEXT, string> = {
  11000: 'the service failed, or the fault provision_unavailable is armed',
  11010: 'the body is not a JSON object of the five strings of Table 7 in their formats',
  11021: 'the ODS code is not one the NHS login team approved for this client',
  11011: `more than ${ODS_REQUESTS} requests for the ODS code in 15 minutes, or the fault provision_rate_limited`,
  11003: 'a request of yours for this NHS number (of anyone\'s, in live) is waiting to be claimed',
  11005: 'an account with this NHS number is P9',
  11004: 'the email is the login of an account with another NHS number',
  11007: 'more than one account below P9 has this NHS number',
  11008: 'the account with this NHS number has another email',
  11001: 'no test PDS record has this NHS number',
  11002: 'date_of_birth is not the PDS record\'s',
  11006: 'the PDS record has a date of death',
  11009: 'the account\'s "PDS trace fails" test switch is on',
  11018: 'the person is under 13',
  11019: 'only with the fault provision_unable',
};
const ORDER = ['11000', '11010', '11021', '11011', '11003', '11005', '11004', '11007', '11008', '11001', '11002', '11006', '11009',
  '11018', '11019'] as const;

export function provisionFacts(env: { name: string; issuer: string }) {
  return {
    endpoint: `${env.issuer}/provision-account`,
    tokenEndpoint: `${env.issuer}/token`,
    lifetime: TTL.ClientCredentials,
    errors: ORDER.map((code) => ({ code, status: code === '11000' ? 503 : code === '11011' ? 429 : 400, description: PROVISION_TEXT[code],
      when: WHEN[code] })),
    assumptions: [
      'A scope sent with the token request is ignored, and the token carries none (Table 1 has no scope).',
      'The statuses: 400 for every code except 11000 (503) and 11011 (429, with Retry-After), as the specification gives only the '
        + 'example\'s 400; a token that is not valid is 401 {"code": "401"}.',
      'The checks run in the order of the table above; the conditions of each code are ours (Table 11 gives descriptions only).',
      'An NHS number must pass the Modulus 11 check; an ODS code is a letter and 5 or 6 digits (Table 7 says 6, its example has 5); '
        + 'a mobile number is E.164 (+ and the country code); extra keys are ignored; the body is at most 8 KB.',
      'The test PDS records are the same in every environment; 11003 is per client in the sandpit and integration, so that one '
        + 'partner cannot block another for a week; likewise the accounts a request is checked against are the environment\'s '
        + 'own and your organisation\'s test users, never another partner\'s copy of the same record.',
      'The patient gets an email with a link that works for 7 days until the account is set up (starting again in another browser '
        + 'ends the earlier one; wrong codes still count); no text message is sent: the security code is 190696 '
        + '(an existing account\'s own on uplift). The account is P9 as soon as they finish.',
    ],
  };
}
