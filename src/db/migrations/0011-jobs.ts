import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * The background job runner (src/jobs). A job is queued, claimed by one runner (which sets
 * `claimed_by` and beats `heartbeat_at` while it works), and ends succeeded, failed or cancelled;
 * `run_after` delays a job or a retry. `expires_at` says when what a job produced is deleted (its
 * kind's `expire`), after which `result_json` is cleared. Progress counts are bigint on PostgreSQL
 * because a backup counts bytes. `job_schedule` holds the cron schedules: each due time becomes
 * one job, whatever the number of runners.
 */
export const jobs: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await withIdColumn(db.schema.createTable('job'), dialect)
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('project_id', idType, (c) => c.references('projects.id').onDelete('cascade'))
      .addColumn('actor_kind', 'text')
      .addColumn('actor_id', idType)
      .addColumn('payload_json', 'text', (c) => c.notNull())
      .addColumn('progress_done', idType, (c) => c.notNull())
      .addColumn('progress_total', idType)
      .addColumn('result_json', 'text')
      .addColumn('error_code', 'text')
      .addColumn('error_message', 'text')
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('run_after', 'text', (c) => c.notNull())
      .addColumn('claimed_by', 'text')
      .addColumn('heartbeat_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .addColumn('expires_at', 'text')
      .execute();
    await db.schema.createIndex('job_claim').on('job').columns(['state', 'run_after', 'id']).execute();
    await db.schema.createIndex('job_heartbeat').on('job').columns(['state', 'heartbeat_at']).execute();
    await db.schema.createIndex('job_expires').on('job').column('expires_at').execute();
    await db.schema.createIndex('job_project_kind').on('job').columns(['project_id', 'kind', 'id']).execute();

    await db.schema
      .createTable('job_schedule')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('cron', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload_json', 'text', (c) => c.notNull())
      .addColumn('next_run_at', 'text', (c) => c.notNull())
      .addColumn('last_run_at', 'text')
      .addColumn('last_job_id', idType, (c) => c.references('job.id').onDelete('set null'))
      .execute();
  },
});
