import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * Forms, their versions and their media. A form is identified inside its project by the XForm's
 * `id` (`xml_form_id`); each upload makes a version row holding the exact XForm bytes served to
 * phones (a blob) and the original upload. A version is a draft until published; published
 * versions are kept for ever, and their version strings are unique within the form. Media files
 * belong to the form, keyed by name, so replacing a CSV does not need a new form version.
 */
export const forms: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await withIdColumn(db.schema.createTable('forms'), dialect)
      .addColumn('project_id', idType, (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('xml_form_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('published_version_id', idType)
      .addColumn('draft_version_id', idType)
      .addColumn('created_by', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('deleted_at', 'text')
      .execute();
    await db.schema.createIndex('forms_project_xml_form_id').on('forms').columns(['project_id', 'xml_form_id']).unique().execute();

    await withIdColumn(db.schema.createTable('form_versions'), dialect)
      .addColumn('form_id', idType, (c) => c.notNull().references('forms.id').onDelete('cascade'))
      .addColumn('version', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('xform_blob', 'text', (c) => c.notNull())
      .addColumn('xform_md5', 'text', (c) => c.notNull())
      .addColumn('xform_size', 'integer', (c) => c.notNull())
      .addColumn('schema_json', 'text', (c) => c.notNull())
      .addColumn('media_json', 'text', (c) => c.notNull())
      .addColumn('warnings_json', 'text', (c) => c.notNull())
      .addColumn('encrypted', 'integer', (c) => c.notNull())
      .addColumn('source_kind', 'text', (c) => c.notNull())
      .addColumn('source_name', 'text', (c) => c.notNull())
      .addColumn('source_blob', 'text', (c) => c.notNull())
      .addColumn('created_by', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('published_at', 'text')
      .execute();
    await db.schema
      .createIndex('form_versions_published_version')
      .on('form_versions')
      .columns(['form_id', 'version'])
      .unique()
      .where(sql.ref('published_at'), 'is not', null)
      .execute();

    await withIdColumn(db.schema.createTable('form_media'), dialect)
      .addColumn('form_id', idType, (c) => c.notNull().references('forms.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('blob_id', 'text', (c) => c.notNull())
      .addColumn('md5', 'text', (c) => c.notNull())
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('content_type', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('form_media_form_name').on('form_media').columns(['form_id', 'name']).unique().execute();
  },
});
