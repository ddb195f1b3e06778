/*
 * The submission data service: reading a form's submissions as the caller may see them. Every
 * read goes through `visibleSubmissions` (data-queries.ts), which scopes to the form, leaves out
 * the trash and applies the caller's row filter in SQL, so a list, a count, one submission, its
 * XML, its versions and its files can only ever reach rows the caller may see; a submission
 * outside the filter is "not found", exactly like one that does not exist. Reads are audited,
 * grouped (`recordDataRead`): paging through a table writes one entry.
 */
import type { Readable } from 'node:stream';
import { submissionRowFilter, type ProjectAccess } from '../access/index.js';
import { recordDataRead, type AuditEvent } from '../audit/index.js';
import { findForm, findVersion, type FormRow } from '../forms/queries.js';
import type { AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import type { FormSchema, SubmissionFields } from '../xform/index.js';
import { FIELD_NAME, parseFilter, type Filter } from './data-filter.js';
import * as q from './data-queries.js';
import { commentsOfSubmissions, type CommentRow } from './manage-queries.js';
import { readGeopoint, splitSelected, type TypedFields } from './typed-values.js';
import { koboValidationStatus, type KoboValidationStatus } from './review.js';
import { reviewStatuses } from './targets.js';

export interface DataScope {
  ctx: AppContext;
  access: ProjectAccess;
  source: Pick<AuditEvent, 'actor' | 'address' | 'userAgent'>;
}

/** A form opened for reading: the view every query of it uses, and its current schema. */
export interface FormData {
  scope: DataScope;
  form: FormRow;
  view: q.DataView;
  schema: FormSchema | null;
}

export const MAX_PAGE = 1000;

export async function openFormData(scope: DataScope, xmlFormId: string): Promise<FormData> {
  const db = scope.ctx.database.db;
  const form = await findForm(db, scope.access, xmlFormId);
  if (!form) throw new AppError('form.not_found');
  const published = form.published_version_id === null ? undefined : await findVersion(db, form, form.published_version_id);
  const schema = published ? (JSON.parse(published.schema_json) as FormSchema) : null;
  const actor = scope.source.actor;
  const view: q.DataView = {
    dialect: scope.ctx.database.dialect,
    projectId: scope.access.projectId,
    formId: form.id,
    rowFilter: actor ? submissionRowFilter(actor, scope.access) : null,
    userId: actor?.kind === 'user' ? actor.userId : null,
    repeatPaths: new Set(schema ? repeatPathsOf(schema) : []),
  };
  return { scope, form, view, schema };
}

function repeatPathsOf(schema: FormSchema): string[] {
  const prefix = `/${schema.rootName}/`;
  return schema.fields.filter((f) => f.kind === 'repeat').map((f) => f.path.slice(prefix.length));
}

export interface ListOptions {
  /** MongoDB-style JSON (data-filter.ts). */
  filter?: string | undefined;
  /** A field name, `-` first for descending; `_id` by default. */
  sort?: string | undefined;
  limit: number;
  /** Keyset paging: the `next` cursor of the previous page. */
  cursor?: string | undefined;
  /** Offset paging, for Kobo's `start`; slower on deep pages than a cursor. */
  start?: number | undefined;
  withCount?: boolean | undefined;
}

export interface SubmissionPage {
  rows: q.SubmissionDataRow[];
  count: number | null;
  nextCursor: string | null;
}

export function parseSort(text: string | undefined): q.Sort {
  if (text === undefined || text === '') return { field: '_id', descending: false };
  const descending = text.startsWith('-');
  const field = descending ? text.slice(1) : text;
  if (!FIELD_NAME.test(field)) throw new AppError('submission.query_invalid', `Cannot sort by ${JSON.stringify(text.slice(0, 100))}; give one field name, with - first for descending order.`);
  return { field, descending };
}

export async function listSubmissions(data: FormData, options: ListOptions): Promise<SubmissionPage> {
  const filter: Filter | null = options.filter ? await answerFilter(data, options.filter) : null;
  const sort = parseSort(options.sort);
  const cursor = options.cursor ? decodeCursor(options.cursor, sort) : null;
  const db = data.scope.ctx.database.db;
  const filtered = q.applyFilter(q.visibleSubmissions(db, data.view), data.view, filter);
  const limit = Math.min(Math.max(options.limit, 1), MAX_PAGE);
  // One row more than asked tells whether there is a next page.
  const fetched = await q.page(q.selectSubmission(filtered), data.view, sort, cursor, limit + 1, options.start ?? 0).execute();
  const rows = fetched.slice(0, limit);
  const last = rows[rows.length - 1];
  const count = options.withCount ? await q.countVisible(filtered) : null;
  await auditRead(data, { type: 'form', id: data.form.xml_form_id });
  return { rows, count, nextCursor: fetched.length > limit && last ? encodeCursor(sort, { value: last.sort_value ?? null, id: last.id }) : null };
}

export async function countSubmissions(data: FormData, filterText: string | undefined): Promise<number> {
  const filter = filterText ? await answerFilter(data, filterText) : null;
  return q.countVisible(q.applyFilter(q.visibleSubmissions(data.scope.ctx.database.db, data.view), data.view, filter));
}

/**
 * The parsed filter, refused when it compares answers and the form has encrypted submissions:
 * their answers are not on the server, so the result would silently leave them out.
 */
async function answerFilter(data: FormData, text: string): Promise<Filter> {
  const filter = parseFilter(text);
  if (q.filterNamesAnswers(filter) && (await q.anyEncrypted(data.scope.ctx.database.db, data.view))) {
    throw new AppError('submission.encrypted_not_filterable', 'This form has encrypted submissions: the server cannot read their answers, so it cannot filter on them. Filter on system fields (_submission_time, _submitted_by, …), or decrypt in the browser and filter there.');
  }
  return filter;
}

/** One submission by its instanceID (its first version's, which names it for good). */
export function getSubmission(data: FormData, instanceId: string): Promise<q.SubmissionDataRow> {
  return oneSubmission(data, (visible) => visible.where('s.instance_id', '=', instanceId));
}

/** One submission by its `_id`, as Kobo's API names them. */
export function getSubmissionById(data: FormData, id: number): Promise<q.SubmissionDataRow> {
  return oneSubmission(data, (visible) => visible.where('s.id', '=', id));
}

async function oneSubmission(data: FormData, which: (visible: q.Visible) => q.Visible): Promise<q.SubmissionDataRow> {
  const row = await q.selectSubmission(which(q.visibleSubmissions(data.scope.ctx.database.db, data.view))).executeTakeFirst();
  if (!row) throw new AppError('submission.not_found');
  await auditRead(data, { type: 'submission', id: row.id });
  return row;
}

export async function submissionXml(data: FormData, instanceId: string, versionInstanceId?: string): Promise<Readable> {
  const row = await getSubmission(data, instanceId);
  const blob = versionInstanceId === undefined ? row.xml_blob : (await versionNamed(data, row, versionInstanceId)).xml_blob;
  return data.scope.ctx.blobs.get(blob);
}

export type VersionRow = Awaited<ReturnType<typeof q.versionsOf>>[number];

export async function submissionVersions(data: FormData, instanceId: string): Promise<{ submission: q.SubmissionDataRow; versions: VersionRow[] }> {
  const submission = await getSubmission(data, instanceId);
  return { submission, versions: await q.versionsOf(data.scope.ctx.database.db, submission.id) };
}

async function versionNamed(data: FormData, row: q.SubmissionDataRow, versionInstanceId: string): Promise<VersionRow> {
  const version = (await q.versionsOf(data.scope.ctx.database.db, row.id)).find((v) => v.instance_id === versionInstanceId);
  if (!version) throw new AppError('submission.not_found', `Submission ${JSON.stringify(row.root_instance_id)} has no version ${JSON.stringify(versionInstanceId)}.`);
  return version;
}

export interface AttachmentDownload {
  name: string;
  contentType: string;
  size: number;
  open: () => Promise<Readable>;
}

/** A received file of the submission's current version. */
export async function submissionAttachment(data: FormData, instanceId: string, name: string): Promise<AttachmentDownload> {
  const row = await getSubmission(data, instanceId);
  const file = (await q.attachmentsOfVersions(data.scope.ctx.database.db, [row.version_id])).find((a) => a.name === name);
  if (!file || file.blob_id === null) throw new AppError('submission.attachment_not_found');
  const blobId = file.blob_id;
  return { name: file.name, contentType: file.content_type ?? 'application/octet-stream', size: file.size ?? 0, open: () => data.scope.ctx.blobs.get(blobId) };
}

export async function attachmentsByVersion(data: FormData, versionIds: readonly number[]) {
  const byVersion = new Map<number, Awaited<ReturnType<typeof q.attachmentsOfVersions>>>();
  for (const file of await q.attachmentsOfVersions(data.scope.ctx.database.db, versionIds)) {
    byVersion.set(file.version_id, [...(byVersion.get(file.version_id) ?? []), file]);
  }
  return byVersion;
}

/** The review comments of the listed submissions, by submission id. */
export async function commentsBySubmission(data: FormData, submissionIds: readonly number[]): Promise<Map<number, CommentRow[]>> {
  const bySubmission = new Map<number, CommentRow[]>();
  for (const comment of await commentsOfSubmissions(data.scope.ctx.database.db, submissionIds)) {
    bySubmission.set(comment.submission_id, [...(bySubmission.get(comment.submission_id) ?? []), comment]);
  }
  return bySubmission;
}

/** The schemas of the form versions rows were submitted against, by form version id. */
export async function schemasOf(data: FormData, formVersionIds: readonly number[]): Promise<Map<number, FormSchema>> {
  const distinct = [...new Set(formVersionIds)];
  if (distinct.length === 0) return new Map();
  const rows = await q.schemaJsonOf(data.scope.ctx.database.db, data.form.id, distinct);
  return new Map(rows.map((r) => [r.id, JSON.parse(r.schema_json) as FormSchema]));
}

/** The answers as sent (strings, Kobo's shape); empty for an encrypted submission. */
export function answersOf(row: { fields_json: string | null }): SubmissionFields {
  return row.fields_json === null ? {} : (JSON.parse(row.fields_json) as SubmissionFields);
}

/** The typed answers stored at ingest (typed by migration 0009 for older rows); none for an encrypted submission. */
export function typedOf(row: { data_json: unknown }): TypedFields {
  return row.data_json === null || row.data_json === undefined ? {} : (q.storedJson(row.data_json) as TypedFields);
}

/** `[lat, lon]` of the first answered geopoint outside repeats, as Kobo's `_geolocation`. */
export function geolocationOf(answers: SubmissionFields, schema: FormSchema | undefined): [number | null, number | null] {
  const prefix = schema ? `/${schema.rootName}/` : '';
  for (const field of schema?.fields ?? []) {
    if (field.type !== 'geopoint' || field.repeat !== null) continue;
    const answer = answers[field.path.slice(prefix.length)];
    const point = typeof answer === 'string' ? readGeopoint(answer) : undefined;
    if (point) return [point[0], point[1]];
  }
  return [null, null];
}

/** Kobo's `_uuid`: the current version's instanceID without its `uuid:` scheme. */
export function uuidOf(instanceId: string): string {
  return instanceId.startsWith('uuid:') ? instanceId.slice(5) : instanceId;
}

/** Kobo's `_validation_status` of a listed row, in the one shape the review module defines (`{}` when not reviewed). */
export function validationStatusOf(row: Pick<q.SubmissionDataRow, 'review_status' | 'reviewed_at' | 'reviewed_by'>): KoboValidationStatus {
  const status = reviewStatuses.find((s) => s === row.review_status) ?? null;
  return koboValidationStatus(status, row.reviewed_at, row.reviewed_by);
}

/** The select_multiple answers of `typed` as arrays of choices (`selectMultiple=split`). */
export function withSplitSelects(typed: TypedFields, selectPaths: readonly string[]): TypedFields {
  const split: TypedFields = { ...typed };
  for (const path of selectPaths) {
    const value = typed[path];
    if (typeof value === 'string') split[path] = splitSelected(value);
  }
  return split;
}

function auditRead(data: FormData, resource: { type: string; id: string | number }) {
  const { ctx, access, source } = data.scope;
  return recordDataRead(ctx.database.db, { ...source, action: 'submission.read', projectId: access.projectId, resource, details: { formId: data.form.xml_form_id } }, ctx.config.auditReadGroupMs);
}

interface CursorData {
  f: string;
  d: boolean;
  v: unknown;
  i: number;
}

function encodeCursor(sort: q.Sort, at: q.Cursor): string {
  const data: CursorData = { f: sort.field, d: sort.descending, v: at.value, i: at.id };
  return Buffer.from(JSON.stringify(data)).toString('base64url');
}

function decodeCursor(text: string, sort: q.Sort): q.Cursor {
  let data: Partial<CursorData>;
  try {
    data = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<CursorData>;
  } catch {
    throw new AppError('submission.cursor_invalid');
  }
  const scalar = data.v === null || typeof data.v === 'string' || typeof data.v === 'number';
  if (data.f !== sort.field || data.d !== sort.descending || typeof data.i !== 'number' || !Number.isSafeInteger(data.i) || !scalar) throw new AppError('submission.cursor_invalid');
  return { value: data.v, id: data.i };
}
