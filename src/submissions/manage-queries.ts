/*
 * SQL of review, comments, edits' look-ups and the trash. Every look-up of a submission goes
 * through `visibleSubmissions`: scoped to the caller's project and form, out of the trash, and
 * narrowed by the caller's row filter in the database, so a submission the caller may not see is
 * simply not found by any of these routes.
 */
import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import { rowFilterCondition, type FilterColumns, type RowFilter } from '../access/index.js';
import type { Executor } from '../audit/index.js';
import type { Dialect } from '../db/database.js';

/** Which submissions a caller may reach: one form of their project, through their row filter. */
export interface SubmissionView {
  projectId: number;
  formId: number;
  dialect: Dialect;
  rowFilter: RowFilter | null;
  userId: number | null;
}

/**
 * A condition over `submissions as s` joined to its current version `submission_versions as v`.
 * Bulk operations select by one of these: `simpleFilterCondition` builds the equality filter the
 * bulk routes accept; a richer filter (the list API's) plugs in by producing the same type.
 */
export type SubmissionCondition = Expression<SqlBool>;

/**
 * The condition every read of submissions applies: rows in the trash are hidden. `alias` is how
 * the query names the submissions table.
 */
export function notTrashed(alias = 'submissions'): RawBuilder<SqlBool> {
  return sql<SqlBool>`${sql.ref(`${alias}.deleted_at`)} is null`;
}

/** A field's answer as text, from the current version's JSON (keys are paths below the root). */
export function fieldText(dialect: Dialect, field: string): RawBuilder<unknown> {
  return dialect === 'postgres' ? sql`(v.fields_json::jsonb ->> ${field})` : sql`json_extract(v.fields_json, ${`$."${field}"`})`;
}

/** How row filters read `submissions as s` joined to `submission_versions as v`. */
export function submissionFilterColumns<DB, TB extends keyof DB>(dialect: Dialect): FilterColumns<DB, TB> {
  return { submittedBy: () => sql.ref('s.submitted_by_user_id'), fieldValue: (_eb, field) => fieldText(dialect, field) };
}

/**
 * Equality on fields (by path) and on the system fields `meta/rootUuid` (the instanceID that names
 * the submission), `_submitted_by` (username) and `_validation_status` (status name, null for none).
 */
export function simpleFilterCondition(dialect: Dialect, where: Readonly<Record<string, string | null>>): SubmissionCondition {
  const parts = Object.entries(where).map(([key, value]): Expression<SqlBool> => {
    switch (key) {
      case 'meta/rootUuid':
        return value === null ? sql<SqlBool>`1 = 0` : sql<SqlBool>`s.instance_id = ${value}`;
      case '_submitted_by':
        return value === null
          ? sql<SqlBool>`s.submitted_by_user_id is null`
          : sql<SqlBool>`s.submitted_by_user_id in (select id from users where username_key = ${value.toLowerCase()})`;
      case '_validation_status':
        return value === null ? sql<SqlBool>`s.review_status is null` : sql<SqlBool>`s.review_status = ${value}`;
      default:
        return value === null ? sql<SqlBool>`${fieldText(dialect, key)} is null` : sql<SqlBool>`${fieldText(dialect, key)} = ${value}`;
    }
  });
  return parts.length === 0 ? sql<SqlBool>`1 = 1` : sql<SqlBool>`(${sql.join(parts, sql` and `)})`;
}

function visibleSubmissions(db: Executor, view: SubmissionView) {
  return db
    .selectFrom('submissions as s')
    .leftJoin('submission_versions as v', 'v.id', 's.current_version_id')
    .where('s.project_id', '=', view.projectId)
    .where('s.form_id', '=', view.formId)
    .where(notTrashed('s'))
    .where((eb) => rowFilterCondition(eb, view.rowFilter, view.userId, submissionFilterColumns(view.dialect)));
}

/** What review, comments and edits need of one submission and its current version. */
export interface VisibleSubmission {
  id: number;
  instance_id: string;
  review_status: string | null;
  reviewed_at: string | null;
  reviewed_by_user_id: number | null;
  current_version_id: number | null;
  version_instance_id: string | null;
  form_version_id: number | null;
  encrypted: number | null;
  xml_blob: string | null;
  fields_json: string | null;
  submitted_by_user_id: number | null;
}

export async function findVisible(db: Executor, view: SubmissionView, instanceId: string): Promise<VisibleSubmission | undefined> {
  const row = await visibleSubmissions(db, view)
    .select(['s.id', 's.instance_id', 's.review_status', 's.reviewed_at', 's.reviewed_by_user_id', 's.current_version_id'])
    .select(['v.instance_id as version_instance_id', 'v.form_version_id', 'v.encrypted', 'v.xml_blob', 'v.fields_json', 's.submitted_by_user_id'])
    .where('s.instance_id', '=', instanceId)
    .executeTakeFirst();
  return row && { ...row, id: Number(row.id) };
}

/** Up to `limit` visible submissions matching `condition`, in id order. */
export async function selectVisible(db: Executor, view: SubmissionView, condition: SubmissionCondition, limit: number): Promise<Array<{ id: number; instance_id: string }>> {
  const rows = await visibleSubmissions(db, view).select(['s.id', 's.instance_id']).where(condition).orderBy('s.id').limit(limit).execute();
  return rows.map((r) => ({ id: Number(r.id), instance_id: r.instance_id }));
}

/** The submission's current version is an encrypted envelope. */
export const isEncrypted: SubmissionCondition = sql<SqlBool>`v.encrypted = 1`;

export function instanceIdIn(instanceIds: readonly string[]): SubmissionCondition {
  return instanceIds.length === 0 ? sql<SqlBool>`1 = 0` : sql<SqlBool>`s.instance_id in (${sql.join(instanceIds)})`;
}

/** A trashed submission the caller could see were it not in the trash. */
export async function findTrashed(db: Executor, view: SubmissionView, instanceId: string): Promise<{ id: number; deleted_at: string } | undefined> {
  const row = await db
    .selectFrom('submissions as s')
    .leftJoin('submission_versions as v', 'v.id', 's.current_version_id')
    .select(['s.id', 's.deleted_at'])
    .where('s.project_id', '=', view.projectId)
    .where('s.form_id', '=', view.formId)
    .where('s.instance_id', '=', instanceId)
    .where('s.deleted_at', 'is not', null)
    .where((eb) => rowFilterCondition(eb, view.rowFilter, view.userId, submissionFilterColumns(view.dialect)))
    .executeTakeFirst();
  return row && { id: Number(row.id), deleted_at: row.deleted_at as string };
}

export interface TrashedSubmission {
  instance_id: string;
  deleted_at: string;
  deleted_by: string | null;
}

/** The form's trash as the caller may see it, most recently deleted first. */
export function listTrashed(db: Executor, view: SubmissionView, limit: number): Promise<TrashedSubmission[]> {
  return db
    .selectFrom('submissions as s')
    .leftJoin('submission_versions as v', 'v.id', 's.current_version_id')
    .leftJoin('users as u', 'u.id', 's.deleted_by_user_id')
    .select(['s.instance_id', sql<string>`s.deleted_at`.as('deleted_at'), 'u.username as deleted_by'])
    .where('s.project_id', '=', view.projectId)
    .where('s.form_id', '=', view.formId)
    .where('s.deleted_at', 'is not', null)
    .where((eb) => rowFilterCondition(eb, view.rowFilter, view.userId, submissionFilterColumns(view.dialect)))
    .orderBy('s.deleted_at', 'desc')
    .orderBy('s.id', 'desc')
    .limit(limit)
    .execute();
}

/** Chunks keep the bound parameters of one statement well under both databases' limits. */
const CHUNK = 500;

function* chunks<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += CHUNK) yield items.slice(i, i + CHUNK);
}

export async function setReviewStatus(db: Executor, ids: readonly number[], status: string | null, userId: number | null, at: string): Promise<void> {
  for (const part of chunks(ids)) {
    await db
      .updateTable('submissions')
      .set({ review_status: status, reviewed_by_user_id: status === null ? null : userId, reviewed_at: status === null ? null : at })
      .where('id', 'in', part)
      .where('deleted_at', 'is', null)
      .execute();
  }
}

export function reviewerName(db: Executor, userId: number): Promise<{ username: string } | undefined> {
  return db.selectFrom('users').select('username').where('id', '=', userId).executeTakeFirst();
}

export interface CommentRow {
  id: number;
  author_user_id: number | null;
  author_label: string;
  body: string;
  created_at: string;
}

export async function insertComment(db: Executor, row: { submission_id: number; author_user_id: number | null; author_label: string; body: string; created_at: string }): Promise<number> {
  const { id } = await db.insertInto('submission_comments').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

/** The comments of many submissions at once (a page of the data API), oldest first. */
export async function commentsOfSubmissions(db: Executor, submissionIds: readonly number[]): Promise<Array<CommentRow & { submission_id: number }>> {
  if (submissionIds.length === 0) return [];
  const rows = await db
    .selectFrom('submission_comments')
    .select(['id', 'submission_id', 'author_user_id', 'author_label', 'body', 'created_at'])
    .where('submission_id', 'in', [...submissionIds])
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), submission_id: Number(r.submission_id) }));
}

export async function listComments(db: Executor, submissionId: number, limit: number): Promise<CommentRow[]> {
  const rows = await db
    .selectFrom('submission_comments')
    .select(['id', 'author_user_id', 'author_label', 'body', 'created_at'])
    .where('submission_id', '=', submissionId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

export async function moveToTrash(db: Executor, ids: readonly number[], userId: number | null, at: string): Promise<void> {
  for (const part of chunks(ids)) {
    await db.updateTable('submissions').set({ deleted_at: at, deleted_by_user_id: userId, updated_at: at }).where('id', 'in', part).where('deleted_at', 'is', null).execute();
  }
}

/** False when the submission left the trash (restored or purged) meanwhile. */
export async function restoreFromTrash(db: Executor, id: number, at: string): Promise<boolean> {
  const result = await db.updateTable('submissions').set({ deleted_at: null, deleted_by_user_id: null, updated_at: at }).where('id', '=', id).where('deleted_at', 'is not', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export interface ExpiredSubmission {
  id: number;
  project_id: number;
  form_id: number;
  instance_id: string;
  deleted_at: string;
}

/** Trashed submissions deleted before `before`, oldest first, locked against a concurrent restore. */
export async function expiredTrash(db: Executor, dialect: Dialect, before: string, limit: number): Promise<ExpiredSubmission[]> {
  let query = db
    .selectFrom('submissions')
    .select(['id', 'project_id', 'form_id', 'instance_id', sql<string>`deleted_at`.as('deleted_at')])
    .where('deleted_at', 'is not', null)
    .where('deleted_at', '<', before)
    .orderBy('deleted_at')
    .orderBy('id')
    .limit(limit);
  // Another node purging at once skips the rows this one holds; SQLite has one writer anyway.
  if (dialect === 'postgres') query = query.forUpdate().skipLocked();
  const rows = await query.execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), project_id: Number(r.project_id), form_id: Number(r.form_id) }));
}

/** Forms' xmlFormIds by row id, deleted forms included (their submissions are purged too). */
export async function xmlFormIdsOf(db: Executor, formIds: readonly number[]): Promise<Map<number, string>> {
  const rows = formIds.length === 0 ? [] : await db.selectFrom('forms').select(['id', 'xml_form_id']).where('id', 'in', [...formIds]).execute();
  return new Map(rows.map((r) => [Number(r.id), r.xml_form_id]));
}

/** Every blob the submissions' versions and attachments name. */
export async function blobsOfSubmissions(db: Executor, ids: readonly number[]): Promise<Set<string>> {
  const blobs = new Set<string>();
  for (const part of chunks(ids)) {
    const versions = await db.selectFrom('submission_versions').select(['id', 'xml_blob']).where('submission_id', 'in', part).execute();
    for (const v of versions) blobs.add(v.xml_blob);
    for (const versionIds of chunks(versions.map((v) => v.id))) {
      const files = await db.selectFrom('submission_attachments').select('blob_id').where('version_id', 'in', versionIds).where('blob_id', 'is not', null).execute();
      for (const f of files) blobs.add(f.blob_id as string);
    }
  }
  return blobs;
}

/** Removes the submissions with their versions, attachments rows and comments (cascading keys). */
export async function deleteSubmissions(db: Executor, ids: readonly number[]): Promise<void> {
  for (const part of chunks(ids)) await db.deleteFrom('submissions').where('id', 'in', part).where('deleted_at', 'is not', null).execute();
}

/**
 * Whether anything still names this blob. Blobs are addressed by content, so one blob may be the
 * XML or a file of several submissions, or a form's definition or media file.
 */
export async function blobReferenced(db: Executor, blobId: string): Promise<boolean> {
  const found = (query: { limit(n: number): { executeTakeFirst(): Promise<unknown> } }) => query.limit(1).executeTakeFirst().then((row) => row !== undefined);
  return (
    (await found(db.selectFrom('submission_versions').select('id').where('xml_blob', '=', blobId))) ||
    (await found(db.selectFrom('submission_attachments').select('id').where('blob_id', '=', blobId))) ||
    (await found(db.selectFrom('form_versions').select('id').where((eb) => eb.or([eb('xform_blob', '=', blobId), eb('source_blob', '=', blobId)])))) ||
    (await found(db.selectFrom('form_media').select('id').where('blob_id', '=', blobId)))
  );
}
