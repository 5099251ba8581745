/** The onboarding domain shared by the portal, the console and the API: no HTTP, no templates. */
export * from './errors.ts';
export * from './mailer.ts';
export * from './accounts.ts';
export * from './sessions.ts';
export * from './organisations.ts';
export * from './evidence.ts';
export * from './trace.ts';
export * from './eligibility.ts';
export * from './applications.ts';
export * from './api-tokens.ts';
export * from './members.ts';
export * from './test-users.ts';
export * from './documents.ts';
export * from './requests.ts';
export * from './audit.ts';
export * from './team.ts';
export * from './gates.ts';
