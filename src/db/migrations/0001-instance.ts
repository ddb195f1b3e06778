import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { isoNow } from '../columns.js';

/** The instance's identity: one row, made once, carried by backups so a restore knows its origin. */
export const instance: MigrationFactory = () => ({
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('instance')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.insertInto('instance').values({ id: randomUUID(), created_at: isoNow() }).execute();
  },
});
