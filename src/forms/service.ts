import type { Readable } from 'node:stream';
import type { ProjectAccess } from '../access/index.js';
import { recordAudit, type AuditEvent } from '../audit/index.js';
import { isoNow } from '../db/columns.js';
import { isUniqueViolation } from '../db/errors.js';
import { BlobError } from '../blobs/index.js';
import { withProjectKey } from '../project-keys/service.js';
import type { AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import type { FormSchema } from '../xform/index.js';
import { compareSchemas, type SchemaChange } from './compatibility.js';
import { FormDefinitionError, prepareFormDefinition, type FormDefinition } from './definition.js';
import * as q from './queries.js';
import type { FormMediaRow, FormRow, FormVersionRow } from './queries.js';

/** Who is acting on which project, as the authorisation hook established it. */
export interface FormScope {
  ctx: AppContext;
  access: ProjectAccess;
  source: Pick<AuditEvent, 'actor' | 'address' | 'userAgent'>;
}

export const formStates = ['open', 'closing', 'closed'] as const;
export type FormState = (typeof formStates)[number];

export interface Upload {
  bytes: Buffer;
  fileName: string;
}

const MEDIA_NAME = /^[^/\\\0]{1,255}$/;

function userIdOf(scope: FormScope): number | null {
  return scope.source.actor?.kind === 'user' ? scope.source.actor.userId : null;
}

function audit(scope: FormScope, db: Parameters<typeof recordAudit>[0], action: string, form: FormRow | { id: number; xml_form_id: string }, details: Record<string, unknown> = {}) {
  return recordAudit(db, {
    ...scope.source,
    action,
    projectId: scope.access.projectId,
    resource: { type: 'form', id: form.xml_form_id },
    details,
  });
}

/** In an encrypted project the definition is given the project's public key (src/project-keys). */
async function prepare(scope: FormScope, upload: Upload): Promise<FormDefinition> {
  try {
    return await withProjectKey(scope.ctx.database.db, scope.access, await prepareFormDefinition(upload.bytes, upload.fileName));
  } catch (err) {
    if (err instanceof FormDefinitionError) throw new AppError(err.code, err.message, { issues: err.issues });
    throw err;
  }
}

/** Stores the served XForm and the original upload; content-addressed, so re-uploads cost nothing. */
async function storeVersion(scope: FormScope, definition: FormDefinition, upload: Upload) {
  const [xform, source] = await Promise.all([scope.ctx.blobs.put(definition.xform), scope.ctx.blobs.put(upload.bytes)]);
  return {
    version: definition.schema.version ?? '',
    title: definition.schema.title ?? definition.schema.formId,
    xform_blob: xform.id,
    xform_md5: xform.md5,
    xform_size: xform.size,
    schema_json: JSON.stringify(definition.schema),
    media_json: JSON.stringify(definition.media),
    warnings_json: JSON.stringify(definition.warnings),
    encrypted: definition.schema.base64RsaPublicKey ? 1 : 0,
    source_kind: definition.source,
    source_name: upload.fileName,
    source_blob: source.id,
    created_by: userIdOf(scope),
    created_at: isoNow(),
  };
}

export async function listForms(scope: FormScope): Promise<FormRow[]> {
  return q.listForms(scope.ctx.database.db, scope.access);
}

export async function getForm(scope: FormScope, xmlFormId: string): Promise<FormRow> {
  const form = await q.findForm(scope.ctx.database.db, scope.access, xmlFormId);
  if (!form) throw new AppError('form.not_found', `This project has no form ${JSON.stringify(xmlFormId)}.`);
  return form;
}

export async function createForm(scope: FormScope, upload: Upload, options: { publish: boolean; acceptChanges?: boolean }) {
  const definition = await prepare(scope, upload);
  const formId = definition.schema.formId;
  const db = scope.ctx.database.db;
  if (await q.formIdTaken(db, scope.access, formId)) {
    throw new AppError('form.already_exists', `This project already has a form with id ${JSON.stringify(formId)}; upload a new version as its draft instead.`);
  }
  const stored = await storeVersion(scope, definition, upload);
  const now = isoNow();
  await db.transaction().execute(async (trx) => {
    const id = await q.insertForm(trx, {
      project_id: scope.access.projectId,
      xml_form_id: formId,
      state: 'open',
      published_version_id: null,
      draft_version_id: null,
      created_by: userIdOf(scope),
      created_at: now,
      updated_at: now,
      deleted_at: null,
    });
    const versionId = await q.insertVersion(trx, { ...stored, form_id: id });
    await trx.updateTable('forms').set({ draft_version_id: versionId }).where('id', '=', id).execute();
    await audit(scope, trx, 'form.create', { id, xml_form_id: formId }, { fileName: upload.fileName, source: definition.source });
  }).catch((err: unknown) => {
    if (isUniqueViolation(err)) throw new AppError('form.already_exists', `This project already has a form with id ${JSON.stringify(formId)}.`);
    throw err;
  });
  const form = await getForm(scope, formId);
  if (options.publish) await publishDraft(scope, form, { acceptChanges: options.acceptChanges ?? false });
  return { form: await getForm(scope, formId), warnings: definition.warnings };
}

/** A new definition for an existing form becomes its draft, replacing any earlier draft. */
export async function replaceDraft(scope: FormScope, form: FormRow, upload: Upload) {
  const definition = await prepare(scope, upload);
  if (definition.schema.formId !== form.xml_form_id) {
    throw new AppError('form.id_mismatch', `The uploaded form's id is ${JSON.stringify(definition.schema.formId)}, but this form is ${JSON.stringify(form.xml_form_id)}.`);
  }
  const row = await storeVersion(scope, definition, upload);
  await scope.ctx.database.db.transaction().execute(async (trx) => {
    const versionId = await q.insertVersion(trx, { ...row, form_id: form.id });
    if (form.draft_version_id !== null) await q.deleteDraftVersion(trx, form, form.draft_version_id);
    await q.updateForm(trx, form, { draft_version_id: versionId, updated_at: isoNow() });
    await audit(scope, trx, 'form.draft_update', form, { fileName: upload.fileName, version: row.version });
  });
  return { warnings: definition.warnings };
}

export async function discardDraft(scope: FormScope, form: FormRow): Promise<void> {
  if (form.draft_version_id === null) throw new AppError('form.no_draft');
  const draftId = form.draft_version_id;
  await scope.ctx.database.db.transaction().execute(async (trx) => {
    await q.updateForm(trx, form, { draft_version_id: null, updated_at: isoNow() });
    await q.deleteDraftVersion(trx, form, draftId);
    await audit(scope, trx, 'form.draft_discard', form);
  });
}

export async function publishDraft(scope: FormScope, form: FormRow, options: { acceptChanges: boolean }): Promise<{ changes: SchemaChange[] }> {
  const db = scope.ctx.database.db;
  const draft = form.draft_version_id === null ? undefined : await q.findVersion(db, form, form.draft_version_id);
  if (!draft) throw new AppError('form.no_draft');
  if (await q.publishedVersionNamed(db, form, draft.version)) {
    throw new AppError('form.version_exists', `Version ${JSON.stringify(draft.version)} of this form is already published; set a new version in the form's settings.`);
  }
  const published = form.published_version_id === null ? undefined : await q.findVersion(db, form, form.published_version_id);
  const changes = published ? compareSchemas(schemaOf(published), schemaOf(draft)) : [];
  const incompatible = changes.filter((c) => !c.compatible);
  if (incompatible.length > 0 && !options.acceptChanges) {
    throw new AppError(
      'form.incompatible_change',
      `This version changes fields in ways data already collected would not fit: ${incompatible.map((c) => c.message).join(' ')} Publish again with acceptChanges=true to proceed.`,
      { changes: incompatible },
    );
  }
  const now = isoNow();
  await db.transaction().execute(async (trx) => {
    await q.markPublished(trx, draft, now);
    await q.updateForm(trx, form, { published_version_id: draft.id, draft_version_id: null, updated_at: now });
    await audit(scope, trx, 'form.publish', form, { version: draft.version, acceptedChanges: incompatible.map((c) => c.path) });
  }).catch((err: unknown) => {
    if (isUniqueViolation(err)) throw new AppError('form.version_exists', `Version ${JSON.stringify(draft.version)} was published meanwhile.`);
    throw err;
  });
  return { changes };
}

export async function setState(scope: FormScope, form: FormRow, state: FormState): Promise<void> {
  await scope.ctx.database.db.transaction().execute(async (trx) => {
    await q.updateForm(trx, form, { state, updated_at: isoNow() });
    await audit(scope, trx, 'form.state', form, { from: form.state, to: state });
  });
}

export async function deleteForm(scope: FormScope, form: FormRow): Promise<void> {
  await scope.ctx.database.db.transaction().execute(async (trx) => {
    await q.updateForm(trx, form, { deleted_at: isoNow() });
    await audit(scope, trx, 'form.delete', form);
  });
}

export function versions(scope: FormScope, form: FormRow): Promise<FormVersionRow[]> {
  return q.publishedVersions(scope.ctx.database.db, form);
}

/** The published version, the draft, or a version by id. */
export async function versionOf(scope: FormScope, form: FormRow, which: 'published' | 'draft' | number): Promise<FormVersionRow> {
  const id = which === 'published' ? form.published_version_id : which === 'draft' ? form.draft_version_id : which;
  const version = id === null ? undefined : await q.findVersion(scope.ctx.database.db, form, id);
  if (!version) throw new AppError(which === 'draft' ? 'form.no_draft' : 'form.not_published');
  return version;
}

export function schemaOf(version: FormVersionRow): FormSchema {
  return JSON.parse(version.schema_json) as FormSchema;
}

export async function readBlob(scope: FormScope, blobId: string): Promise<Readable> {
  return scope.ctx.blobs.get(blobId);
}

export function listMedia(scope: FormScope, form: FormRow): Promise<FormMediaRow[]> {
  return q.listMedia(scope.ctx.database.db, form);
}

export async function getMedia(scope: FormScope, form: FormRow, name: string): Promise<FormMediaRow> {
  const media = await q.findMedia(scope.ctx.database.db, form, name);
  if (!media) throw new AppError('media.not_found', `This form has no media file ${JSON.stringify(name)}.`);
  return media;
}

export async function putMedia(scope: FormScope, form: FormRow, name: string, content: Readable, contentType: string, maxBytes: number) {
  if (!MEDIA_NAME.test(name) || name === '.' || name === '..') throw new AppError('media.bad_name', 'A media file name is a plain file name: no folders, no NUL, at most 255 characters.');
  let blob;
  try {
    blob = await scope.ctx.blobs.put(content, { maxBytes });
  } catch (err) {
    if (err instanceof BlobError && err.code === 'blob.too_large') throw new AppError('request.body_too_large', `A media file may be at most ${maxBytes} bytes.`);
    throw err;
  }
  await scope.ctx.database.db.transaction().execute(async (trx) => {
    await q.upsertMedia(trx, { form_id: form.id, name, blob_id: blob.id, md5: blob.md5, size: blob.size, content_type: contentType, updated_at: isoNow() });
    await audit(scope, trx, 'form.media_put', form, { name, size: blob.size, md5: blob.md5 });
  });
  return { name, md5: blob.md5, size: blob.size, contentType };
}

export async function removeMedia(scope: FormScope, form: FormRow, name: string): Promise<void> {
  await scope.ctx.database.db.transaction().execute(async (trx) => {
    if ((await q.deleteMedia(trx, form, name)) === 0) throw new AppError('media.not_found', `This form has no media file ${JSON.stringify(name)}.`);
    await audit(scope, trx, 'form.media_delete', form, { name });
  });
}
