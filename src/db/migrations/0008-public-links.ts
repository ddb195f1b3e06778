import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * Public links (src/public-links): anonymous submission to one form, optionally single-use. Only
 * the SHA-256 of the token is stored. `used_at` is set when a single-use link makes its
 * submission. A revoked or used link keeps its row, so the audit log and its submissions can
 * still name it; it goes with its form or project.
 */
export const publicLinks: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await withIdColumn(db.schema.createTable('public_links'), dialect)
      .addColumn('project_id', idType, (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('form_id', idType, (c) => c.notNull().references('forms.id').onDelete('cascade'))
      .addColumn('label', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('once', 'integer', (c) => c.notNull())
      .addColumn('created_by', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text')
      .addColumn('revoked_at', 'text')
      .addColumn('used_at', 'text')
      .execute();
    await db.schema.createIndex('public_links_token_hash').on('public_links').column('token_hash').unique().execute();
    await db.schema.createIndex('public_links_form').on('public_links').columns(['project_id', 'form_id']).execute();
  },
});
