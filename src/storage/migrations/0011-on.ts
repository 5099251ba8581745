/**
 * Migrations from 0011 on: append new ones at the end of this file. Shipped migrations are never edited
 * (see ../migrations.ts).
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { RECORD_CODES } from './0025-record-codes.ts';
import { GP_STATES_MIGRATION } from './0028-gp-states.ts';
import { SESSION_RULES } from './0029-session-rules.ts';
import { PASSKEYS } from './0030-passkeys.ts';
import { NHS_APP } from './0031-nhs-app.ts';
import { PROXY_LINKS } from './0032-proxy-links.ts';
import { FAULT_SEQUENCES } from './0033-fault-sequences.ts';

export const FROM_0011: Record<string, Migration> = {
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
        and (newer.created_at > conformance_run.created_at
          or (newer.created_at = conformance_run.created_at and newer.id > conformance_run.id)))`;
      await sql`update conformance_result set status = 'could_not_run', detail = ${detail}, finished_at = ${now}
        where status in ('pending', 'running') and run_id in (select id from conformance_run where ${duplicate})`.execute(db);
      await sql`update conformance_run set status = 'error', finished_at = ${now} where ${duplicate}`.execute(db);
      await db.schema
        .createIndex('conformance_run_one_running')
        .on('conformance_run')
        .columns(['env', 'client_id'])
        .unique()
        .where(sql.ref('status'), '=', 'running')
        .execute();
    },
  },
  '0020_one_current_signing_key': {
    async up(db: Kysely<any>) {
      // One current and at most one next key per environment, held by the database: two instances starting at once
      // on a new database each saw no current key and inserted one. Where that happened, instances sign with the
      // oldest current key (loadSigningKeys orders by creation), so the newer ones are retired (they stay published
      // until removed); extra next keys never signed anything and are dropped.
      const now = Date.now();
      const newer = (state: string) => sql`state = ${state} and exists (select 1 from signing_key older where older.env = signing_key.env
        and older.state = ${state} and (older.created_at < signing_key.created_at
        or (older.created_at = signing_key.created_at and older.kid < signing_key.kid)))`;
      await sql`update signing_key set state = 'retired', changed_at = ${now} where ${newer('current')}`.execute(db);
      await sql`delete from signing_key where ${newer('next')}`.execute(db);
      for (const state of ['current', 'next']) {
        await db.schema
          .createIndex(`signing_key_one_${state}`)
          .on('signing_key')
          .column('env')
          .unique()
          .where(sql.ref('state'), '=', state)
          .execute();
      }
    },
  },
  '0021_conformance_run_lease': {
    async up(db: Kysely<any>) {
      // Which process executes a run and until when it has promised to renew that (conformance/lease.ts). Runs
      // recorded before have neither: the sweep gives them the old rule (ended ten minutes after they started).
      await db.schema.alterTable('conformance_run').addColumn('lease_holder', 'text').execute();
      await db.schema.alterTable('conformance_run').addColumn('lease_until', 'bigint').execute();
    },
  },
  '0022_delivery_claims': {
    async up(db: Kysely<any>) {
      // Mail and chat deliveries are claimed with a lease before they are sent (storage/deliveries.ts): two instances
      // used to select the same due rows and both send them. Mail gets an explicit due time, as chat has: mail the
      // SMTP server refused is due again after 30 s, 60 s, 120 s... from its creation, as the retry loop counted it.
      for (const table of ['outbox', 'notification']) {
        await db.schema.alterTable(table).addColumn('claim', 'text').execute();
        await db.schema.alterTable(table).addColumn('claimed_until', 'bigint').execute();
      }
      await db.schema.alterTable('outbox').addColumn('next_attempt_at', 'bigint').execute();
      await sql`update outbox
        set next_attempt_at = created_at + 30000 * (case attempts when 1 then 1 when 2 then 2 when 3 then 4 else 8 end)
        where sent_at is null and error is not null and attempts < 5`.execute(db);
      // The outbox keeps every message ever sent; the ones waiting are few.
      await db.schema.createIndex('outbox_due').on('outbox').column('next_attempt_at').where(sql.ref('sent_at'), 'is', null).execute();
    },
  },
  '0023_attempt_not_before': {
    async up(db: Kysely<any>) {
      // Sign-in throttling per (account, address) makes the pair wait after repeated failures instead of locking the
      // account for everybody (storage/lockout.ts).
      await db.schema.alterTable('attempt_counter').addColumn('not_before', 'bigint').execute();
    },
  },
  '0024_attempt_check_until': {
    async up(db: Kysely<any>) {
      // A check under way is one until this time (storage/lockout.ts): a process that died mid-check, or a database
      // that went away before the check was ended, left the pair "busy" until its window ran out.
      await db.schema.alterTable('attempt_counter').addColumn('check_until', 'bigint').execute();
    },
  },
  '0025_record_codes': RECORD_CODES,
  '0026_users_v2': {
    async up(db: Kysely<any>) {
      // Users Endpoint V2 (its interface specification §2): the NHS login team approves each client for it, off until then.
      await db.schema.alterTable('client').addColumn('users_v2', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      // Its look-ups are by NHS number as well as by email (which has its unique index already).
      await db.schema.createIndex('person_nhs_number').on('person').columns(['env', 'nhs_number']).execute();
    },
  },
  '0027_provisioning': {
    async up(db: Kysely<any>) {
      // Provision Account (spec-Provision_Account_v1 §2): the NHS login team approves each client for it, with the ODS codes
      // it may provision for (P§3.3.1 T7 `ods_code`; 11021 otherwise), off until then.
      await db.schema.alterTable('client').addColumn('provisioning', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('client').addColumn('provisioning_ods', 'text').execute();
      // Each accepted request, kept before the answer says it was accepted; only a hash of the claiming link's token.
      await db.schema.createTable('provision_request')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('organisation_id', 'text')
        .addColumn('ods_code', 'text', (c) => c.notNull())
        .addColumn('nhs_number', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('birthdate', 'text', (c) => c.notNull())
        .addColumn('phone_number', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('person_id', 'text')
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('otp_failures', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('claimed_at', 'bigint')
        .execute();
      await db.schema.createIndex('provision_request_nhs').on('provision_request').columns(['env', 'nhs_number', 'status']).execute();
    },
  },
  '0028_gp_states': GP_STATES_MIGRATION,
  '0029_session_rules': SESSION_RULES,
  '0030_passkeys': PASSKEYS,
  '0031_nhs_app': NHS_APP,
  '0032_proxy_links': PROXY_LINKS,
  '0033_fault_sequences': FAULT_SEQUENCES,
};
