/**
 * Users Endpoint V2's scopes (its interface specification v1.1, §3.2.1 Table 1, §5.1 Table 14).
 *
 * The mandatory scope is a URL, `https://auth.<cid-env>.signin.nhs.uk/Users.retrieve`, "exactly as written". The
 * specification names no `<cid-env>`; we use NHS login's own host names (nhs-login-interface.md, "issuer shape"):
 * `sandpit` for the sandpit and `aos` for integration. Live's host has no `<cid-env>` (`auth.login.nhs.uk`): its
 * string is our guess, said so on the interface reference page. It is never derived from the toolkit's own host,
 * so a partner's configuration carries over to NHS login unchanged.
 */
export const USERS_RETRIEVE: Record<string, string> = {
  sandpit: 'https://auth.sandpit.signin.nhs.uk/Users.retrieve',
  integration: 'https://auth.aos.signin.nhs.uk/Users.retrieve',
  live: 'https://auth.login.nhs.uk/Users.retrieve',
};

export function usersRetrieveScope(env: string): string {
  return USERS_RETRIEVE[env] ?? USERS_RETRIEVE.sandpit!;
}

/** The optional scopes a Users Endpoint V2 token may carry (§3.2.3 Table 2, `scope`), each granting attributes (§5.1 Table 14). */
export const USERS_V2_OPTIONAL_SCOPES = [
  'profile',
  'profile_extended',
  'email',
  'phone',
  'landline',
  'gp_registration_details',
  'gp_integration_credentials',
] as const;

/** The grant its tokens are asked for with, here for the faces, which show it and do not reach storage. */
export { JWT_BEARER } from '../../storage/clients.ts';
