/**
 * One migration set for both dialects. Only portable column types are used (text, integer, bigint).
 * Append new migrations; never edit one that has shipped.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const migrations: Record<string, Migration> = {
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
      await db.schema.createIndex('oidc_model_grant').on('oidc_model').columns(['env', 'grant_id']).where(sql.ref('grant_id'), 'is not', null).execute();
      await db.schema.createIndex('oidc_model_uid').on('oidc_model').columns(['env', 'uid']).where(sql.ref('uid'), 'is not', null).execute();

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
  '0011_attempt_counters': {
    async up(db: Kysely<any>) {
      // Lockout counters move out of kv into a table with an integer count, so an attempt can be reserved
      // by one atomic upsert (storage/lockout.ts). Old kv counters are dropped: at worst a lockout ends early.
      await db.schema
        .createTable('attempt_counter')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.deleteFrom('kv').where('ns', '=', 'lockout').execute();
    },
  },
  '0012_signing_key_changed_at': {
    async up(db: Kysely<any>) {
      // When a key last changed state: a retired key stays published until the tokens it signed have expired.
      await db.schema.alterTable('signing_key').addColumn('changed_at', 'bigint').execute();
    },
  },
  '0013_pds_trace_switch': {
    async up(db: Kysely<any>) {
      // Test-data switch: "prove your identity" finds no PDS match for this person (uplift failure journeys).
      await db.schema.alterTable('person').addColumn('pds_trace_fails', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
  '0014_evidence_ticks': {
    async up(db: Kysely<any>) {
      // A checklist item once ticked stays ticked, with a copy of the events that ticked it, after the
      // protocol record's retention has removed them.
      await db.schema
        .createTable('evidence_tick')
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('item_id', 'text', (c) => c.notNull())
        .addColumn('ticked_at', 'bigint', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('evidence_tick_pk', ['env', 'client_id', 'item_id'])
        .execute();
    },
  },
  '0015_conformance': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('conformance_run')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('organisation_id', 'text')
        .addColumn('start_url', 'text', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('report', 'text')
        .execute();
      await db.schema.createIndex('conformance_run_client').on('conformance_run').columns(['env', 'client_id', 'created_at']).execute();
      await db.schema
        .createTable('conformance_result')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('test_id', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('evidence', 'text')
        .addColumn('screenshot', 'text')
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addPrimaryKeyConstraint('conformance_result_pk', ['run_id', 'test_id'])
        .execute();
    },
  },
  '0016_gates_comments_notifications': {
    async up(db: Kysely<any>) {
      // What a delivery manager records at a gate (criteria data cannot decide).
      await db.schema
        .createTable('gate_criterion')
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('gate', 'text', (c) => c.notNull())
        .addColumn('criterion', 'text', (c) => c.notNull())
        .addColumn('met', 'integer', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('recorded_by', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('gate_criterion_pk', ['organisation_id', 'gate', 'criterion'])
        .execute();
      // The thread between a partner and the team.
      await db.schema
        .createTable('comment')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('organisation_id', 'text', (c) => c.notNull())
        .addColumn('author_side', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('comment_organisation').on('comment').columns(['organisation_id', 'created_at']).execute();
      // Chat webhook deliveries, retried until sent or given up (visible in the console either way).
      await db.schema
        .createTable('notification')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .execute();
      await db.schema.alterTable('outbox').addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await db.schema.alterTable('organisation').addColumn('delivery_manager', 'text').execute();
      await db.schema.alterTable('environment_request').addColumn('reason', 'text').execute();
    },
  },
  '0017_client_conformance_until': {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('client').addColumn('conformance_until', 'bigint').execute();
    },
  },
  '0018_attempt_inflight': {
    async up(db: Kysely<any>) {
      // Checks under way per key (storage/lockout.ts). Added here, not in 0011: databases that ran 0011 before
      // the column existed must get it too.
      await db.schema.alterTable('attempt_counter').addColumn('inflight', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  },
  '0019_one_running_conformance_run': {
    async up(db: Kysely<any>) {
      // One run at a time per client, held by the database: a check before the insert let two requests at once
      // both start one (each launches a Chromium). Runs already running side by side end as errors first, all
      // but the newest, so that the index can be built.
      const now = Date.now();
      const detail = 'The run stopped: another run for this client was started at the same time';
      const duplicate = sql`status = 'running' and exists (select 1 from conformance_run newer where newer.env = conformance_run.env
        and newer.client_id = conformance_run.client_id and newer.status = 'running'
        and (newer.created_at > conformance_run.created_at or (newer.created_at = conformance_run.created_at and newer.id > conformance_run.id)))`;
      await sql`update conformance_result set status = 'could_not_run', detail = ${detail}, finished_at = ${now}
        where status in ('pending', 'running') and run_id in (select id from conformance_run where ${duplicate})`.execute(db);
      await sql`update conformance_run set status = 'error', finished_at = ${now} where ${duplicate}`.execute(db);
      await db.schema.createIndex('conformance_run_one_running').on('conformance_run').columns(['env', 'client_id']).unique().where(sql.ref('status'), '=', 'running').execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrate(db: Kysely<any>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`, { cause: error });
  }
}
