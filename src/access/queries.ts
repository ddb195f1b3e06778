import type { Executor } from '../audit/index.js';

/** A project that exists and is not deleted: just what access decisions need. */
export async function findLiveProject(db: Executor, projectId: number): Promise<{ id: number; ownerId: number } | undefined> {
  const row = await db
    .selectFrom('projects')
    .select(['id', 'owner_id'])
    .where('id', '=', projectId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row && { id: Number(row.id), ownerId: Number(row.owner_id) };
}

export async function findMembership(db: Executor, projectId: number, userId: number) {
  return db
    .selectFrom('project_members')
    .select(['role', 'row_filter'])
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

/** A person's emergency grants in a project that had not expired at `since`. */
export async function emergencyGrantsOf(db: Executor, projectId: number, userId: number, since: string) {
  return db
    .selectFrom('emergency_grants')
    .select(['id', 'role', 'reason', 'expires_at'])
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .where('expires_at', '>', since)
    .orderBy('id')
    .execute();
}
