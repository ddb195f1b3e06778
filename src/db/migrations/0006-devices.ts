import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * Devices: named collector credentials for one project (a phone running ODK Collect or
 * KoboCollect). Only the SHA-256 of the token is stored. A revoked device keeps its row, so the
 * audit log and submissions can still name it.
 */
export const devices: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await withIdColumn(db.schema.createTable('devices'), dialect)
      .addColumn('project_id', idType, (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('created_by', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text')
      .addColumn('revoked_at', 'text')
      .addColumn('last_used_at', 'text')
      .execute();
    await db.schema.createIndex('devices_token_hash').on('devices').column('token_hash').unique().execute();
    await db.schema.createIndex('devices_project').on('devices').column('project_id').execute();
  },
});
