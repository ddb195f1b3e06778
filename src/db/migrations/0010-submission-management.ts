import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * Review, comments and the trash of submissions (src/submissions: review.ts, trash.ts). A
 * submission's review status is one of `approved`, `not_approved`, `on_hold` (null: not reviewed),
 * with who set it and when; comments are their own rows. A deleted submission keeps every row and
 * blob, marked with `deleted_at`/`deleted_by_user_id`, until the purge removes it after the
 * retention period (FIELDKEEP_TRASH_RETENTION_DAYS); the index serves that purge.
 */
export const submissionManagement: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    const columns: Array<[string, string, boolean]> = [
      ['review_status', 'text', false],
      ['reviewed_by_user_id', idType, true],
      ['reviewed_at', 'text', false],
      ['deleted_at', 'text', false],
      ['deleted_by_user_id', idType, true],
    ];
    for (const [name, type, user] of columns) {
      await db.schema
        .alterTable('submissions')
        .addColumn(name, type as 'text', (c) => (user ? c.references('users.id').onDelete('set null') : c))
        .execute();
    }
    await db.schema.createIndex('submissions_deleted_at').on('submissions').column('deleted_at').execute();

    await withIdColumn(db.schema.createTable('submission_comments'), dialect)
      .addColumn('submission_id', idType, (c) => c.notNull().references('submissions.id').onDelete('cascade'))
      .addColumn('author_user_id', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('author_label', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('submission_comments_submission').on('submission_comments').columns(['submission_id', 'id']).execute();
  },
});
