/*
 * KoBoToolbox API v2 assets: a Fieldkeep form is a Kobo "survey" asset. Its uid is derived from
 * ids that never change or get reused — `fkp<projectId>f<formId>` (the form's database id, not its
 * xmlFormId, which a deleted form may hand on) — so scripts that stored a uid keep working.
 *
 * These routes have no project in their path: each asset is authorised here, through the one
 * policy function, with the same answers as project routes (no role: not found; an administrator
 * without a grant: refused and audited; a role without the verb: denied).
 */
import { decide, loadProjectAccess, type Actor, type ProjectAccess, type ProjectVerb } from '../access/index.js';
import { recordAudit, type AuditEvent } from '../audit/index.js';
import type { AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { assetFormsOf, projectIdsOf, type AssetFormRow } from './queries.js';

const UID = /^fkp([1-9]\d{0,14})f([1-9]\d{0,14})$/;

export function assetUid(projectId: number, formId: number): string {
  return `fkp${projectId}f${formId}`;
}

function parseAssetUid(uid: string): { projectId: number; formId: number } | undefined {
  const match = UID.exec(uid);
  return match ? { projectId: Number(match[1]), formId: Number(match[2]) } : undefined;
}

export interface AssetSource {
  ctx: AppContext;
  source: Pick<AuditEvent, 'actor' | 'address' | 'userAgent'> & { actor: Actor };
}

export interface Asset {
  access: ProjectAccess;
  form: AssetFormRow;
}

/** The asset `uid` names, if the caller may do `verb` in its project; otherwise the refusal project routes give. */
export async function openAsset(caller: AssetSource, uid: string, verb: ProjectVerb, route: string): Promise<Asset> {
  const ids = parseAssetUid(uid);
  const db = caller.ctx.database.db;
  const access = ids && (await loadProjectAccess(db, caller.source.actor, ids.projectId));
  const form = ids && access && (await assetFormsOf(db, ids.projectId, ids.formId))[0];
  if (!ids || !access || !form) throw new AppError('asset.not_found');
  const decision = decide(caller.source.actor, verb, access);
  if (decision.allowed) return { access, form };
  if (decision.refusal === 'project.not_found') throw new AppError('asset.not_found');
  if (decision.refusal === 'access.admin_without_grant') {
    await recordAudit(db, { ...caller.source, action: 'access.admin_refused', projectId: access.projectId, resource: { type: 'project', id: access.projectId }, details: { verb, method: 'GET', route } });
  }
  throw new AppError(decision.refusal);
}

/** Whether the caller may read the asset's submissions (an asset is listed to anyone who may see the form). */
export function readsData(caller: AssetSource, asset: Asset): boolean {
  return decide(caller.source.actor, 'submission.read', asset.access).allowed;
}

/** Every form the caller may see (`form.read`), in project then form order, with whether they may read its data. */
export async function visibleAssets(caller: AssetSource): Promise<Array<Asset & { readsData: boolean }>> {
  const actor = caller.source.actor;
  if (actor.kind !== 'user') return [];
  const db = caller.ctx.database.db;
  const assets: Array<Asset & { readsData: boolean }> = [];
  // One access load per project; the policy decides per project, as every form of it shares the answer.
  for (const projectId of await projectIdsOf(db, actor.userId, new Date().toISOString())) {
    const access = await loadProjectAccess(db, actor, projectId);
    if (!access || !decide(actor, 'form.read', access).allowed) continue;
    const readsData = decide(actor, 'submission.read', access).allowed;
    for (const form of await assetFormsOf(db, projectId)) assets.push({ access, form, readsData });
  }
  return assets;
}
