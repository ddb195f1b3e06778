import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../audit/index.js';
import { insertRow, prepared, type PreparedQuery } from '../db/prepared.js';
import type { SubmissionAttachmentsTable, SubmissionsTable, SubmissionVersionsTable } from '../db/tables.js';

export type SubmissionRow = Selectable<SubmissionsTable>;
export type SubmissionVersionRow = Selectable<SubmissionVersionsTable>;
export type AttachmentRow = Selectable<SubmissionAttachmentsTable>;

/** The form a query is scoped to, inside the project the caller was authorised for. */
export interface FormScopeKey {
  projectId: number;
  formId: number;
}

/** A version found by its instanceID, with what the caller needs of its submission. */
export interface VersionWithSubmission extends SubmissionVersionRow {
  current_version_id: number | null;
  /** Set while the submission is in the trash. */
  deleted_at: string | null;
}

/*
 * The statements every received submission runs are prepared (src/db/prepared.ts): building and
 * compiling them anew each time cost as much as running them.
 */
const versionByInstanceId = prepared((db, v: { projectId: number; formId: number; instanceId: string }) =>
  db
    .selectFrom('submission_versions as v')
    .innerJoin('submissions as s', 's.id', 'v.submission_id')
    .selectAll('v')
    .select(['s.current_version_id', 's.deleted_at'])
    .where('s.project_id', '=', v.projectId)
    .where('v.form_id', '=', v.formId)
    .where('v.instance_id', '=', v.instanceId),
);

export function findVersionByInstanceId(db: Executor, form: FormScopeKey, instanceId: string): Promise<VersionWithSubmission | undefined> {
  return versionByInstanceId.first(db, { ...form, instanceId });
}

export type NewSubmission = Required<Pick<Insertable<SubmissionsTable>, 'project_id' | 'form_id' | 'instance_id' | 'current_version_id' | 'submitted_by_user_id' | 'submitted_by_device_id' | 'created_at' | 'updated_at'>>;

const submissionInsert = prepared((db, v: NewSubmission) =>
  db
    .insertInto('submissions')
    .values(insertRow(v, { project_id: true, form_id: true, instance_id: true, current_version_id: true, submitted_by_user_id: true, submitted_by_device_id: true, created_at: true, updated_at: true }))
    .returning('id'),
);

export async function insertSubmission(db: Executor, row: NewSubmission): Promise<number> {
  const inserted = await submissionInsert.first(db, row);
  return Number(inserted!.id);
}

export type NewVersion = Required<Omit<Insertable<SubmissionVersionsTable>, 'id'>>;

const versionInsert = prepared((db, v: NewVersion) =>
  db
    .insertInto('submission_versions')
    .values(
      insertRow(v, {
        submission_id: true,
        form_id: true,
        form_version_id: true,
        instance_id: true,
        deprecated_id: true,
        instance_name: true,
        encrypted: true,
        xml_blob: true,
        xml_sha256: true,
        xml_size: true,
        fields_json: true,
        data_json: true,
        submitted_by_kind: true,
        submitted_by_id: true,
        device_id: true,
        created_at: true,
      }),
    )
    .returning('id'),
);

export async function insertVersion(db: Executor, row: NewVersion): Promise<number> {
  const inserted = await versionInsert.first(db, row);
  return Number(inserted!.id);
}

type Advance = { submissionId: number; projectId: number; formId: number; from: number; to: number; at: string };

const advanceFrom = {
  none: prepared((db, v: Omit<Advance, 'from'>) =>
    db
      .updateTable('submissions')
      .set({ current_version_id: v.to, updated_at: v.at })
      .where('id', '=', v.submissionId)
      .where('project_id', '=', v.projectId)
      .where('form_id', '=', v.formId)
      .where('current_version_id', 'is', null),
  ),
  version: prepared((db, v: Advance) =>
    db
      .updateTable('submissions')
      .set({ current_version_id: v.to, updated_at: v.at })
      .where('id', '=', v.submissionId)
      .where('project_id', '=', v.projectId)
      .where('form_id', '=', v.formId)
      .where('current_version_id', '=', v.from),
  ),
};

/**
 * Moves a submission to a new current version only if it is still at `from`: of two edits of the
 * same version racing, exactly one succeeds (PostgreSQL re-checks the condition after the row lock).
 */
export async function advanceCurrentVersion(db: Executor, form: FormScopeKey, submissionId: number, from: number | null, to: number, at: string): Promise<boolean> {
  const values = { ...form, submissionId, to, at };
  const updated = from === null ? await advanceFrom.none.affected(db, values) : await advanceFrom.version.affected(db, { ...values, from });
  return updated === 1;
}

export function attachmentsOf(db: Executor, versionId: number): Promise<AttachmentRow[]> {
  return db.selectFrom('submission_attachments').selectAll().where('version_id', '=', versionId).orderBy('name').execute();
}

export type NewAttachment = Required<Omit<Insertable<SubmissionAttachmentsTable>, 'id'>>;

const ATTACHMENT_COLUMNS = { version_id: true, name: true, blob_id: true, md5: true, sha256: true, size: true, content_type: true, referenced: true, expected: true, received_at: true } as const;
type AttachmentValues = Record<`${keyof typeof ATTACHMENT_COLUMNS}${number}`, unknown>;

/** One prepared INSERT per number of rows, made when first needed: the rows' values go as `<column><row>`. */
const attachmentInserts = new Map<number, PreparedQuery<AttachmentValues, unknown>>();

export async function insertAttachments(db: Executor, rows: NewAttachment[]): Promise<void> {
  if (rows.length === 0) return;
  let insert = attachmentInserts.get(rows.length);
  if (insert === undefined) {
    const count = rows.length;
    insert = prepared((db, v: AttachmentValues) => db.insertInto('submission_attachments').values(Array.from({ length: count }, (_, i) => rowAt(v, i))));
    attachmentInserts.set(count, insert);
  }
  const values: Record<string, unknown> = {};
  rows.forEach((row, i) => {
    for (const [column, value] of Object.entries(row)) values[`${column}${i}`] = value;
  });
  await insert.rows(db, values);
}

function rowAt(v: AttachmentValues, i: number): NewAttachment {
  return Object.fromEntries(Object.keys(ATTACHMENT_COLUMNS).map((column) => [column, v[`${column as keyof typeof ATTACHMENT_COLUMNS}${i}`]])) as NewAttachment;
}

/** Fills in an expected file that has not arrived yet; false when someone else filled it first. */
export async function receiveExpectedAttachment(
  db: Executor,
  attachmentId: number,
  file: Pick<AttachmentRow, 'blob_id' | 'md5' | 'sha256' | 'size' | 'content_type' | 'received_at'>,
): Promise<boolean> {
  const result = await db.updateTable('submission_attachments').set(file).where('id', '=', attachmentId).where('blob_id', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
