/*
 * Saved export settings: a form's export options under a name, shared by everyone who may export
 * the form, each with stable URLs (`…/exports/settings/{id}/data.csv` and `.xlsx`) that always
 * serve the current data under those options and the caller's own row filter.
 */
import { Type, type Static } from 'typebox';
import { recordAudit } from '../audit/index.js';
import { AppError } from '../server/errors.js';
import { openFormData, type DataScope } from '../submissions/index.js';
import { ExportFormatSchema, ExportOptionsSchema, type ExportFormat, type ExportOptionsInput } from './options.js';
import * as q from './queries.js';
import { planExport } from './service.js';

export const SettingBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    format: ExportFormatSchema,
    options: Type.Optional(ExportOptionsSchema),
  },
  { additionalProperties: false },
);
export type SettingBody = Static<typeof SettingBody>;

export const SettingView = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  format: ExportFormatSchema,
  options: ExportOptionsSchema,
  createdAt: Type.String(),
  updatedAt: Type.String(),
  /** Stable URLs of the current data under this setting, for Excel's and Power BI's web connectors. */
  urls: Type.Object({ csv: Type.String(), xlsx: Type.String() }),
});
export type SettingView = Static<typeof SettingView>;

export interface SavedSetting {
  id: number;
  updatedAt: string;
  options: ExportOptionsInput;
}

function present(scope: DataScope, xmlFormId: string, row: q.SettingRow): SettingView {
  const base = `${scope.ctx.config.publicUrl}/api/v1/projects/${scope.access.projectId}/forms/${encodeURIComponent(xmlFormId)}/exports/settings/${Number(row.id)}`;
  return {
    id: Number(row.id),
    name: row.name,
    format: row.format as ExportFormat,
    options: JSON.parse(row.options_json) as ExportOptionsInput,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    urls: { csv: `${base}/data.csv`, xlsx: `${base}/data.xlsx` },
  };
}

export async function createSetting(scope: DataScope, xmlFormId: string, body: SettingBody): Promise<SettingView> {
  const options = body.options ?? {};
  // Options are checked against the form now, not when a dashboard first refreshes.
  const { data } = await planExport(scope, xmlFormId, body.format, options);
  const { ctx, access, source } = scope;
  const actor = source.actor;
  const id = await ctx.database.db.transaction().execute(async (trx) => {
    const created = await q.insertSetting(trx, { project_id: access.projectId, form_id: data.form.id, name: body.name, format: body.format, options_json: JSON.stringify(options), created_by_user_id: actor?.kind === 'user' ? actor.userId : null });
    await recordAudit(trx, { ...source, action: 'export.setting_create', projectId: access.projectId, resource: { type: 'export_setting', id: created }, details: { formId: xmlFormId, name: body.name, format: body.format } });
    return created;
  });
  return present(scope, xmlFormId, (await q.findSetting(ctx.database.db, access.projectId, data.form.id, id))!);
}

export async function listSettings(scope: DataScope, xmlFormId: string): Promise<SettingView[]> {
  const data = await openFormData(scope, xmlFormId);
  return (await q.settingsOf(scope.ctx.database.db, scope.access.projectId, data.form.id)).map((row) => present(scope, xmlFormId, row));
}

async function findSetting(scope: DataScope, xmlFormId: string, id: number): Promise<{ formId: number; row: q.SettingRow }> {
  const data = await openFormData(scope, xmlFormId);
  const row = await q.findSetting(scope.ctx.database.db, scope.access.projectId, data.form.id, id);
  if (!row) throw new AppError('export.setting_not_found');
  return { formId: data.form.id, row };
}

export async function getSetting(scope: DataScope, xmlFormId: string, id: number): Promise<SettingView> {
  return present(scope, xmlFormId, (await findSetting(scope, xmlFormId, id)).row);
}

/** The options a setting's URLs export with. */
export async function savedSetting(scope: DataScope, xmlFormId: string, id: number): Promise<SavedSetting> {
  const { row } = await findSetting(scope, xmlFormId, id);
  return { id: Number(row.id), updatedAt: row.updated_at, options: JSON.parse(row.options_json) as ExportOptionsInput };
}

export async function deleteSetting(scope: DataScope, xmlFormId: string, id: number): Promise<void> {
  const { formId, row } = await findSetting(scope, xmlFormId, id);
  const { ctx, access, source } = scope;
  await ctx.database.db.transaction().execute(async (trx) => {
    await q.deleteSetting(trx, access.projectId, formId, id);
    await recordAudit(trx, { ...source, action: 'export.setting_delete', projectId: access.projectId, resource: { type: 'export_setting', id }, details: { formId: xmlFormId, name: row.name } });
  });
}
