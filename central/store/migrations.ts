// The central's schema, as migrations written once with Kysely's schema builder: the same steps
// create the same tables in SQLite and in PostgreSQL. Append new migrations; never edit one that
// has shipped (a database remembers which it ran).
import { Kysely, sql, type Migration, type MigrationProvider } from 'kysely';

/** Epoch milliseconds: bigint, as PostgreSQL's integer is 32 bits. */
const MS = 'bigint';

export const MIGRATIONS: Record<string, Migration> = {
  '0001-ingest': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sites')
        .addColumn('site_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text')
        .addColumn('first_seen', MS, (c) => c.notNull())
        .addColumn('last_observed', MS, (c) => c.notNull())
        .addColumn('boot_id', 'text')
        .addColumn('bd_seq', 'integer')
        .addColumn('version', 'text')
        .addColumn('connection', 'text', (c) => c.notNull().defaultTo('unknown'))
        .addColumn('connection_since', MS)
        .addColumn('roster', 'text')
        .execute();
      await db.schema
        .createTable('site_evidence')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('start_ms', MS, (c) => c.notNull())
        .addColumn('end_ms', MS, (c) => c.notNull())
        .addPrimaryKeyConstraint('site_evidence_pk', ['site_id', 'start_ms'])
        .execute();
      await db.schema
        .createTable('cameras')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('camera_id', 'text', (c) => c.notNull())
        .addColumn('first_meta_at', MS, (c) => c.notNull())
        .addColumn('removed_at', MS)
        .addColumn('meta_at', MS, (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('class', 'integer')
        .addColumn('latitude', 'double precision')
        .addColumn('longitude', 'double precision')
        .addColumn('region', 'text')
        .addColumn('owner', 'text')
        .addColumn('manufacturer', 'text')
        .addColumn('model', 'text')
        .addColumn('firmware', 'text')
        .addColumn('serial', 'text')
        .addColumn('main_height', 'integer')
        .addColumn('meta', 'text', (c) => c.notNull())
        .addColumn('state', 'text')
        .addColumn('status_at', MS)
        .addColumn('picture', 'text')
        .addColumn('faults', 'text')
        .addColumn('reason', 'text')
        .addPrimaryKeyConstraint('cameras_pk', ['site_id', 'camera_id'])
        .execute();
      await db.schema.createIndex('cameras_region').on('cameras').column('region').execute();
      await db.schema
        .createTable('camera_lifetimes')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('camera_id', 'text', (c) => c.notNull())
        .addColumn('start_ms', MS, (c) => c.notNull())
        .addColumn('end_ms', MS)
        .addPrimaryKeyConstraint('camera_lifetimes_pk', ['site_id', 'camera_id', 'start_ms'])
        .execute();
      await db.schema
        .createTable('meta_history')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('camera_id', 'text', (c) => c.notNull())
        .addColumn('at', MS, (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('class', 'integer')
        .addColumn('region', 'text')
        .addColumn('owner', 'text')
        .addColumn('has_coordinates', 'integer', (c) => c.notNull())
        .addColumn('main_height', 'integer')
        .addPrimaryKeyConstraint('meta_history_pk', ['site_id', 'camera_id', 'at', 'message_id'])
        .execute();
      await db.schema
        .createTable('status_points')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('camera_id', 'text', (c) => c.notNull())
        .addColumn('at', MS, (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('picture', 'text', (c) => c.notNull())
        .addColumn('faults', 'text')
        .addColumn('reason', 'text')
        .addPrimaryKeyConstraint('status_points_pk', ['site_id', 'camera_id', 'at', 'message_id'])
        .execute();
      await db.schema
        .createTable('events')
        .addColumn('message_id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('camera_id', 'text')
        .addColumn('at', MS, (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('historical', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_site_at').on('events').columns(['site_id', 'at']).execute();
      await db.schema
        .createTable('messages_seen')
        .addColumn('message_id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('received_at', MS, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('metrics_latest')
        .addColumn('site_id', 'text', (c) => c.primaryKey())
        .addColumn('at', MS, (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('ingest_rejects')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addColumn('first_at', MS, (c) => c.notNull())
        .addColumn('last_at', MS, (c) => c.notNull())
        .addColumn('example', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ingest_rejects_pk', ['site_id', 'reason'])
        .execute();
    },
  },
  '0002-figures': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('camera_days')
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('camera_id', 'text', (c) => c.notNull())
        .addColumn('counted_ms', MS, (c) => c.notNull())
        .addColumn('known_ms', MS, (c) => c.notNull())
        .addColumn('online_ms', MS, (c) => c.notNull())
        .addColumn('offline_ms', MS, (c) => c.notNull())
        .addColumn('intact_known_ms', MS, (c) => c.notNull())
        .addColumn('intact_ms', MS, (c) => c.notNull())
        .addColumn('fault_ms', MS, (c) => c.notNull())
        .addColumn('causes', 'text', (c) => c.notNull())
        .addColumn('class', 'integer')
        .addColumn('region', 'text')
        .addColumn('owner', 'text')
        .addColumn('has_coordinates', 'integer', (c) => c.notNull())
        .addColumn('main_height', 'integer')
        .addColumn('present_at_end', 'integer', (c) => c.notNull())
        .addColumn('carry', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('camera_days_pk', ['day', 'site_id', 'camera_id'])
        .execute();
      await db.schema.createIndex('camera_days_camera').on('camera_days').columns(['site_id', 'camera_id', 'day']).execute();
      await db.schema
        .createTable('figures_days')
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('computed_through', MS, (c) => c.notNull())
        .addColumn('computed_at', MS, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('figures_dirty')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('figures_dirty_pk', ['site_id', 'day'])
        .execute();
    },
  },
  '0003-auth': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('username', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', MS, (c) => c.notNull())
        .addColumn('updated_at', MS, (c) => c.notNull())
        .addColumn('password_changed_at', MS, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('created_at', MS, (c) => c.notNull())
        .addColumn('last_seen', MS, (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_username').on('sessions').column('username').execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('role', 'text')
        .addColumn('scope', 'text')
        .addColumn('created_at', MS, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('expires_at', MS)
        .addColumn('last_used_at', MS)
        .addColumn('revoked_at', MS)
        .execute();
      await db.schema.createIndex('api_tokens_username').on('api_tokens').column('username').execute();
      await db.schema
        .createTable('audit')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('at', MS, (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('address', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('site_id', 'text')
        .addColumn('camera_id', 'text')
        .addColumn('scope', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_at').on('audit').columns(['at', 'id']).execute();
      await db.schema.createIndex('audit_site_at').on('audit').columns(['site_id', 'at']).execute();
    },
  },
  '0004-alarms': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('alarms')
        .addColumn('alarm_id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull())
        // '' for an alarm of the site itself: NULLs would never collide in the unique index below.
        .addColumn('camera_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('opened_at', MS, (c) => c.notNull())
        .addColumn('opened_by', 'text', (c) => c.notNull())
        .addColumn('last_fault_at', MS, (c) => c.notNull())
        .addColumn('ok_before', MS)
        .addColumn('detail', 'text', (c) => c.notNull())
        .addColumn('historical', 'integer', (c) => c.notNull())
        .addColumn('acked_at', MS)
        .addColumn('acked_by', 'text')
        .addColumn('ack_note', 'text')
        .addColumn('cleared_at', MS)
        .addColumn('cleared_by', 'text')
        .execute();
      // One alarm not cleared per (site, camera, kind), whichever instance opens it.
      await db.schema
        .createIndex('alarms_one_open')
        .unique()
        .on('alarms')
        .columns(['site_id', 'camera_id', 'kind'])
        .where(sql<boolean>`cleared_at is null`)
        .execute();
      await db.schema.createIndex('alarms_key').on('alarms').columns(['site_id', 'camera_id', 'kind', 'opened_at']).execute();
      await db.schema.createIndex('alarms_newest').on('alarms').columns(['opened_at', 'alarm_id']).execute();
      await db.schema
        .createTable('alarm_latest')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('camera_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('at', MS)
        .addColumn('fault', 'integer')
        .addColumn('ok_since', MS)
        .addPrimaryKeyConstraint('alarm_latest_pk', ['site_id', 'camera_id', 'kind'])
        .execute();
    },
  },
  '0006-history': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('site_connections')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('at', MS, (c) => c.notNull())
        .addColumn('connection', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('bd_seq', 'integer')
        .addPrimaryKeyConstraint('site_connections_pk', ['site_id', 'at', 'connection'])
        .execute();
      await db.schema
        .createTable('metrics_hourly')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('hour', MS, (c) => c.notNull())
        .addColumn('samples', 'integer', (c) => c.notNull())
        .addColumn('load_avg_max', 'double precision')
        .addColumn('cpu_percent_max', 'double precision')
        .addColumn('mem_free_min', MS)
        .addColumn('disk_free_percent_min', 'double precision')
        .addColumn('temperature_max', 'double precision')
        .addColumn('agent_rss_max', MS)
        .addColumn('outbox_depth_max', MS)
        .addColumn('outbox_dropped_max', MS)
        .addColumn('cameras_offline_max', 'integer')
        .addPrimaryKeyConstraint('metrics_hourly_pk', ['site_id', 'hour'])
        .execute();
    },
  },
  // Each central instance adds its samples to rows of its own (the writer column): with one row
  // per site and hour, two instances sharing a database both added to it in every batch and each
  // waited for the other's commit. Readers fold the rows of an hour (ledger/history.ts).
  '0007-metrics-hourly-writers': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('metrics_hourly_by_writer')
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('hour', MS, (c) => c.notNull())
        .addColumn('writer', 'text', (c) => c.notNull())
        .addColumn('samples', 'integer', (c) => c.notNull())
        .addColumn('load_avg_max', 'double precision')
        .addColumn('cpu_percent_max', 'double precision')
        .addColumn('mem_free_min', MS)
        .addColumn('disk_free_percent_min', 'double precision')
        .addColumn('temperature_max', 'double precision')
        .addColumn('agent_rss_max', MS)
        .addColumn('outbox_depth_max', MS)
        .addColumn('outbox_dropped_max', MS)
        .addColumn('cameras_offline_max', 'integer')
        .addPrimaryKeyConstraint('metrics_hourly_writer_pk', ['site_id', 'hour', 'writer'])
        .execute();
      await sql`insert into metrics_hourly_by_writer (site_id, hour, writer, samples, load_avg_max, cpu_percent_max, mem_free_min, disk_free_percent_min, temperature_max, agent_rss_max, outbox_depth_max, outbox_dropped_max, cameras_offline_max)
        select site_id, hour, '', samples, load_avg_max, cpu_percent_max, mem_free_min, disk_free_percent_min, temperature_max, agent_rss_max, outbox_depth_max, outbox_dropped_max, cameras_offline_max from metrics_hourly`.execute(
        db,
      );
      await db.schema.dropTable('metrics_hourly').execute();
      await db.schema.alterTable('metrics_hourly_by_writer').renameTo('metrics_hourly').execute();
    },
  },
  // Raised by every measurement of a day, whole or for some of its sites, in the transaction that
  // replaces its rows: pooled figures kept in memory are good while their days' revisions hold
  // (figures/cache.ts). computed_at moves only when a whole day is measured.
  '0008-figures-revision': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('figures_days')
        .addColumn('revision', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  // When each user last logged in, for the admins' user list: the audit log has it too, but
  // finding each user's newest login there is a scan of the whole log.
  '0009-users-last-login': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('last_login_at', MS).execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
