import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { Type, type Static } from 'typebox';

/**
 * Per-person row filters, like KoBoToolbox's partial permissions: a member whose role lets them
 * read (or edit, review, delete) submissions may be limited to some rows. Both parts may be given;
 * a row must then pass both. A filter narrows a role, never widens it, and applies to every
 * `submission.*` verb and to exports, so what a person can export is what they can see.
 *
 * - `submittedByMe`: only submissions this person submitted.
 * - `fieldIn`: only submissions whose field `field` holds one of `values` (compared as text).
 */
export const RowFilterSchema = Type.Object(
  {
    submittedByMe: Type.Optional(Type.Literal(true)),
    fieldIn: Type.Optional(
      Type.Object(
        {
          field: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.\\-/]{0,199}$' }),
          values: Type.Array(Type.String({ maxLength: 500 }), { minItems: 1, maxItems: 200 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export type RowFilter = Static<typeof RowFilterSchema>;

/** What a submission row looks like to the in-memory check. */
export interface FilterableRow {
  submittedBy: number | null;
  /** Field values by name (the submission's data, flattened to field names). */
  fields: Readonly<Record<string, unknown>>;
}

/** Whether one row is visible to `userId` under `filter` (for checks on a single record). */
export function rowPassesFilter(filter: RowFilter | null, userId: number | null, row: FilterableRow): boolean {
  if (filter === null) return true;
  if (filter.submittedByMe && (userId === null || row.submittedBy !== userId)) return false;
  if (filter.fieldIn) {
    const value = row.fields[filter.fieldIn.field];
    if (value === undefined || value === null || !filter.fieldIn.values.includes(String(value))) return false;
  }
  return true;
}

/** How a query names the columns a filter needs; the submissions queries supply these. */
export interface FilterColumns<DB, TB extends keyof DB> {
  /** The column holding the submitter's user id. */
  submittedBy: (eb: ExpressionBuilder<DB, TB>) => Expression<unknown>;
  /** The text value of a field in the row's data (a JSON extraction, which differs per database). */
  fieldValue: (eb: ExpressionBuilder<DB, TB>, field: string) => Expression<unknown>;
}

/**
 * The filter as a SQL condition for a Kysely `where`, so lists, counts and exports apply it in the
 * database: `query.where((eb) => rowFilterCondition(eb, filter, userId, columns))`. Constant truths
 * are written as `1 = 1` / `1 = 0` because SQLite cannot bind booleans.
 */
export function rowFilterCondition<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  filter: RowFilter | null,
  userId: number | null,
  columns: FilterColumns<DB, TB>,
): Expression<SqlBool> {
  const conditions: Expression<SqlBool>[] = [];
  if (filter?.submittedByMe) {
    conditions.push(userId === null ? sql<SqlBool>`1 = 0` : eb(columns.submittedBy(eb), '=', eb.val(userId)));
  }
  if (filter?.fieldIn) {
    conditions.push(eb(columns.fieldValue(eb, filter.fieldIn.field), 'in', filter.fieldIn.values.map((v) => eb.val(v))));
  }
  return conditions.length === 0 ? sql<SqlBool>`1 = 1` : eb.and(conditions);
}
