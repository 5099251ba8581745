/**
 * Migration 0030: passkeys (WebAuthn / FIDO2 credentials), which NHS login offers alongside FIDO UAF (nhs-login-docs
 * fido.md; issue 15 §5). One row per credential a person registered from the settings page. The public key is the
 * COSE key the authenticator sent (base64url), verified with @simplewebauthn/server, never parsed here.
 */
import type { Kysely, Migration } from 'kysely';

export const PASSKEYS: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('passkey')
      // The credential ID (base64url) is the authenticator's own, unique across people and environments: an assertion
      // names it, and that is how the sign-in finds the person (a discoverable credential, no username typed).
      .addColumn('credential_id', 'text', (c) => c.primaryKey())
      .addColumn('env', 'text', (c) => c.notNull())
      .addColumn('person_id', 'text', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      // The signature counter (WebAuthn L3 §6.1.1): 0 for authenticators that keep none (most synced passkeys).
      .addColumn('counter', 'bigint', (c) => c.notNull())
      // JSON array of AuthenticatorTransport strings, handed back in allowCredentials/excludeCredentials.
      .addColumn('transports', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .execute();
    await db.schema.createIndex('passkey_person').on('passkey').columns(['env', 'person_id']).execute();
  },
};
