/**
 * Registering a client: one rule for the portal, the API and the CLI. A partner registers in an environment only
 * once the NHS login team approved it, and only the vectors and scopes its application was approved for (all of
 * sandpit's); the operator (the CLI) registers anything the environments accept, for an organisation or none.
 * The environments' own checks (redirect URIs, keys) come after, as RegistrationError.
 */
import { registerClient, type ClientRegistration } from '../identity/index.ts';
import type { ClientRecord, Db } from '../storage/index.ts';

/** A registered client, as the faces show it. */
export type { ClientRecord };
import { clientChoices, outsideChoices } from './requests.ts';

export type Registrant = 'partner' | 'operator';

/** Registered, or refused before the environments looked at it; each face words a refusal its own way. */
export type ClientRegistered =
  | { client: ClientRecord }
  | { refused: 'env_not_approved' }
  | { refused: 'outside_choices'; outside: string[] };

export function registerOrganisationClient(db: Db, by: 'operator', r: ClientRegistration): Promise<{ client: ClientRecord }>;
export function registerOrganisationClient(db: Db, by: Registrant, r: ClientRegistration): Promise<ClientRegistered>;
export async function registerOrganisationClient(db: Db, by: Registrant, r: ClientRegistration): Promise<ClientRegistered> {
  if (by === 'partner') {
    const choice = r.organisationId ? await clientChoices(db, r.organisationId, r.env) : undefined;
    if (!choice) return { refused: 'env_not_approved' };
    const outside = outsideChoices(choice, r.vtr, r.scopes);
    if (outside.length) return { refused: 'outside_choices', outside };
  }
  return { client: await registerClient(db, r) };
}
