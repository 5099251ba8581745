/**
 * What each environment allows, declared once: the code asks an environment's capabilities (`env.capabilities.faults`,
 * or `capabilitiesOf(name)` where only the name is at hand) instead of comparing its name. The differences come from
 * NHS login's environments (docs: compare-environments.md, integrating-to-sandpit.md, nhs-login-interface.md) and
 * from what the toolkit adds to the environments where partners test (faults, conformance runs).
 */
export const ENVIRONMENT_NAMES = ['sandpit', 'integration', 'live'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

export interface Capabilities {
  /**
   * How a partner reaches it: 'open' to every partner without asking (the sandpit: "Requirements: none"), or
   * 'request' once the team approves its request at a gate, with the vectors and scopes of the approved application.
   */
  access: 'open' | 'request';
  /** Faults may spoil its responses (armed by the partner for a client, or a conformance run's own). */
  faults: boolean;
  /** Conformance runs may drive its clients: run marks are followed and run keys published in its JWKS. */
  conformanceRuns: boolean;
  /**
   * A service on the developer's own machine over http://localhost: as a redirect URI and as a conformance run's
   * start URL (nhs-login-interface.md: the sandpit only, never integration or live).
   */
  localhostHttp: boolean;
  /**
   * It is connected to PDS: given_name is returned and a phone number counts as PDS-matched for a verified user
   * (integrating-to-sandpit.md: the sandpit cannot access PDS).
   */
  pds: boolean;
  /** It has NHS login's published test accounts (`<env>-accounts.csv`), seeded on first start and listed in its reference. */
  testAccounts: boolean;
  /**
   * The toolkit's stand-in GP system (identity/gp-system), where a partner sees what its service does when GP
   * credentials stop working. Live has no stand-in: there the RP calls the real GP systems.
   */
  gpSystem: boolean;
  /** A partner may shorten a client's session limits (identity/session-rules.ts) to test them in minutes: the sandpit only. */
  shortSessions: boolean;
  /**
   * The toolkit's stand-in NHS App (identity/nhs-app), which opens a partner's service with an asserted login identity.
   * Live has none: there the real NHS App does, once its own onboarding is done.
   */
  nhsApp: boolean;
  /**
   * A journey may be signed in by the X-Toolkit-Test-User header, for a partner's CI (as MockPass lets a test choose its
   * user): the published test accounts and the client's organisation's own test users only. Never live.
   */
  testUserHeader: boolean;
  /**
   * A partner may create test users of its own there, from the test PDS records or with its own demographics
   * (onboarding/test-users.ts), seen by its organisation only. Never live: there every person registered themselves.
   */
  ownTestUsers: boolean;
}

export const CAPABILITIES: Readonly<Record<EnvironmentName, Readonly<Capabilities>>> = {
  sandpit: {
    access: 'open', faults: true, conformanceRuns: true, localhostHttp: true, pds: false, testAccounts: true,
    gpSystem: true, shortSessions: true, nhsApp: true, testUserHeader: true, ownTestUsers: true,
  },
  integration: {
    access: 'request', faults: true, conformanceRuns: true, localhostHttp: false, pds: true, testAccounts: true,
    gpSystem: true, shortSessions: false, nhsApp: true, testUserHeader: true, ownTestUsers: true,
  },
  live: {
    access: 'request', faults: false, conformanceRuns: false, localhostHttp: false, pds: true, testAccounts: false,
    gpSystem: false, shortSessions: false, nhsApp: false, testUserHeader: false, ownTestUsers: false,
  },
};

export function isEnvironmentName(name: unknown): name is EnvironmentName {
  return typeof name === 'string' && (ENVIRONMENT_NAMES as readonly string[]).includes(name);
}

/** The capabilities of the environment named `name`; undefined for a name that is none of them (it is allowed nothing). */
export function capabilitiesOf(name: string): Readonly<Capabilities> | undefined {
  return isEnvironmentName(name) ? CAPABILITIES[name] : undefined;
}
