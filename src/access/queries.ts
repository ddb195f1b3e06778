import type { Executor } from '../audit/index.js';
import { prepared } from '../db/prepared.js';

/** Prepared (src/db/prepared.ts): every request of a phone or public link checks its project. */
const liveProject = prepared((db, v: { projectId: number }) => db.selectFrom('projects').select(['id', 'owner_id']).where('id', '=', v.projectId).where('deleted_at', 'is', null));

/** A project that exists and is not deleted: just what access decisions need. */
export async function findLiveProject(db: Executor, projectId: number): Promise<{ id: number; ownerId: number } | undefined> {
  const row = await liveProject.first(db, { projectId });
  return row && { id: Number(row.id), ownerId: Number(row.owner_id) };
}

/**
 * What a person's access to a live project rests on, in one query: a row per emergency grant not
 * expired at `since` (one row when there is none), each carrying the owner and the membership.
 * No row when the project does not exist or is deleted.
 */
export function personAccessRows(db: Executor, projectId: number, userId: number, since: string) {
  return db
    .selectFrom('projects as p')
    .leftJoin('project_members as m', (join) => join.onRef('m.project_id', '=', 'p.id').on('m.user_id', '=', userId))
    .leftJoin('emergency_grants as g', (join) => join.onRef('g.project_id', '=', 'p.id').on('g.user_id', '=', userId).on('g.expires_at', '>', since))
    .select(['p.owner_id', 'm.role as member_role', 'm.row_filter', 'g.id as grant_id', 'g.role as grant_role', 'g.reason as grant_reason', 'g.expires_at as grant_expires_at'])
    .where('p.id', '=', projectId)
    .where('p.deleted_at', 'is', null)
    .orderBy('g.id')
    .execute();
}
