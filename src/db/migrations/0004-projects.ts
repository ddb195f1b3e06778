import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * Projects and who may do what in them. The owner is the project's `owner_id`, one person, never
 * a membership row (so a project cannot have none or two); everyone else holds one role through
 * `project_members`, optionally narrowed by a row filter (JSON). Emergency grants are time-limited
 * roles given from the command line; they are kept after they expire, as a record. A pending
 * ownership transfer is one row per project until the new owner accepts it.
 */
export const projects: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await withIdColumn(db.schema.createTable('projects'), dialect)
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('owner_id', idType, (c) => c.notNull().references('users.id'))
      .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('deleted_at', 'text')
      .execute();
    await db.schema.createIndex('projects_owner_id').on('projects').column('owner_id').execute();

    await db.schema
      .createTable('project_members')
      .addColumn('project_id', idType, (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('user_id', idType, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('row_filter', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('project_members_pk', ['project_id', 'user_id'])
      .execute();
    await db.schema.createIndex('project_members_user_id').on('project_members').column('user_id').execute();

    await withIdColumn(db.schema.createTable('emergency_grants'), dialect)
      .addColumn('project_id', idType, (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('user_id', idType, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('emergency_grants_project_user').on('emergency_grants').columns(['project_id', 'user_id']).execute();

    await db.schema
      .createTable('ownership_offers')
      .addColumn('project_id', idType, (c) => c.primaryKey().references('projects.id').onDelete('cascade'))
      .addColumn('to_user_id', idType, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('offered_by', idType, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
  },
});
