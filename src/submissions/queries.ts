import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../audit/index.js';
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

export function findVersionByInstanceId(db: Executor, form: FormScopeKey, instanceId: string): Promise<VersionWithSubmission | undefined> {
  return db
    .selectFrom('submission_versions as v')
    .innerJoin('submissions as s', 's.id', 'v.submission_id')
    .selectAll('v')
    .select(['s.current_version_id', 's.deleted_at'])
    .where('s.project_id', '=', form.projectId)
    .where('v.form_id', '=', form.formId)
    .where('v.instance_id', '=', instanceId)
    .executeTakeFirst();
}

export async function insertSubmission(db: Executor, row: Insertable<SubmissionsTable>): Promise<number> {
  const { id } = await db.insertInto('submissions').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export async function insertVersion(db: Executor, row: Insertable<SubmissionVersionsTable>): Promise<number> {
  const { id } = await db.insertInto('submission_versions').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

/**
 * Moves a submission to a new current version only if it is still at `from`: of two edits of the
 * same version racing, exactly one succeeds (PostgreSQL re-checks the condition after the row lock).
 */
export async function advanceCurrentVersion(db: Executor, form: FormScopeKey, submissionId: number, from: number | null, to: number, at: string): Promise<boolean> {
  let update = db
    .updateTable('submissions')
    .set({ current_version_id: to, updated_at: at })
    .where('id', '=', submissionId)
    .where('project_id', '=', form.projectId)
    .where('form_id', '=', form.formId);
  update = from === null ? update.where('current_version_id', 'is', null) : update.where('current_version_id', '=', from);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function attachmentsOf(db: Executor, versionId: number): Promise<AttachmentRow[]> {
  return db.selectFrom('submission_attachments').selectAll().where('version_id', '=', versionId).orderBy('name').execute();
}

export async function insertAttachments(db: Executor, rows: Insertable<SubmissionAttachmentsTable>[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('submission_attachments').values(rows).execute();
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
