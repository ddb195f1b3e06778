/*
 * What crosses the wire for the Fieldkeep data API: allow-listed fields, never rows. A submission
 * is its typed answers under Kobo's keys plus Kobo's system fields (`_id`, `_uuid`, …), so a field
 * list, a filter and a sort name fields the same way in both APIs.
 */
import type { FormSchema, SubmissionFields, SubmissionValue } from '../xform/index.js';
import type { AttachmentRow } from './queries.js';
import type { CommentRow } from './manage-queries.js';
import type { SubmissionDataRow } from './data-queries.js';
import { answersOf, geolocationOf, typedOf, uuidOf, validationStatusOf, withSplitSelects } from './data.js';
import { selectMultiplePaths } from './typed-values.js';

/** Where a submission's files are downloaded: `{base}/{name}`. */
export type AttachmentBase = (row: SubmissionDataRow) => string;

export interface PresentOptions {
  schema: FormSchema | undefined;
  attachments: readonly AttachmentRow[];
  comments: readonly CommentRow[];
  attachmentBase: AttachmentBase;
  splitSelects: boolean;
  fields: readonly string[] | null;
}

export function presentSubmission(row: SubmissionDataRow, options: PresentOptions): Record<string, unknown> {
  const answers = answersOf(row);
  const typed = typedOf(row);
  const data = options.splitSelects && options.schema ? withSplitSelects(typed, selectMultiplePaths(options.schema)) : typed;
  const whole: Record<string, unknown> = {
    ...data,
    _id: row.id,
    _uuid: uuidOf(row.instance_id),
    _submission_time: row.created_at,
    _submitted_by: row.submitted_by ?? null,
    _validation_status: validationStatusOf(row),
    _attachments: presentAttachments(row, answers, options.attachments, options.attachmentBase(row)),
    _geolocation: geolocationOf(answers, options.schema),
    _status: 'submitted_via_web',
    _edited: row.deprecated_id !== null,
    _review_comments: options.comments.map((c) => ({ author: c.author_label, body: c.body, createdAt: c.created_at })),
    _encrypted: row.encrypted === 1,
    __version__: row.version,
    'meta/instanceID': row.instance_id,
    'meta/deprecatedID': row.deprecated_id,
    'meta/rootUuid': row.root_instance_id,
  };
  return options.fields === null ? whole : pick(whole, options.fields);
}

function pick(whole: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const field of fields) if (field in whole) picked[field] = whole[field];
  return picked;
}

export interface PresentedAttachment {
  name: string;
  contentType: string | null;
  size: number | null;
  received: boolean;
  /** The question whose answer names the file, when one does. */
  question: string | null;
  url: string;
}

export function presentAttachments(row: SubmissionDataRow, answers: SubmissionFields, files: readonly AttachmentRow[], base: string): PresentedAttachment[] {
  const questions = questionsByFile(answers);
  return files.map((file) => ({
    name: file.name,
    contentType: file.content_type,
    size: file.size,
    received: file.blob_id !== null,
    question: questions.get(file.name) ?? null,
    url: `${base}/${encodeURIComponent(file.name)}`,
  }));
}

/** Which question's answer names each file (the first one, for a name given twice). */
export function questionsByFile(answers: SubmissionFields): Map<string, string> {
  const found = new Map<string, string>();
  // Keys inside repeat items are already full paths (`member/pic`).
  const visit = (fields: SubmissionFields): void => {
    for (const [path, value] of Object.entries(fields)) {
      if (Array.isArray(value)) value.forEach(visit);
      else if (!found.has(value)) found.set(value, path);
    }
  };
  visit(answers);
  return found;
}

/**
 * Answers as `path → text` pairs, repeat items numbered from 1 (`member[2]/member/name`), so two
 * versions can be compared answer by answer.
 */
export function flatten(answers: SubmissionFields, prefix = ''): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [path, value] of Object.entries(answers)) pairs.push(...flattenValue(prefix, path, value));
  return pairs;
}

function flattenValue(prefix: string, path: string, value: SubmissionValue): Array<[string, string]> {
  if (!Array.isArray(value)) return [[`${prefix}${path}`, value]];
  return value.flatMap((item, index) => flatten(item, `${prefix}${path}[${index + 1}]/`));
}

export interface AnswerChange {
  path: string;
  /** null: no answer in that version. */
  before: string | null;
  after: string | null;
}

/** The answers that differ between two versions, in the order they appear (removed ones last). */
export function diffAnswers(before: SubmissionFields, after: SubmissionFields): AnswerChange[] {
  const old = new Map(flatten(before));
  const changes: AnswerChange[] = [];
  for (const [path, value] of flatten(after)) {
    if (old.get(path) !== value) changes.push({ path, before: old.get(path) ?? null, after: value });
    old.delete(path);
  }
  for (const [path, value] of old) changes.push({ path, before: value, after: null });
  return changes;
}

