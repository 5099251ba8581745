/**
 * A partner puts one of its own test users into a GP credential state (issue 15 §3), to see what its
 * service does when the credentials NHS login returns stop working at the GP system (identity/gp-system).
 */
import { GP_STATES, isGpState, setGpState, type Db, type EventSink, type GpState } from '../storage/index.ts';
import { OnboardingError } from './errors.ts';
import { ownTestUser } from './test-users.ts';

export async function setTestUserGpState(db: Db, events: EventSink, organisationId: string, id: string, state: unknown): Promise<GpState> {
  if (!isGpState(state)) throw new OnboardingError('invalid_choice', `Choose a GP credential state: ${GP_STATES.join(', ')}`, 'gp_state');
  const person = await ownTestUser(db, organisationId, id);
  if (person.im1 !== 1 || !person.gp_linkage_key)
    throw new OnboardingError('invalid_choice', 'This test user has no GP online services linkage, so no GP credentials', 'gp_state');
  await setGpState(db, person.env, id, state);
  events.record({
    env: person.env, kind: 'gp_state', outcome: 'ok', person: id,
    details: { from: person.gp_state ?? 'current', to: state, by: 'partner' },
  });
  await events.flush();
  return state;
}
