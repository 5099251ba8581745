/** The stand-in GP system on the interface reference (`#gp-credentials`): its endpoint, states, answers and assumptions. */
import type { Capabilities } from '../../config/index.ts';

export function gpSystemFacts(env: { issuer: string; capabilities: Readonly<Capabilities> }) {
  if (!env.capabilities.gpSystem) return undefined;
  return {
    endpoint: `${env.issuer}/gp-system/session`,
    states: [
      { state: 'current', session: 'Linked', signIn: 'nothing changes' },
      { state: 'moved_practice', session: '401 credentials_invalid', signIn: 'refreshed credentials: a new gp_ods_code; then Linked' },
      { state: 'merged', session: '401 credentials_invalid', signIn: 'refreshed credentials: a new gp_ods_code; then Linked' },
      {
        state: 'system_changed', session: '401 credentials_invalid',
        signIn: 'refreshed credentials: a new gp_user_id and gp_linkage_key; then Linked',
      },
      { state: 'revoked', session: '401 credentials_invalid', signIn: 'the same credentials, still refused: do not loop' },
      { state: 'restricted', session: 'Restricted', signIn: 'a sign-in with credentials (not prompt=none) lifts it: then Linked' },
    ],
    assumptions: [
      'This endpoint is not NHS login: it stands in for a GP system\'s IM1 API (EMIS\'s POST /Session), which the real '
        + 'environments do not offer. Its body is the gp_integration_credentials claim as NHS login returns it.',
      'Moved practice, system changed and merged are detected by NHS login in the background (gp-credentials.md); '
        + 'here they are detected at the person\'s next sign-in, whose claims are then the refreshed credentials.',
      'Revoked access cannot be fixed by NHS login: a new sign-in returns the same credentials, which stay refused.',
      'The refusal\'s body ({"error", "Message"}) is ours: the documentation shows none.',
      'A conformance run\'s GP tests hand out GP credentials of their own in userinfo (refused every time, or Restricted '
        + 'until a sign-in with credentials): open the service\'s GP sessions here to be tested on them.',
    ],
  };
}
