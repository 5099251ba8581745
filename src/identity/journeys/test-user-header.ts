/**
 * Sign-in by header, for a partner's CI: a browser that sends `X-Toolkit-Test-User: EMAIL` (e.g. Playwright's
 * extraHTTPHeaders) is signed in as that test user when the journey starts, password and security code counted as
 * given, so a pipeline chooses its user without typing (as MockPass does). The rest of the journey is NHS login's:
 * "prove your identity" where the vector needs it, then consent.
 *
 * Only where the environment allows it (config/capabilities.ts: never live), and only for the published test accounts,
 * whose password is published anyway, and the client's organisation's own test users: never a person who registered.
 */
import type { FastifyRequest } from 'fastify';
import { findPersonByEmail, getClient } from '../../storage/index.ts';
import type { Journey, JourneyDeps } from './flow.ts';

export const TEST_USER_HEADER = 'X-Toolkit-Test-User';

export type HeaderSignIn = 'signed_in' | 'refused' | 'absent';

/** Signs the journey in as the header's test user; 'refused' when the header names no one it may sign in as. */
export async function signInByHeader(deps: JourneyDeps, j: Journey, req: FastifyRequest): Promise<HeaderSignIn> {
  const raw = req.headers[TEST_USER_HEADER.toLowerCase()];
  if (raw === undefined || !deps.env.capabilities.testUserHeader || j.state.personId) return 'absent';
  const env = deps.env.name;
  const clientId = String(j.details.params.client_id);
  const email = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  const person = email && email.length <= 254 ? await findPersonByEmail(deps.db, env, email) : undefined;
  const published = person !== undefined && (deps.people.shared[env]?.has(email) ?? false);
  const own = person?.organisation_id != null
    && person.organisation_id === (await getClient(deps.db, env, clientId))?.organisationId;
  if (!person || !(published || own)) {
    deps.events.record({
      env, clientId, kind: 'sign_in', outcome: 'error', error: 'unknown_email', correlationId: j.uid,
      details: { by: 'test_user_header' },
    });
    return 'refused';
  }
  deps.events.record({
    env, clientId, kind: 'sign_in', outcome: 'ok', person: person.id, correlationId: j.uid,
    details: { level: person.proofing_level, by: 'test_user_header' },
  });
  j.state = { personId: person.id, credentials: ['Cp', 'Cd'] };
  j.person = person;
  return 'signed_in';
}
