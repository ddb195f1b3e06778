import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * Saved export settings (src/exports): a form's export options under a name, so that a stable URL
 * (`…/exports/settings/{id}/data.csv`) always serves the same export of the current data. A
 * setting goes with its form or project; its creator may leave.
 */
export const exportSettings: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await withIdColumn(db.schema.createTable('export_settings'), dialect)
      .addColumn('project_id', idType, (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('form_id', idType, (c) => c.notNull().references('forms.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('options_json', 'text', (c) => c.notNull())
      .addColumn('created_by_user_id', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('export_settings_form').on('export_settings').columns(['project_id', 'form_id']).execute();
  },
});
