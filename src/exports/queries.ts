/*
 * SQL of exports. Rows are read in keyset pages by submission id (the (form_id, id) index), never
 * all at once, and only up to the last id present when the export started, so an export has a
 * definite end however fast submissions arrive. The base query scopes to the form as the data API
 * does (src/submissions/data-queries.ts `visibleSubmissions`) and applies the caller's row filter
 * the same way, but it can also take in the trash, which the data API never shows.
 */
import { sql, type SqlBool } from 'kysely';
import { rowFilterCondition } from '../access/index.js';
import type { Executor } from '../audit/index.js';
import { isoNow } from '../db/columns.js';
import type { Database } from '../db/database.js';
import type { DataView } from '../submissions/index.js';
import { submissionFilterColumns } from '../submissions/manage-queries.js';
import type { ExportOptions } from './options.js';

export type RowSelection = Pick<ExportOptions, 'includeDeleted' | 'from' | 'toBefore' | 'reviewStatus'>;

function exported(db: Executor, view: DataView, selection: RowSelection) {
  let query = db
    .selectFrom('submissions as s')
    .innerJoin('submission_versions as v', 'v.id', 's.current_version_id')
    .where('s.project_id', '=', view.projectId)
    .where('s.form_id', '=', view.formId)
    .where((eb) => rowFilterCondition(eb, view.rowFilter, view.userId, submissionFilterColumns(view.dialect)));
  if (!selection.includeDeleted) query = query.where('s.deleted_at', 'is', null);
  if (selection.from !== null) query = query.where('s.created_at', '>=', selection.from);
  if (selection.toBefore !== null) query = query.where('s.created_at', '<', selection.toBefore);
  const statuses = selection.reviewStatus;
  if (statuses !== null) {
    const named = statuses.filter((s) => s !== 'none');
    const none = statuses.includes('none');
    query = query.where((eb) => {
      const conditions = [];
      if (named.length > 0) conditions.push(eb('s.review_status', 'in', named));
      if (none) conditions.push(eb('s.review_status', 'is', null));
      return conditions.length === 0 ? sql<SqlBool>`1 = 0` : eb.or(conditions);
    });
  }
  return query;
}

/** The highest submission id the export will read (0 when there is none). */
export async function lastSubmissionId(db: Executor, view: DataView, selection: RowSelection): Promise<number> {
  const row = await exported(db, view, selection).select((eb) => eb.fn.max('s.id').as('id')).executeTakeFirst();
  return Number(row?.id ?? 0);
}

export async function countExported(db: Executor, view: DataView, selection: RowSelection, upToId: number): Promise<number> {
  const row = await exported(db, view, selection).where('s.id', '<=', upToId).select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * A row of `exportPage`, as an array: the submission's id, time received, review status, time
 * deleted and submitter, then its current version's id, instanceID, encrypted flag (1 when
 * encrypted), manifest blob, typed answers (JSON text on SQLite, parsed on PostgreSQL) and form
 * version.
 */
export type ExportRow = [
  id: number,
  createdAt: string,
  reviewStatus: string | null,
  deletedAt: string | null,
  submittedByUserId: number | null,
  versionId: number,
  instanceId: string,
  encrypted: number,
  xmlBlob: string,
  dataJson: unknown,
  formVersionId: number,
];

/**
 * One page of submissions after `afterId`, in id order, with what a row of the export needs. The
 * form version's name and the submitter's username are looked up apart (`versionNames`,
 * `usernames`) and remembered by the caller: joining them on every row costs more than the rest
 * of the read. Rows come as arrays (`ExportRow`): an export reads every row of a form, and making
 * an object of each costs more than reading it.
 */
export async function exportPage(database: Database, view: DataView, selection: RowSelection, afterId: number, upToId: number, limit: number): Promise<ExportRow[]> {
  const query = exported(database.db, view, selection)
    .select(['s.id', 's.created_at', 's.review_status', 's.deleted_at', 's.submitted_by_user_id', 'v.id as version_id', 'v.instance_id', 'v.encrypted', 'v.xml_blob', 'v.data_json', 'v.form_version_id'])
    .where('s.id', '>', afterId)
    .where('s.id', '<=', upToId)
    .orderBy('s.id')
    .limit(limit);
  return (await database.selectArrays(query.compile())) as ExportRow[];
}

export async function versionNames(db: Executor, formId: number, ids: readonly number[]): Promise<Array<{ id: number; version: string }>> {
  const rows = await db.selectFrom('form_versions').select(['id', 'version']).where('form_id', '=', formId).where('id', 'in', ids).execute();
  return rows.map((r) => ({ id: Number(r.id), version: r.version }));
}

export async function usernames(db: Executor, ids: readonly number[]): Promise<Array<{ id: number; username: string }>> {
  const rows = await db.selectFrom('users').select(['id', 'username']).where('id', 'in', ids).execute();
  return rows.map((r) => ({ id: Number(r.id), username: r.username }));
}

/** The form versions' schemas (JSON text), for reading decrypted submissions of versions the export has not met yet. */
export async function versionSchemas(db: Executor, formId: number, ids: readonly number[]): Promise<Array<{ id: number; schema_json: string }>> {
  const rows = await db.selectFrom('form_versions').select(['id', 'schema_json']).where('form_id', '=', formId).where('id', 'in', ids).execute();
  return rows.map((r) => ({ id: Number(r.id), schema_json: r.schema_json }));
}

/** One page of the exported submissions, with what decrypting one needs (its manifest), for the media of a decrypted ZIP. */
export function envelopePage(db: Executor, view: DataView, selection: RowSelection, afterId: number, upToId: number, limit: number) {
  return exported(db, view, selection)
    .select(['s.id', 'v.id as version_id', 'v.instance_id', 'v.encrypted', 'v.xml_blob'])
    .where('s.id', '>', afterId)
    .where('s.id', '<=', upToId)
    .orderBy('s.id')
    .limit(limit)
    .execute();
}

/** The received files of these submission versions, in the order they were recorded. */
export async function receivedFiles(db: Executor, versionIds: readonly number[]): Promise<Array<{ version_id: number; name: string; blob_id: string }>> {
  if (versionIds.length === 0) return [];
  const rows = await db
    .selectFrom('submission_attachments')
    .select(['version_id', 'name', 'blob_id'])
    .where('version_id', 'in', versionIds)
    .where('blob_id', 'is not', null)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ version_id: Number(r.version_id), name: r.name, blob_id: r.blob_id! }));
}

/** One page of the received files of the exported submissions' current versions, after attachment `afterId`. */
export function attachmentPage(db: Executor, view: DataView, selection: RowSelection, afterId: number, upToId: number, limit: number) {
  return exported(db, view, selection)
    .innerJoin('submission_attachments as a', 'a.version_id', 'v.id')
    .select(['a.id', 'a.name', 'a.blob_id', 's.id as submission_id'])
    .where('a.blob_id', 'is not', null)
    .where('a.id', '>', afterId)
    .where('s.id', '<=', upToId)
    .orderBy('a.id')
    .limit(limit)
    .execute();
}

/** Whether any published version of the form is encrypted: its submissions are exported as metadata only. */
export async function formHasEncryptedVersion(db: Executor, formId: number): Promise<boolean> {
  const row = await db.selectFrom('form_versions').select('id').where('form_id', '=', formId).where('encrypted', '=', 1).where('published_at', 'is not', null).limit(1).executeTakeFirst();
  return row !== undefined;
}

export interface SettingInsert {
  project_id: number;
  form_id: number;
  name: string;
  format: string;
  options_json: string;
  created_by_user_id: number | null;
}

export async function insertSetting(db: Executor, row: SettingInsert): Promise<number> {
  const at = isoNow();
  const { id } = await db.insertInto('export_settings').values({ ...row, created_at: at, updated_at: at }).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export function settingsOf(db: Executor, projectId: number, formId: number) {
  return db.selectFrom('export_settings').selectAll().where('project_id', '=', projectId).where('form_id', '=', formId).orderBy('id').execute();
}

export function findSetting(db: Executor, projectId: number, formId: number, id: number) {
  return db.selectFrom('export_settings').selectAll().where('project_id', '=', projectId).where('form_id', '=', formId).where('id', '=', id).executeTakeFirst();
}

export type SettingRow = NonNullable<Awaited<ReturnType<typeof findSetting>>>;

export async function deleteSetting(db: Executor, projectId: number, formId: number, id: number): Promise<boolean> {
  const result = await db.deleteFrom('export_settings').where('project_id', '=', projectId).where('form_id', '=', formId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Whether a finished, unexpired export job still names this blob. A read of the jobs table (src/jobs
 * owns it): results are JSON text there, so the blob id is matched inside it.
 */
export async function blobOfLiveExportJob(db: Executor, kind: string, blobId: string): Promise<boolean> {
  const row = await db
    .selectFrom('job')
    .select('id')
    .where('kind', '=', kind)
    .where('state', '=', 'succeeded')
    .where('result_json', 'like', `%"blobId":"${blobId.replace(/[^0-9a-f]/g, '')}"%`)
    .where('expires_at', '>', isoNow())
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
