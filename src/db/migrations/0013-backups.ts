import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * Backup runs (src/backups): one row per attempt to write an archive, scheduled or asked for, with
 * where it went and how it ended, and the latest verification of it. What admins and `fieldkeep
 * doctor` read for "last successful backup"; never backed up itself (it describes the source's files).
 */
export const backups: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    await withIdColumn(db.schema.createTable('backup_runs'), dialect)
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('file', 'text')
      .addColumn('bytes', dialect === 'postgres' ? 'bigint' : 'integer')
      .addColumn('archive_sha256', 'text')
      .addColumn('rows', dialect === 'postgres' ? 'bigint' : 'integer')
      .addColumn('blobs', dialect === 'postgres' ? 'bigint' : 'integer')
      .addColumn('error_message', 'text')
      .addColumn('verified_at', 'text')
      .addColumn('verify_ok', 'integer')
      .addColumn('verify_message', 'text')
      .execute();
    await db.schema.createIndex('backup_runs_state_id').on('backup_runs').columns(['state', 'id']).execute();
  },
});
