import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * Submissions received over OpenRosa (src/submissions). A submission is one logical record,
 * identified within its form by the instanceID of its first version; each edit (`deprecatedID`)
 * adds a version with its own instanceID, unique within the form, so a re-sent instance is
 * recognised whichever version it is. The XML is kept byte for byte as a blob. Attachments belong
 * to a version and are keyed by name; a row with no blob is a file the XML names that has not
 * arrived yet. Review and deletion columns come with the data API.
 */
export const submissions: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await withIdColumn(db.schema.createTable('submissions'), dialect)
      .addColumn('project_id', idType, (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('form_id', idType, (c) => c.notNull().references('forms.id').onDelete('cascade'))
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .addColumn('current_version_id', idType)
      .addColumn('submitted_by_user_id', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('submitted_by_device_id', idType)
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('submissions_form_instance').on('submissions').columns(['form_id', 'instance_id']).unique().execute();
    await db.schema.createIndex('submissions_project_created').on('submissions').columns(['project_id', 'created_at']).execute();

    await withIdColumn(db.schema.createTable('submission_versions'), dialect)
      .addColumn('submission_id', idType, (c) => c.notNull().references('submissions.id').onDelete('cascade'))
      .addColumn('form_id', idType, (c) => c.notNull().references('forms.id').onDelete('cascade'))
      .addColumn('form_version_id', idType, (c) => c.notNull().references('form_versions.id'))
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .addColumn('deprecated_id', 'text')
      .addColumn('instance_name', 'text')
      .addColumn('encrypted', 'integer', (c) => c.notNull())
      .addColumn('xml_blob', 'text', (c) => c.notNull())
      .addColumn('xml_sha256', 'text', (c) => c.notNull())
      .addColumn('xml_size', 'integer', (c) => c.notNull())
      .addColumn('fields_json', 'text')
      .addColumn('submitted_by_kind', 'text', (c) => c.notNull())
      .addColumn('submitted_by_id', idType)
      .addColumn('device_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('submission_versions_form_instance').on('submission_versions').columns(['form_id', 'instance_id']).unique().execute();
    await db.schema.createIndex('submission_versions_submission').on('submission_versions').columns(['submission_id']).execute();

    await withIdColumn(db.schema.createTable('submission_attachments'), dialect)
      .addColumn('version_id', idType, (c) => c.notNull().references('submission_versions.id').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('blob_id', 'text')
      .addColumn('md5', 'text')
      .addColumn('sha256', 'text')
      .addColumn('size', 'integer')
      .addColumn('content_type', 'text')
      .addColumn('referenced', 'integer', (c) => c.notNull())
      .addColumn('expected', 'integer', (c) => c.notNull())
      .addColumn('received_at', 'text')
      .execute();
    await db.schema.createIndex('submission_attachments_version_name').on('submission_attachments').columns(['version_id', 'name']).unique().execute();
  },
});
