/**
 * Which scopes a Users Endpoint V2 call may use, decided when it is called (U§3.3.3 T10, §5.1 T14; implementation
 * brief §3 "Scopes at call time"). Pure: the caller reads the token's scopes and the client's current approvals.
 *
 * effective = requested ∩ approved, so an approval withdrawn after the token was issued takes effect at once.
 * The refusals are checked in the order of the brief's table, the first failing one wins.
 */
import { USERS_V2_OPTIONAL_SCOPES, usersRetrieveScope } from './scope.ts';

export type ScopeRefusal = { error: 'no_scope' | 'scope_not_approved' | 'scope_missing'; description: string };

/** Scopes beyond `profile` that T14 says are "ignored" without it, and T10 says need it. */
const NEEDS_PROFILE: ReadonlySet<string> = new Set(USERS_V2_OPTIONAL_SCOPES.filter((s) => s !== 'profile'));

/** T10's "Scope "<scope name>" required for access was not present in request", for a scope the call lacks. */
const required = (scope: string): ScopeRefusal => ({
  error: 'scope_missing',
  description: `Scope "${scope}" required for access was not present in request`,
});

/**
 * requested: the token's scope list; approved: the client's approved scopes for Users V2 (the Users.retrieve URL
 * and its approved OIDC scopes ∩ USERS_V2_OPTIONAL_SCOPES). Scopes are compared exactly: they are case-sensitive
 * (U§3.2.1 T1 `scope`).
 */
export function effectiveScopes(
  env: string,
  requested: string[],
  approved: string[],
): { ok: true; scopes: Set<string> } | { ok: false; refusal: ScopeRefusal } {
  const retrieve = usersRetrieveScope(env);
  // Only the allowable list can ever count (U§3.2.3 T2 `scope`), whatever else an approval or a token holds;
  // empty strings are what splitting an empty or doubly-spaced scope string leaves.
  const allowable = (s: string) => s === retrieve || (USERS_V2_OPTIONAL_SCOPES as readonly string[]).includes(s);
  const asked = requested.filter((s) => s !== '');
  const allowed = new Set(approved.filter(allowable));

  // T10: "No scope was present in the request" (brief: the token carries none, e.g. a provisioning token).
  if (asked.length === 0) return { ok: false, refusal: { error: 'no_scope', description: 'No scope was present in the request' } };

  const scopes = new Set(asked.filter((s) => allowed.has(s)));
  // T10: "NONE of the requested scopes matched the scope(s) approved for the client"; both lists as space-separated.
  if (scopes.size === 0) {
    const description = `Requested scopes: ${asked.join(' ')} did not match the clients approved scopes: ${[...allowed].join(' ')}`;
    return { ok: false, refusal: { error: 'scope_not_approved', description } };
  }

  // T10 / T14: the Users.retrieve scope "is mandatory to use this endpoint".
  if (!scopes.has(retrieve)) return { ok: false, refusal: required(retrieve) };

  // T10: "The profile scope is also required if any other scopes are requested"; T14 would ignore them and return
  // no data. A 403 satisfies both and tells the partner why (brief §3 ASSUMPTION).
  if (!scopes.has('profile') && [...scopes].some((s) => NEEDS_PROFILE.has(s))) return { ok: false, refusal: required('profile') };

  return { ok: true, scopes };
}
