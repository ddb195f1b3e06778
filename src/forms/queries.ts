import type { Executor } from '../audit/index.js';
import type { ProjectAccess } from '../access/index.js';
import { prepared } from '../db/prepared.js';
import type { FormMediaTable, FormsTable, FormVersionsTable } from '../db/tables.js';
import type { Insertable, Selectable } from 'kysely';

export type FormRow = Selectable<FormsTable>;
export type FormVersionRow = Selectable<FormVersionsTable>;
export type FormMediaRow = Selectable<FormMediaTable>;

/** Every query is scoped to the project the caller was authorised for. */
type Project = Pick<ProjectAccess, 'projectId'>;
/** Reads of forms are also narrowed to the one form a public link may see (`onlyForm`). */
type FormsInView = Pick<ProjectAccess, 'projectId' | 'onlyForm'>;

function formsInView(db: Executor, view: FormsInView) {
  const forms = db.selectFrom('forms').selectAll().where('project_id', '=', view.projectId).where('deleted_at', 'is', null);
  return view.onlyForm === null ? forms : forms.where('xml_form_id', '=', view.onlyForm);
}

export function listForms(db: Executor, view: FormsInView): Promise<FormRow[]> {
  return formsInView(db, view).orderBy('xml_form_id').execute();
}

/** Prepared (src/db/prepared.ts), for the view of a whole project: every submission looks its form up. */
const projectFormById = prepared((db, v: { projectId: number; xmlFormId: string }) =>
  formsInView(db, { projectId: v.projectId, onlyForm: null }).where('xml_form_id', '=', v.xmlFormId),
);

export function findForm(db: Executor, view: FormsInView, xmlFormId: string): Promise<FormRow | undefined> {
  if (view.onlyForm === null) return projectFormById.first(db, { projectId: view.projectId, xmlFormId });
  return formsInView(db, view).where('xml_form_id', '=', xmlFormId).executeTakeFirst();
}

/** Includes deleted forms: an id stays taken while its data may still be restored. */
export function formIdTaken(db: Executor, project: Project, xmlFormId: string): Promise<{ id: number } | undefined> {
  return db.selectFrom('forms').select('id').where('project_id', '=', project.projectId).where('xml_form_id', '=', xmlFormId).executeTakeFirst();
}

export async function insertForm(db: Executor, row: Insertable<FormsTable>): Promise<number> {
  const { id } = await db.insertInto('forms').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export async function updateForm(db: Executor, form: FormRow, changes: Partial<Omit<FormRow, 'id' | 'project_id'>>): Promise<void> {
  await db.updateTable('forms').set(changes).where('id', '=', form.id).where('project_id', '=', form.project_id).execute();
}

export async function insertVersion(db: Executor, row: Insertable<FormVersionsTable>): Promise<number> {
  const { id } = await db.insertInto('form_versions').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export function findVersion(db: Executor, form: FormRow, versionId: number): Promise<FormVersionRow | undefined> {
  return db.selectFrom('form_versions').selectAll().where('form_id', '=', form.id).where('id', '=', versionId).executeTakeFirst();
}

export function publishedVersions(db: Executor, form: FormRow): Promise<FormVersionRow[]> {
  return db.selectFrom('form_versions').selectAll().where('form_id', '=', form.id).where('published_at', 'is not', null).orderBy('published_at', 'desc').orderBy('id', 'desc').execute();
}

/** Prepared (src/db/prepared.ts): every submission looks its form version up. */
const publishedVersion = prepared((db, v: { formId: number; version: string }) =>
  db.selectFrom('form_versions').selectAll().where('form_id', '=', v.formId).where('version', '=', v.version).where('published_at', 'is not', null),
);

export function publishedVersionNamed(db: Executor, form: FormRow, version: string): Promise<FormVersionRow | undefined> {
  return publishedVersion.first(db, { formId: form.id, version });
}

export async function markPublished(db: Executor, version: FormVersionRow, at: string): Promise<void> {
  await db.updateTable('form_versions').set({ published_at: at }).where('id', '=', version.id).where('form_id', '=', version.form_id).execute();
}

export async function deleteDraftVersion(db: Executor, form: FormRow, versionId: number): Promise<void> {
  await db.deleteFrom('form_versions').where('id', '=', versionId).where('form_id', '=', form.id).where('published_at', 'is', null).execute();
}

export function listMedia(db: Executor, form: FormRow): Promise<FormMediaRow[]> {
  return db.selectFrom('form_media').selectAll().where('form_id', '=', form.id).orderBy('name').execute();
}

export function findMedia(db: Executor, form: FormRow, name: string): Promise<FormMediaRow | undefined> {
  return db.selectFrom('form_media').selectAll().where('form_id', '=', form.id).where('name', '=', name).executeTakeFirst();
}

export async function upsertMedia(db: Executor, row: Insertable<FormMediaTable>): Promise<void> {
  await db
    .insertInto('form_media')
    .values(row)
    .onConflict((oc) => oc.columns(['form_id', 'name']).doUpdateSet({ blob_id: row.blob_id, md5: row.md5, size: row.size, content_type: row.content_type, updated_at: row.updated_at }))
    .execute();
}

export async function deleteMedia(db: Executor, form: FormRow, name: string): Promise<number> {
  const result = await db.deleteFrom('form_media').where('form_id', '=', form.id).where('name', '=', name).executeTakeFirst();
  return Number(result.numDeletedRows);
}
