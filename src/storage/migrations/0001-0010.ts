/**
 * Migrations 0001–0010: the foundation, partners, applications, documents, the team and its audit chain.
 * Shipped migrations are never edited (see ../migrations.ts).
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const UP_TO_0010: Record<string, Migration> = {
  '0001_foundation': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('oidc_model')
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text')
        .addColumn('uid', 'text')
        .addColumn('user_code', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('consumed_at', 'bigint')
        .addPrimaryKeyConstraint('oidc_model_pk', ['env', 'model', 'id'])
        .execute();
      // Partial indexes: most rows (replay markers, interactions) have no grant or uid, and every index
      // costs each insert on the token endpoint's hot path. Expired rows are purged by a periodic scan.
      await db.schema
        .createIndex('oidc_model_grant')
        .on('oidc_model')
        .columns(['env', 'grant_id'])
        .where(sql.ref('grant_id'), 'is not', null)
        .execute();
      await db.schema
        .createIndex('oidc_model_uid')
        .on('oidc_model')
        .columns(['env', 'uid'])
        .where(sql.ref('uid'), 'is not', null)
        .execute();

      await db.schema
        .createTable('signing_key')
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('private_jwk', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('signing_key_pk', ['env', 'kid'])
        .execute();

      await db.schema
        .createTable('client')
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('vtr', 'text', (c) => c.notNull())
        .addColumn('im1', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('sso_to', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('client_pk', ['env', 'client_id'])
        .execute();

      await db.schema
        .createTable('person')
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('otp', 'text', (c) => c.notNull())
        .addColumn('proofing_level', 'text', (c) => c.notNull())
        .addColumn('highest_level', 'text', (c) => c.notNull())
        .addColumn('nhs_number', 'text')
        .addColumn('given_name', 'text')
        .addColumn('family_name', 'text')
        .addColumn('birthdate', 'text')
        .addColumn('postcode', 'text')
        .addColumn('phone_number', 'text')
        .addColumn('gp_ods_code', 'text')
        .addColumn('im1', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('gp_user_id', 'text')
        .addColumn('gp_linkage_key', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('person_pk', ['env', 'id'])
        .execute();
      await db.schema.createIndex('person_email').on('person').columns(['env', 'email']).unique().execute();

      await db.schema
        .createTable('protocol_event')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('correlation_id', 'text')
        .addColumn('person', 'text')
        .addColumn('details', 'text')
        .execute();
      await db.schema.createIndex('protocol_event_client').on('protocol_event').columns(['env', 'client_id', 'at']).execute();

      await db.schema
        .createTable('kv')
        .addColumn('ns', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addPrimaryKeyConstraint('kv_pk', ['ns', 'key'])
        .execute();

      await db.schema
        .createTable('client_user_metadata')
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('sub', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('client_user_metadata_pk', ['env', 'client_id', 'sub'])
        .execute();
    },
  },
  '0002_partners': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('partner_user')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('email_confirmed_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('organisation')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('ods_code', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('membership')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('membership_pk', ['organisation_id', 'user_id'])
        .execute();
      await db.schema.createIndex('membership_user').on('membership').column('user_id').execute();
      await db.schema
        .createTable('web_session')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('csrf', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('to_address', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .addColumn('error', 'text')
        .execute();
      await db.schema.alterTable('client').addColumn('organisation_id', 'text').execute();
      await db.schema.createIndex('client_organisation').on('client').column('organisation_id').execute();
    },
  },
  '0003_faults': {
    async up(db: Kysely<any>) {
      // The fault armed for a client (sandpit and integration only), as JSON {kind, remaining, until}.
      await db.schema.alterTable('client').addColumn('fault', 'text').execute();
    },
  },
  '0004_applications': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('application')
        .addColumn('organisation_id', 'text', (c) => c.primaryKey())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('answers', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('submitted_at', 'bigint')
        .execute();
    },
  },
  '0005_api_tokens': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('api_token')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();
    },
  },
  '0006_invitations': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('invitation')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('invited_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('accepted_at', 'bigint')
        .execute();
    },
  },
  '0007_partner_test_users': {
    async up(db: Kysely<any>) {
      // Integration test users a partner creates for itself, and their test-data switches.
      await db.schema.alterTable('person').addColumn('organisation_id', 'text').execute();
      await db.schema.alterTable('person').addColumn('otp_disabled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('person').addColumn('phone_pds_matched', 'integer').execute();
      await db.schema.createIndex('person_organisation').on('person').columns(['env', 'organisation_id']).execute();
    },
  },
  '0008_documents': {
    async up(db: Kysely<any>) {
      // Content as base64 text: one portable column type on both databases (documents are at most 10 MB).
      await db.schema
        .createTable('document')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('uploaded_by', 'text', (c) => c.notNull())
        .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('document_version', ['organisation_id', 'kind', 'version'])
        .execute();
    },
  },
  '0009_environment_requests': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('environment_request')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .execute();
    },
  },
  '0010_team_and_audit': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('team_user')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text')
        .addColumn('totp_secret', 'text')
        .addColumn('totp_last_step', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
