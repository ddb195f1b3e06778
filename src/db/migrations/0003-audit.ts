import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';

/**
 * The hash-chained audit log. Ids are assigned by the log itself (head.last_id + 1 under the head
 * row's lock), not by a sequence, so they are gap-free and a removed entry shows as a gap. The
 * one-row head records the last id and hash: the lock that serialises appends, and the marker that
 * shows a removed tail. No foreign keys: entries outlive the users and projects they name.
 */
export const audit: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await db.schema
      .createTable('audit_log')
      .addColumn('id', idType, (c) => c.primaryKey())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('actor_kind', 'text', (c) => c.notNull())
      .addColumn('actor_id', idType)
      .addColumn('actor_label', 'text')
      .addColumn('address', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('resource_type', 'text')
      .addColumn('resource_id', 'text')
      .addColumn('project_id', idType)
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_project_at').on('audit_log').columns(['project_id', 'at']).execute();
    await db.schema.createIndex('audit_log_actor_action_at').on('audit_log').columns(['actor_id', 'action', 'at']).execute();
    await db.schema.createIndex('audit_log_action_at').on('audit_log').columns(['action', 'at']).execute();
    await db.schema
      .createTable('audit_head')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('last_id', idType, (c) => c.notNull())
      .addColumn('last_hash', 'text', (c) => c.notNull())
      .execute();
    await db.insertInto('audit_head').values({ id: 1, last_id: 0, last_hash: '0'.repeat(64) }).execute();
  },
});
