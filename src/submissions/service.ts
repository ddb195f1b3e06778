/*
 * Recording a received submission. By the time this runs the XML and every file of the request are
 * durable in the blob store; one transaction then decides what the request means and records it,
 * so a submission is either wholly visible or not at all (on SQLite the commit, and its fsync, may
 * be shared with submissions arriving at the same moment: src/db/commit-group.ts):
 *
 * - a new instanceID makes a new submission (and its first version);
 * - a known instanceID with byte-identical XML adds the files not stored yet (201), or nothing
 *   (202, a duplicate); different XML, or a stored file name with different bytes, is a 409 —
 *   nothing is ever overwritten;
 * - `meta/deprecatedID` naming the current version of a submission adds a version to it (an edit),
 *   carrying over by name the files the new XML still names; an unknown one is a 404, a replaced
 *   one a 409.
 *
 * Files the XML names (binary answers, or an encrypted envelope's files) are "expected": rows for
 * them exist from the first POST, filled as they arrive (Collect splits large submissions over
 * several POSTs). Files nobody named are kept too, marked as such.
 *
 * Two clients posting the same instanceID at once meet at the unique index on (form, instanceID):
 * the loser's transaction fails, and its retry finds the winner's row and answers as a duplicate.
 */
import { actorIdOf, type ProjectAccess } from '../access/index.js';
import { recordAudit, type AuditEvent, type Executor } from '../audit/index.js';
import { isoNow } from '../db/columns.js';
import { isUniqueViolation } from '../db/errors.js';
import type { FormSchema } from '../xform/index.js';
import { findForm, publishedVersionNamed, type FormRow, type FormVersionRow } from '../forms/queries.js';
import { schemaOf } from '../forms/service.js';
import { consumePublicLinkUse } from '../public-links/index.js';
import type { AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { readSubmissionContent, type SubmissionContent } from './content.js';
import type { ReceivedFile, ReceivedRequest } from './intake.js';
import * as q from './queries.js';
import { typedAnswersJson } from './typed-values.js';

export interface SubmissionScope {
  ctx: AppContext;
  access: ProjectAccess;
  source: Pick<AuditEvent, 'actor' | 'address' | 'userAgent'>;
}

export interface SubmissionOutcome {
  /** 201: something was stored; 202: a duplicate that added nothing. */
  status: 201 | 202;
  kind: 'created' | 'edited' | 'attachments_added' | 'duplicate';
  submissionId: number;
  versionId: number;
  instanceId: string;
  /** Files the XML names that have not arrived yet. */
  missing: string[];
}

export interface SubmissionOptions {
  /** The phone's `deviceID` query parameter. */
  deviceId: string | null;
  /** Added to an edit's audit entry (an API edit names its route and the fields it changed). */
  auditDetails?: Record<string, unknown>;
}

const ATTEMPTS = 3;

/**
 * Parsed schemas of the form versions submissions arrive for, most recently used kept: parsing the
 * schema's JSON on every submission showed in profiles. An entry is used only while the version's
 * stored JSON is still the text it was parsed from.
 */
class SchemaCache {
  private readonly entries = new Map<number, { json: string; schema: FormSchema }>();

  constructor(private readonly capacity: number) {}

  of(version: FormVersionRow): FormSchema {
    const cached = this.entries.get(version.id);
    this.entries.delete(version.id);
    const entry = cached !== undefined && cached.json === version.schema_json ? cached : { json: version.schema_json, schema: schemaOf(version) };
    this.entries.set(version.id, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as number);
    return entry.schema;
  }
}

const schemas = new SchemaCache(64);

/** A concurrent request changed what this transaction read; running it again sees the change. */
class LostRace extends Error {}

export async function storeSubmission(scope: SubmissionScope, received: ReceivedRequest, options: SubmissionOptions): Promise<SubmissionOutcome> {
  const { form, version } = await acceptingVersion(scope, received);
  const content = readSubmissionContent(received.xml, received.identity, schemas.of(version));
  const files = distinctFiles(received.files);
  const recording: Recording = { scope, form, version, content, received, files, deviceId: options.deviceId, auditDetails: options.auditDetails ?? {} };
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await scope.ctx.database.inGroupCommit((trx) => record(trx, recording));
    } catch (err) {
      if (attempt < ATTEMPTS && (isUniqueViolation(err) || err instanceof LostRace)) continue;
      throw err;
    }
  }
}

/** The published form version the XML names, if the form accepts submissions. */
async function acceptingVersion(scope: SubmissionScope, received: ReceivedRequest): Promise<{ form: FormRow; version: FormVersionRow }> {
  const { formId, version: versionName, encrypted } = received.identity;
  const db = scope.ctx.database.db;
  const form = await findForm(db, scope.access, formId);
  if (!form) throw new AppError('form.not_found', `This project has no form with id ${JSON.stringify(formId)}.`);
  if (form.published_version_id === null) throw new AppError('form.not_published', `Form ${JSON.stringify(formId)} has no published version yet.`);
  if (form.state === 'closed') throw new AppError('submission.form_closed', `Form ${JSON.stringify(formId)} is closed and no longer accepts submissions.`);
  const version = await publishedVersionNamed(db, form, versionName);
  if (!version) {
    throw new AppError(
      'submission.form_version_not_found',
      `Form ${JSON.stringify(formId)} has no published version ${JSON.stringify(versionName)}; download the current form and fill it in again.`,
    );
  }
  if (version.encrypted === 1 && !encrypted) {
    throw new AppError('submission.plaintext_for_encrypted_form', `Form ${JSON.stringify(formId)} is encrypted, but this submission arrived unencrypted; it was not stored.`);
  }
  return { form, version };
}

/** One file per name; the same name twice in one request must carry the same bytes. */
function distinctFiles(files: readonly ReceivedFile[]): Map<string, ReceivedFile> {
  const byName = new Map<string, ReceivedFile>();
  for (const file of files) {
    const seen = byName.get(file.name);
    if (seen && seen.blob.sha256 !== file.blob.sha256) throw attachmentConflict(file.name);
    byName.set(file.name, file);
  }
  return byName;
}

interface Recording {
  scope: SubmissionScope;
  form: FormRow;
  version: FormVersionRow;
  content: SubmissionContent;
  received: ReceivedRequest;
  files: ReadonlyMap<string, ReceivedFile>;
  deviceId: string | null;
  auditDetails: Record<string, unknown>;
}

async function record(trx: Executor, r: Recording): Promise<SubmissionOutcome> {
  const existing = await q.findVersionByInstanceId(trx, formKey(r), r.content.instanceId);
  if (existing) return addToExisting(trx, r, refuseTrashed(existing));
  if (r.content.deprecatedId !== null) return recordEdit(trx, r, r.content.deprecatedId);
  return recordNew(trx, r);
}

async function recordNew(trx: Executor, r: Recording): Promise<SubmissionOutcome> {
  await consumePublicLinkUse(trx, r.scope.source);
  const now = isoNow();
  const actor = r.scope.source.actor;
  const submissionId = await q.insertSubmission(trx, {
    project_id: r.scope.access.projectId,
    form_id: r.form.id,
    instance_id: r.content.instanceId,
    current_version_id: null,
    submitted_by_user_id: actor?.kind === 'user' ? actor.userId : null,
    submitted_by_device_id: actor?.kind === 'device' ? actor.deviceId : null,
    created_at: now,
    updated_at: now,
  });
  const versionId = await insertVersion(trx, r, submissionId, now);
  if (!(await q.advanceCurrentVersion(trx, formKey(r), submissionId, null, versionId, now))) throw new LostRace();
  const missing = await insertFiles(trx, r, versionId, new Map(), now);
  await audit(trx, r, 'submission.create', submissionId, { attachments: r.files.size, missing: missing.length });
  return { status: 201, kind: 'created', submissionId, versionId, instanceId: r.content.instanceId, missing };
}

async function recordEdit(trx: Executor, r: Recording, deprecatedId: string): Promise<SubmissionOutcome> {
  // Anyone may hold a public link: it adds submissions, never changes one (API edits come here too).
  if (r.scope.source.actor?.kind === 'public_link') {
    throw new AppError('submission.edit_forbidden_public_link', 'Submissions cannot be edited through a public link; ask a project member with edit rights to change it.');
  }
  const previous = await q.findVersionByInstanceId(trx, formKey(r), deprecatedId);
  if (!previous) throw new AppError('submission.deprecated_not_found', `This edit replaces submission ${JSON.stringify(deprecatedId)}, which this form does not have.`);
  refuseTrashed(previous);
  if (previous.current_version_id !== previous.id) {
    throw new AppError('submission.edit_stale', `This edit replaces version ${JSON.stringify(deprecatedId)}, which has since been replaced by another edit; edit the current version instead.`);
  }
  const now = isoNow();
  const versionId = await insertVersion(trx, r, previous.submission_id, now);
  if (!(await q.advanceCurrentVersion(trx, formKey(r), previous.submission_id, previous.id, versionId, now))) {
    throw new AppError('submission.edit_stale', `Version ${JSON.stringify(deprecatedId)} was replaced by another edit meanwhile.`);
  }
  const carried = new Map((await q.attachmentsOf(trx, previous.id)).filter((a) => a.blob_id !== null).map((a) => [a.name, a]));
  const missing = await insertFiles(trx, r, versionId, carried, now);
  await audit(trx, r, 'submission.update', previous.submission_id, { deprecatedId, attachments: r.files.size, missing: missing.length, ...r.auditDetails });
  return { status: 201, kind: 'edited', submissionId: previous.submission_id, versionId, instanceId: r.content.instanceId, missing };
}

async function addToExisting(trx: Executor, r: Recording, existing: q.VersionWithSubmission): Promise<SubmissionOutcome> {
  if (existing.xml_sha256 !== r.received.xmlBlob.sha256) {
    throw new AppError(
      'submission.conflict',
      `A different submission with instanceID ${JSON.stringify(r.content.instanceId)} was already received; an edit must have a new instanceID and name the old one in deprecatedID.`,
    );
  }
  const now = isoNow();
  const stored = new Map((await q.attachmentsOf(trx, existing.id)).map((a) => [a.name, a]));
  const newRows: q.NewAttachment[] = [];
  const added: string[] = [];
  for (const file of r.files.values()) {
    const row = stored.get(file.name);
    if (row?.blob_id != null) {
      if (row.sha256 !== file.blob.sha256) throw attachmentConflict(file.name);
      continue;
    }
    if (row) {
      if (!(await q.receiveExpectedAttachment(trx, row.id, receivedColumns(file, now)))) throw new LostRace();
      stored.set(file.name, { ...row, blob_id: file.blob.id });
    } else {
      newRows.push(attachmentRow(r, existing.id, file.name, file, now));
    }
    added.push(file.name);
  }
  await q.insertAttachments(trx, newRows);
  const missing = [...stored.values()].filter((a) => a.expected === 1 && a.blob_id === null).map((a) => a.name);
  const outcome = { submissionId: existing.submission_id, versionId: existing.id, instanceId: r.content.instanceId, missing };
  if (added.length === 0) return { ...outcome, status: 202, kind: 'duplicate' };
  await audit(trx, r, 'submission.attachments_add', existing.submission_id, { added, missing: missing.length });
  return { ...outcome, status: 201, kind: 'attachments_added' };
}

function insertVersion(trx: Executor, r: Recording, submissionId: number, now: string): Promise<number> {
  const actor = r.scope.source.actor;
  return q.insertVersion(trx, {
    submission_id: submissionId,
    form_id: r.form.id,
    form_version_id: r.version.id,
    instance_id: r.content.instanceId,
    deprecated_id: r.content.deprecatedId,
    instance_name: r.content.instanceName,
    encrypted: r.content.encrypted ? 1 : 0,
    xml_blob: r.received.xmlBlob.id,
    xml_sha256: r.received.xmlBlob.sha256,
    xml_size: r.received.xmlBlob.size,
    fields_json: r.content.fieldsJson,
    data_json: typedAnswersJson(r.content.fieldsJson, schemas.of(r.version)),
    submitted_by_kind: actor?.kind ?? 'system',
    submitted_by_id: actor === undefined ? null : actorIdOf(actor),
    device_id: r.deviceId,
    created_at: now,
  });
}

/**
 * The files of a new version: every expected name (received now, carried over from the version an
 * edit replaces, or still to come) and every other file received. Returns the names still missing.
 */
async function insertFiles(trx: Executor, r: Recording, versionId: number, carried: ReadonlyMap<string, q.AttachmentRow>, now: string): Promise<string[]> {
  const rows: q.NewAttachment[] = [];
  const missing: string[] = [];
  for (const name of r.content.expected) {
    const file = r.files.get(name);
    const previous = carried.get(name);
    if (file) rows.push(attachmentRow(r, versionId, name, file, now));
    else if (previous) rows.push({ ...attachmentRow(r, versionId, name, undefined, now), ...carriedColumns(previous) });
    else {
      rows.push(attachmentRow(r, versionId, name, undefined, now));
      missing.push(name);
    }
  }
  for (const file of r.files.values()) if (!r.content.expected.has(file.name)) rows.push(attachmentRow(r, versionId, file.name, file, now));
  await q.insertAttachments(trx, rows);
  return missing;
}

function attachmentRow(r: Recording, versionId: number, name: string, file: ReceivedFile | undefined, now: string): q.NewAttachment {
  const empty = { blob_id: null, md5: null, sha256: null, size: null, content_type: null, received_at: null };
  return {
    version_id: versionId,
    name,
    ...(file ? receivedColumns(file, now) : empty),
    referenced: r.content.answers.has(name) ? 1 : 0,
    expected: r.content.expected.has(name) ? 1 : 0,
  };
}

function receivedColumns(file: ReceivedFile, now: string) {
  return { blob_id: file.blob.id, md5: file.blob.md5, sha256: file.blob.sha256, size: file.blob.size, content_type: file.contentType, received_at: now };
}

function carriedColumns(previous: q.AttachmentRow) {
  const { blob_id, md5, sha256, size, content_type, received_at } = previous;
  return { blob_id, md5, sha256, size, content_type, received_at };
}

function formKey(r: Recording): q.FormScopeKey {
  return { projectId: r.scope.access.projectId, formId: r.form.id };
}

/** A deleted submission stays deleted: re-sending or editing it would bring it back unseen. */
function refuseTrashed(version: q.VersionWithSubmission): q.VersionWithSubmission {
  if (version.deleted_at === null) return version;
  throw new AppError('submission.trashed', `The submission with instanceID ${JSON.stringify(version.instance_id)} was deleted and is in the trash; ask a project manager to restore it instead of sending it again.`);
}

function attachmentConflict(name: string): AppError {
  return new AppError('submission.attachment_conflict', `A file named ${JSON.stringify(name)} with different content was already received for this submission; it is never overwritten.`);
}

function audit(trx: Executor, r: Recording, action: string, submissionId: number, details: Record<string, unknown>) {
  return recordAudit(trx, {
    ...r.scope.source,
    action,
    projectId: r.scope.access.projectId,
    resource: { type: 'submission', id: submissionId },
    details: { formId: r.form.xml_form_id, version: r.version.version, instanceId: r.content.instanceId, ...details },
  });
}
