/** The storage port: one schema on SQLite or PostgreSQL, and the data-access functions over it. */
export { isUniqueViolation, openDatabase, type Database, type Db } from './db.ts';
export { EVENT_RETENTION_MS, oidcAdapterFactory, purgeExpired } from './oidc-adapter.ts';
export * from './clients.ts';
export * from './people.ts';
export * from './signing-keys.ts';
export * from './kv.ts';
export * from './events.ts';
export * from './record.ts';
export type * from './schema.ts';
export * from './lockout.ts';
export * from './deliveries.ts';
export * from './outbox.ts';
export * from './provisioning.ts';
export * from './gp-states.ts';
export * from './passkeys.ts';
export * from './host-app.ts';
export * from './proxy-links.ts';
