import { sql, type Kysely } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { useMigratedDatabase } from '../../test/support/migrated-database.js';
import { rowFilterCondition, type FilterColumns, type RowFilter } from './row-filter.js';

/** A stand-in for the submissions table of a later issue: a submitter and JSON data. */
interface Sample {
  samples: { id: number; submitted_by: number | null; data: string };
}

describeEachDatabase('row filters as SQL', (kind) => {
  const env = useMigratedDatabase(kind, 2);
  const db = () => env().database.db as unknown as Kysely<Sample>;
  const columns: FilterColumns<Sample, 'samples'> = {
    submittedBy: (eb) => eb.ref('submitted_by'),
    fieldValue: (_eb, field) =>
      kind === 'postgres' ? sql`(data::jsonb ->> ${field})` : sql`json_extract(data, ${`$."${field}"`})`,
  };
  const visible = async (filter: RowFilter | null, userId: number | null) =>
    (await db().selectFrom('samples').select('id').where((eb) => rowFilterCondition(eb, filter, userId, columns)).orderBy('id').execute()).map((r) => r.id);

  beforeAll(async () => {
    await sql`create table samples (id integer primary key, submitted_by integer, data text not null)`.execute(db());
    await db()
      .insertInto('samples')
      .values([
        { id: 1, submitted_by: 5, data: JSON.stringify({ region: 'north' }) },
        { id: 2, submitted_by: 6, data: JSON.stringify({ region: 'north' }) },
        { id: 3, submitted_by: 5, data: JSON.stringify({ region: 'south' }) },
        { id: 4, submitted_by: null, data: JSON.stringify({}) },
      ])
      .execute();
  });

  it('keeps every row without a filter', async () => {
    expect(await visible(null, 5)).toEqual([1, 2, 3, 4]);
  });

  it('keeps only the person’s own rows, and none for someone without an id', async () => {
    expect(await visible({ submittedByMe: true }, 5)).toEqual([1, 3]);
    expect(await visible({ submittedByMe: true }, null)).toEqual([]);
  });

  it('keeps rows whose field holds one of the values, and both parts together', async () => {
    expect(await visible({ fieldIn: { field: 'region', values: ['north'] } }, 5)).toEqual([1, 2]);
    expect(await visible({ fieldIn: { field: 'region', values: ["x' or '1'='1", 'south'] } }, 5)).toEqual([3]);
    expect(await visible({ submittedByMe: true, fieldIn: { field: 'region', values: ['north'] } }, 5)).toEqual([1]);
  });
});
