/**
 * A partner puts one of its own integration test users into a GP credential state (issue 15 §3), to see what its
 * service does when the credentials NHS login returns stop working at the GP system (identity/gp-system).
 */
import { findPerson, GP_STATES, isGpState, setGpState, type Db, type EventSink, type GpState } from '../storage/index.ts';
import { OnboardingError } from './errors.ts';

export async function setTestUserGpState(db: Db, events: EventSink, organisationId: string, id: string, state: unknown): Promise<GpState> {
  if (!isGpState(state)) throw new OnboardingError('invalid_choice', `Choose a GP credential state: ${GP_STATES.join(', ')}`, 'gp_state');
  const person = await findPerson(db, 'integration', id);
  if (!person || person.organisation_id !== organisationId)
    throw new OnboardingError('not_found', 'There is no such test user in your organisation');
  if (person.im1 !== 1 || !person.gp_linkage_key)
    throw new OnboardingError('invalid_choice', 'This test user has no GP online services linkage, so no GP credentials', 'gp_state');
  await setGpState(db, 'integration', id, state);
  events.record({
    env: 'integration', kind: 'gp_state', outcome: 'ok', person: id,
    details: { from: person.gp_state ?? 'current', to: state, by: 'partner' },
  });
  await events.flush();
  return state;
}
