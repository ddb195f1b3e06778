import type { Insertable, Updateable } from 'kysely';
import type { Executor } from '../audit/index.js';
import type { ProjectMembersTable, ProjectsTable } from '../db/tables.js';

/** The only place SQL about projects, members, emergency grants and ownership offers lives. */

const projectColumns = ['id', 'name', 'description', 'owner_id', 'archived', 'created_at', 'updated_at'] as const;

export async function insertProject(db: Executor, row: Insertable<ProjectsTable>): Promise<number> {
  const { id } = await db.insertInto('projects').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export async function findProject(db: Executor, projectId: number) {
  return db.selectFrom('projects').select(projectColumns).where('id', '=', projectId).where('deleted_at', 'is', null).executeTakeFirst();
}

export async function updateProject(db: Executor, projectId: number, patch: Updateable<ProjectsTable>): Promise<void> {
  await db.updateTable('projects').set(patch).where('id', '=', projectId).execute();
}

/** Projects where the user is owner, member, or holds an emergency grant unexpired at `now`. */
export async function listProjectsOf(db: Executor, userId: number, now: string) {
  return db
    .selectFrom('projects')
    .select(projectColumns)
    .where('deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('owner_id', '=', userId),
        eb.exists(eb.selectFrom('project_members as m').select('m.user_id').whereRef('m.project_id', '=', 'projects.id').where('m.user_id', '=', userId)),
        eb.exists(
          eb.selectFrom('emergency_grants as g').select('g.id').whereRef('g.project_id', '=', 'projects.id').where('g.user_id', '=', userId).where('g.expires_at', '>', now),
        ),
      ]),
    )
    .orderBy('id')
    .execute();
}

/** Every live project with its owner's username: what an instance administrator may see. */
export async function listAllProjects(db: Executor) {
  return db
    .selectFrom('projects')
    .innerJoin('users', 'users.id', 'projects.owner_id')
    .select(['projects.id', 'projects.name', 'projects.archived', 'projects.created_at', 'projects.owner_id', 'users.username as owner_username'])
    .where('projects.deleted_at', 'is', null)
    .orderBy('projects.id')
    .execute();
}

export async function findUserByUsernameKey(db: Executor, usernameKey: string) {
  return db.selectFrom('users').select(['id', 'username', 'disabled_at']).where('username_key', '=', usernameKey).executeTakeFirst();
}

export async function findUserById(db: Executor, userId: number) {
  return db.selectFrom('users').select(['id', 'username', 'email', 'disabled_at']).where('id', '=', userId).executeTakeFirst();
}

export async function findUsersByIds(db: Executor, userIds: number[]) {
  if (userIds.length === 0) return [];
  return db.selectFrom('users').select(['id', 'username', 'email']).where('id', 'in', userIds).execute();
}

export async function listMembers(db: Executor, projectId: number) {
  return db
    .selectFrom('project_members')
    .innerJoin('users', 'users.id', 'project_members.user_id')
    .select(['project_members.user_id', 'users.username', 'project_members.role', 'project_members.row_filter', 'project_members.created_at'])
    .where('project_members.project_id', '=', projectId)
    .orderBy('users.username_key')
    .execute();
}

export async function findMember(db: Executor, projectId: number, userId: number) {
  return db.selectFrom('project_members').select(['role', 'row_filter']).where('project_id', '=', projectId).where('user_id', '=', userId).executeTakeFirst();
}

export async function insertMember(db: Executor, row: ProjectMembersTable): Promise<void> {
  await db.insertInto('project_members').values(row).execute();
}

export async function updateMember(db: Executor, projectId: number, userId: number, patch: Updateable<ProjectMembersTable>): Promise<void> {
  await db.updateTable('project_members').set(patch).where('project_id', '=', projectId).where('user_id', '=', userId).execute();
}

export async function deleteMember(db: Executor, projectId: number, userId: number): Promise<void> {
  await db.deleteFrom('project_members').where('project_id', '=', projectId).where('user_id', '=', userId).execute();
}

export async function insertEmergencyGrant(
  db: Executor,
  row: { project_id: number; user_id: number; role: string; reason: string; created_at: string; expires_at: string },
): Promise<number> {
  const { id } = await db.insertInto('emergency_grants').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

/** A project's emergency grants unexpired at `now`, with the grantee's username. */
export async function currentEmergencyGrants(db: Executor, projectId: number, now: string) {
  return db
    .selectFrom('emergency_grants')
    .innerJoin('users', 'users.id', 'emergency_grants.user_id')
    .select(['emergency_grants.id', 'emergency_grants.user_id', 'users.username', 'emergency_grants.role', 'emergency_grants.reason', 'emergency_grants.created_at', 'emergency_grants.expires_at'])
    .where('emergency_grants.project_id', '=', projectId)
    .where('emergency_grants.expires_at', '>', now)
    .orderBy('emergency_grants.id')
    .execute();
}

export async function findOwnershipOffer(db: Executor, projectId: number) {
  return db.selectFrom('ownership_offers').selectAll().where('project_id', '=', projectId).executeTakeFirst();
}

export async function replaceOwnershipOffer(db: Executor, row: { project_id: number; to_user_id: number; offered_by: number; created_at: string }): Promise<void> {
  await db.deleteFrom('ownership_offers').where('project_id', '=', row.project_id).execute();
  await db.insertInto('ownership_offers').values(row).execute();
}

export async function deleteOwnershipOffer(db: Executor, projectId: number): Promise<boolean> {
  const result = await db.deleteFrom('ownership_offers').where('project_id', '=', projectId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
