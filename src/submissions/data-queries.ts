/*
 * SQL of the submission data API: the one base query every read goes through (a form's live
 * submissions at their current version, narrowed by the caller's row filter), filters and sorts
 * translated to parameterised SQL on both databases, keyset paging, counts, versions and files.
 *
 * Answers are read from `data_json` (typed, see typed-values.ts): `json_extract` on SQLite, `->`
 * and `->>` on PostgreSQL's jsonb. Field paths are bound as parameters, never spliced into SQL.
 * A number in a filter compares with answers typed as numbers (text answers never match it); a
 * string compares with the answer's text, so `{"district": "north"}` and `{"age": "42"}` both work.
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { rowFilterCondition, type RowFilter } from '../access/index.js';
import type { Executor } from '../audit/index.js';
import type { Dialect } from '../db/database.js';
import { AppError } from '../server/errors.js';
import type { Filter, Scalar } from './data-filter.js';
import { submissionFilterColumns } from './manage-queries.js';

type Sql = RawBuilder<unknown>;

/** Which submissions a query may see: one form of the caller's project, under their row filter. */
export interface DataView {
  dialect: Dialect;
  projectId: number;
  formId: number;
  rowFilter: RowFilter | null;
  userId: number | null;
  /** Paths of questions inside repeats: their answers live in arrays, which filters cannot reach. */
  repeatPaths: ReadonlySet<string>;
}

export interface Sort {
  field: string;
  descending: boolean;
}

/** Where the previous page stopped: the last row's sort value (null when it had none) and id. */
export interface Cursor {
  value: unknown;
  id: number;
}

/** Answers of a system field as SQL: its text, and its number where it has one. */
interface SystemField {
  text: Sql;
  number?: Sql;
  /** Brings a filter's text operand to the stored form (times are stored as full UTC ISO-8601). */
  operand?: (value: string) => string;
}

const submissionTime = (value: string): string => {
  if (/^\d{4}-\d\d-\d\d$/.test(value)) return `${value}T00:00:00.000Z`;
  const time = new Date(/(Z|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(time.getTime())) throw new AppError('submission.query_invalid', `${JSON.stringify(value)} is not a time; write it as 2024-05-01 or 2024-05-01T10:00:00Z.`);
  return time.toISOString();
};

const systemFields: Readonly<Record<string, SystemField>> = {
  _id: { text: sql`cast(s.id as text)`, number: sql`s.id` },
  _uuid: { text: sql`(case when substr(v.instance_id, 1, 5) = 'uuid:' then substr(v.instance_id, 6) else v.instance_id end)` },
  _submission_time: { text: sql`s.created_at`, operand: submissionTime },
  _submitted_by: { text: sql`u.username` },
  __version__: { text: sql`fv.version` },
  'meta/instanceID': { text: sql`v.instance_id` },
  'meta/deprecatedID': { text: sql`v.deprecated_id` },
  'meta/rootUuid': { text: sql`s.instance_id` },
  '_validation_status.uid': { text: sql`(case when s.review_status is null then null else 'validation_status_' || s.review_status end)` },
};

const filterableSystemFields = Object.keys(systemFields);

/** Whether the filter compares answers (not only system fields), which encrypted submissions do not have on the server. */
export function filterNamesAnswers(filter: Filter): boolean {
  return 'of' in filter ? filter.of.some(filterNamesAnswers) : !filterableSystemFields.includes(filter.field);
}

/** Whether any submission the view can see is encrypted. */
export async function anyEncrypted(db: Executor, view: DataView): Promise<boolean> {
  return (await visibleSubmissions(db, view).select('s.id').where('v.encrypted', '=', 1).limit(1).executeTakeFirst()) !== undefined;
}

/** The base of every read: joined so that system fields resolve, scoped and row-filtered. */
export function visibleSubmissions(db: Executor, view: DataView) {
  return db
    .selectFrom('submissions as s')
    .innerJoin('submission_versions as v', 'v.id', 's.current_version_id')
    .innerJoin('form_versions as fv', 'fv.id', 'v.form_version_id')
    .leftJoin('users as u', 'u.id', 's.submitted_by_user_id')
    .where('s.project_id', '=', view.projectId)
    .where('s.form_id', '=', view.formId)
    .where('s.deleted_at', 'is', null)
    // The same row-filter reading as review, edits and the trash, so every route sees the same rows.
    .where((eb) => rowFilterCondition(eb, view.rowFilter, view.userId, submissionFilterColumns(view.dialect)));
}

export type Visible = ReturnType<typeof visibleSubmissions>;

/** The columns a presented submission needs. */
export function selectSubmission(query: Visible) {
  return query
    .leftJoin('users as r', 'r.id', 's.reviewed_by_user_id')
    .select([
      's.id',
      's.instance_id as root_instance_id',
      's.created_at',
      's.updated_at',
      's.review_status',
      's.reviewed_at',
      'r.username as reviewed_by',
      'u.username as submitted_by',
      'v.id as version_id',
      'v.instance_id',
      'v.deprecated_id',
      'v.instance_name',
      'v.encrypted',
      'v.fields_json',
      'v.data_json',
      'v.form_version_id',
      'v.xml_blob',
      'fv.version',
    ]);
}

export type SubmissionDataRow = Awaited<ReturnType<ReturnType<typeof selectSubmission>['executeTakeFirstOrThrow']>>;

/** `data_json` as stored: text on SQLite, already parsed on PostgreSQL. */
export function storedJson(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

export function applyFilter(query: Visible, view: DataView, filter: Filter | null): Visible {
  return filter === null ? query : query.where(filterCondition(view, filter));
}

/** A filter as a condition over `submissions as s` joined to `submission_versions as v` (and `users as u`, `form_versions as fv`). */
export function filterCondition(view: DataView, filter: Filter): RawBuilder<SqlBool> {
  switch (filter.kind) {
    case 'and':
    case 'or':
      return sql<SqlBool>`(${sql.join(filter.of.map((f) => filterCondition(view, f)), sql.raw(filter.kind === 'and' ? ' and ' : ' or '))})`;
    case 'exists':
      return filter.exists ? sql<SqlBool>`(${presence(view, filter.field)})` : sql<SqlBool>`(not ${presence(view, filter.field)})`;
    case 'compare':
      return compare(view, filter.field, filter.op, filter.value);
    case 'in': {
      const each = filter.values.map((value) => compare(view, filter.field, 'eq', value));
      const matches = sql<SqlBool>`(${sql.join(each, sql.raw(' or '))})`;
      // MongoDB's $nin also matches documents without the field.
      return filter.negated ? sql<SqlBool>`(not coalesce(${matches}, 1 = 0))` : matches;
    }
    case 'text':
      return textMatch(view, filter.field, filter.match, filter.text, filter.caseInsensitive);
  }
}

const OPERATORS = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function compare(view: DataView, field: string, op: keyof typeof OPERATORS, value: Scalar): RawBuilder<SqlBool> {
  const operator = sql.raw(OPERATORS[op]);
  if (typeof value === 'number') {
    const number = answerNumber(view, field);
    // `$ne` matches rows without a numeric answer too, as in MongoDB.
    return op === 'ne' ? sql<SqlBool>`(${number} is null or ${number} <> ${value})` : sql<SqlBool>`(${number} ${operator} ${value})`;
  }
  const text = answerText(view, field);
  const operand = systemFields[field]?.operand?.(value) ?? value;
  return op === 'ne' ? sql<SqlBool>`(${text} is null or ${text} <> ${operand})` : sql<SqlBool>`(${text} ${operator} ${operand})`;
}

function textMatch(view: DataView, field: string, match: 'exact' | 'prefix' | 'suffix' | 'contains', text: string, caseInsensitive: boolean): RawBuilder<SqlBool> {
  const value = answerText(view, field);
  const subject = caseInsensitive ? sql`lower(${value})` : value;
  const needle = caseInsensitive ? text.toLowerCase() : text;
  if (match === 'exact') return sql<SqlBool>`(${subject} = ${needle})`;
  // Every answer starts with, ends with and contains the empty text.
  if (needle === '') return sql<SqlBool>`(${subject} is not null)`;
  const length = [...needle].length;
  const postgres = view.dialect === 'postgres';
  switch (match) {
    case 'prefix':
      return postgres ? sql<SqlBool>`(left(${subject}, ${length}) = ${needle})` : sql<SqlBool>`(substr(${subject}, 1, ${length}) = ${needle})`;
    case 'suffix':
      return postgres ? sql<SqlBool>`(right(${subject}, ${length}) = ${needle})` : sql<SqlBool>`(substr(${subject}, ${-length}) = ${needle})`;
    case 'contains':
      return postgres ? sql<SqlBool>`(strpos(${subject}, ${needle}) > 0)` : sql<SqlBool>`(instr(${subject}, ${needle}) > 0)`;
  }
}

function dataPath(view: DataView, field: string): string {
  if (field.startsWith('_') && !(field in systemFields)) {
    throw new AppError('submission.query_unsupported', `The system field ${field} cannot be used in filters or sorts; these can: ${filterableSystemFields.join(', ')}.`);
  }
  if (view.repeatPaths.has(field) || [...view.repeatPaths].some((repeat) => field.startsWith(`${repeat}/`))) {
    throw new AppError('submission.query_unsupported', `${field} is inside a repeat; filters and sorts work on questions outside repeats.`);
  }
  return field;
}

/** The SQLite JSON path of a key; keys are checked against FIELD_NAME, so they hold no quote. */
const sqlitePath = (key: string) => `$."${key}"`;

/** An answer's text (numbers and booleans as JSON writes them); null for none, or for a geopoint/repeat. */
function answerText(view: DataView, field: string): Sql {
  const system = systemFields[field];
  if (system) return system.text;
  const key = dataPath(view, field);
  if (view.dialect === 'postgres') return sql`(case when jsonb_typeof(v.data_json -> ${key}) in ('object', 'array') then null else v.data_json ->> ${key} end)`;
  const path = sqlitePath(key);
  return sql`(case json_type(v.data_json, ${path}) when 'true' then 'true' when 'false' then 'false' when 'object' then null when 'array' then null else cast(json_extract(v.data_json, ${path}) as text) end)`;
}

/** An answer typed as a number; null when it is not one. */
function answerNumber(view: DataView, field: string): Sql {
  const system = systemFields[field];
  if (system) return system.number ?? sql`null`;
  const key = dataPath(view, field);
  if (view.dialect === 'postgres') return sql`(case when jsonb_typeof(v.data_json -> ${key}) = 'number' then (v.data_json ->> ${key})::numeric end)`;
  const path = sqlitePath(key);
  return sql`(case when json_type(v.data_json, ${path}) in ('integer', 'real') then json_extract(v.data_json, ${path}) end)`;
}

function presence(view: DataView, field: string): Sql {
  const system = systemFields[field];
  if (system) return sql`(${system.text} is not null)`;
  const key = dataPath(view, field);
  return view.dialect === 'postgres' ? sql`(v.data_json -> ${key} is not null)` : sql`(json_type(v.data_json, ${sqlitePath(key)}) is not null)`;
}

/** What a sort orders by: the typed answer (jsonb order on PostgreSQL, SQL value order on SQLite). */
function sortValue(view: DataView, field: string): Sql {
  const system = systemFields[field];
  if (system) return system.number ?? system.text;
  const key = dataPath(view, field);
  return view.dialect === 'postgres' ? sql`(v.data_json -> ${key})` : sql`json_extract(v.data_json, ${sqlitePath(key)})`;
}

/**
 * One page in sort order, after `cursor` (keyset paging: rows inserted meanwhile never shift or
 * repeat a page). Rows without a value sort last; ties are broken by id. Sorting by `_id` alone
 * uses the (form_id, id) index directly.
 */
export function page(query: ReturnType<typeof selectSubmission>, view: DataView, sort: Sort, cursor: Cursor | null, limit: number, offset = 0) {
  const direction = sql.raw(sort.descending ? 'desc' : 'asc');
  if (sort.field === '_id') {
    const after = cursor === null ? query : query.where(sql<SqlBool>`s.id ${sql.raw(sort.descending ? '<' : '>')} ${cursor.id}`);
    return after.select(sql<unknown>`null`.as('sort_value')).orderBy(sql`s.id ${direction}`).limit(limit).offset(offset);
  }
  const value = sortValue(view, sort.field);
  const ordered = query
    .select(value.as('sort_value'))
    .orderBy(sql`(case when ${value} is null then 1 else 0 end) ${direction}`)
    .orderBy(sql`${value} ${direction}`)
    .orderBy(sql`s.id ${direction}`);
  const jsonb = view.dialect === 'postgres' && !(sort.field in systemFields);
  const after = cursor === null ? ordered : ordered.where(afterCursor(value, jsonb, sort.descending, cursor));
  return after.limit(limit).offset(offset);
}

/** `jsonb`: the sort value is a PostgreSQL jsonb answer, so the cursor's value is compared as jsonb. */
function afterCursor(value: Sql, jsonb: boolean, descending: boolean, cursor: Cursor): RawBuilder<SqlBool> {
  const id = cursor.id;
  if (cursor.value === null) {
    return descending ? sql<SqlBool>`((${value} is null and s.id < ${id}) or ${value} is not null)` : sql<SqlBool>`(${value} is null and s.id > ${id})`;
  }
  const bound = jsonb ? sql`cast(${JSON.stringify(cursor.value)} as jsonb)` : sql`${cursor.value}`;
  return descending
    ? sql<SqlBool>`(${value} is not null and (${value} < ${bound} or (${value} = ${bound} and s.id < ${id})))`
    : sql<SqlBool>`(${value} is null or ${value} > ${bound} or (${value} = ${bound} and s.id > ${id}))`;
}

export async function countVisible(query: Visible): Promise<number> {
  const row = await query.select((eb) => eb.fn.countAll<number | string | bigint>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

export function versionsOf(db: Executor, submissionId: number) {
  return db
    .selectFrom('submission_versions as v')
    .innerJoin('form_versions as fv', 'fv.id', 'v.form_version_id')
    .select(['v.id', 'v.instance_id', 'v.deprecated_id', 'v.instance_name', 'v.encrypted', 'v.fields_json', 'v.data_json', 'v.form_version_id', 'v.xml_blob', 'v.xml_size', 'v.submitted_by_kind', 'v.submitted_by_id', 'v.created_at', 'fv.version'])
    .where('v.submission_id', '=', submissionId)
    .orderBy('v.id')
    .execute();
}

export function attachmentsOfVersions(db: Executor, versionIds: readonly number[]) {
  if (versionIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('submission_attachments').selectAll().where('version_id', 'in', versionIds).orderBy('version_id').orderBy('name').execute();
}

export function schemaJsonOf(db: Executor, formId: number, formVersionIds: readonly number[]) {
  return db.selectFrom('form_versions').select(['id', 'schema_json']).where('form_id', '=', formId).where('id', 'in', formVersionIds).execute();
}
