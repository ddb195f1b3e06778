import type { Executor } from '../audit/index.js';

/** Projects where a person has a standing role or an unexpired emergency grant: the ones whose forms they may list. */
export async function projectIdsOf(db: Executor, userId: number, now: string): Promise<number[]> {
  const rows = await db
    .selectFrom('projects as p')
    .select('p.id')
    .where('p.deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('p.owner_id', '=', userId),
        eb.exists(eb.selectFrom('project_members as m').select('m.user_id').whereRef('m.project_id', '=', 'p.id').where('m.user_id', '=', userId)),
        eb.exists(eb.selectFrom('emergency_grants as g').select('g.id').whereRef('g.project_id', '=', 'p.id').where('g.user_id', '=', userId).where('g.expires_at', '>', now)),
      ]),
    )
    .orderBy('p.id')
    .execute();
  return rows.map((r) => Number(r.id));
}

/** The live forms of a project as assets need them: title of the published (else draft) version, owner's name. */
export function assetFormsOf(db: Executor, projectId: number, formId?: number) {
  let query = db
    .selectFrom('forms as f')
    .innerJoin('projects as p', 'p.id', 'f.project_id')
    .innerJoin('users as o', 'o.id', 'p.owner_id')
    .leftJoin('form_versions as fv', (join) => join.on((eb) => eb('fv.id', '=', eb.fn.coalesce('f.published_version_id', 'f.draft_version_id'))))
    .select(['f.id', 'f.project_id', 'f.xml_form_id', 'f.state', 'f.published_version_id', 'f.created_at', 'f.updated_at', 'fv.title', 'fv.version', 'o.username as owner_username'])
    .where('f.project_id', '=', projectId)
    .where('f.deleted_at', 'is', null);
  if (formId !== undefined) query = query.where('f.id', '=', formId);
  return query.orderBy('f.id').execute();
}

export type AssetFormRow = Awaited<ReturnType<typeof assetFormsOf>>[number];
