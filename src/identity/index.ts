/** The identity module: NHS login's environments (OpenID Providers, journeys, test people). */
import type { Config } from '../config/index.ts';
import type { Db, EventSink } from '../storage/index.ts';
import type { Render } from '../web/views.ts';
import { createEnvironment, type Environment } from './environment.ts';
import { loadPeopleData, seedPeople, type PeopleData } from './people/index.ts';

export { matchEnvironment, mountEnvironments } from './http.ts';
export type { Environment } from './environment.ts';
export { registerClient, RegistrationError, replaceClientKey, validateRegistration, type ClientRegistration } from './registration.ts';
export { KeyRotationError, publishNextKey, removeRetiredKeys, switchToNextKey } from './keys.ts';
export { FAULTS, FaultError, type FaultKind } from './faults.ts';
export { addFault, armFault, armFaults, clearFaults, describeFaults, type FaultsView } from './fault-sequence.ts';
export { SessionRulesError, setSessionRules } from './session-rules.ts';
export { NhsAppAddressError, setNhsAppAddress } from './nhs-app/address.ts';
export { NHS_APP_USER_AGENTS } from './nhs-app/routes.ts';

export interface Identity {
  environments: Environment[];
  people: PeopleData;
}

export async function createIdentity(
  config: Config,
  db: Db,
  events: EventSink,
  render: Render,
  log: { error(obj: object, msg: string): void },
): Promise<Identity> {
  const people = loadPeopleData();
  const environments: Environment[] = [];
  for (const env of config.environments) {
    await seedPeople(db, env.name, people);
    environments.push(
      await createEnvironment(
        env,
        db,
        events,
        (out) =>
          render('error.njk', {
            title:
              out.error === 'invalid_redirect_uri' || out.error === 'invalid_client'
                ? 'There is a problem with the service you are trying to use'
                : 'Sorry, there is a problem with NHS login',
            message:
              'The service you came from sent a request NHS login cannot accept. ' +
                'Go back to the service and try again, or contact the service.',
            code: out.error,
            detail: out.error_description,
          }),
        log,
      ),
    );
  }
  return { environments, people };
}
