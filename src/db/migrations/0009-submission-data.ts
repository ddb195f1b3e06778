import { sql, type Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { typedAnswersJson } from '../../submissions/typed-values.js';
import type { FormSchema } from '../../xform/index.js';

/**
 * The submission data API (src/submissions/data*.ts): each version's answers as typed JSON
 * (`data_json`, src/submissions/typed-values.ts), and the index that pages a form's submissions by id.
 *
 * The column is `jsonb` on PostgreSQL and JSON text on SQLite: both can then filter inside the
 * database (`->`/`->>` and `json_extract`), and jsonb takes expression or GIN indexes when a
 * deployment needs them for one field. Versions stored before this migration are typed here, from
 * their `fields_json` and their form version's schema, so every row can be filtered.
 */
export const submissionData: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('submission_versions')
      .addColumn('data_json', dialect === 'postgres' ? sql`jsonb` : 'text')
      .execute();
    await db.schema.createIndex('submissions_form_id').on('submissions').columns(['form_id', 'id']).execute();
    await typeStoredAnswers(db);
  },
});

const BATCH = 500;

/** Types every stored version that has answers (exported for its test). */
export async function typeStoredAnswers(db: Kysely<any>): Promise<void> {
  const schemas = new Map<number, FormSchema>();
  for (let after = 0; ; ) {
    const rows: Array<{ id: number; form_version_id: number; fields_json: string }> = await db
      .selectFrom('submission_versions')
      .select(['id', 'form_version_id', 'fields_json'])
      .where('id', '>', after)
      .where('fields_json', 'is not', null)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    if (rows.length === 0) return;
    for (const row of rows) {
      const versionId = Number(row.form_version_id);
      if (!schemas.has(versionId)) {
        const { schema_json } = await db.selectFrom('form_versions').select('schema_json').where('id', '=', versionId).executeTakeFirstOrThrow();
        schemas.set(versionId, JSON.parse(schema_json as string) as FormSchema);
      }
      await db.updateTable('submission_versions').set({ data_json: typedAnswersJson(row.fields_json, schemas.get(versionId)!) }).where('id', '=', row.id).execute();
    }
    after = Number(rows[rows.length - 1]!.id);
  }
}
