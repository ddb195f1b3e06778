/** The only place SQL about project encryption, key pairs, members' own keys and sealed copies lives. */
import type { Insertable, Selectable } from 'kysely';
import type { ProjectAccess } from '../access/index.js';
import type { Executor } from '../audit/index.js';
import type { ProjectKeyGrantsTable, ProjectKeysTable, UserKeysTable } from '../db/tables.js';

export type ProjectKeyRow = Selectable<ProjectKeysTable>;
export type UserKeyRow = Selectable<UserKeysTable>;
export type GrantRow = Selectable<ProjectKeyGrantsTable>;

/** Every query about a project's keys is scoped to the project the caller was authorised for. */
type Project = Pick<ProjectAccess, 'projectId'>;

export function findEncryption(db: Executor, project: Project) {
  return db.selectFrom('project_encryption').selectAll().where('project_id', '=', project.projectId).executeTakeFirst();
}

export async function insertEncryption(db: Executor, project: Project, row: { allow_server_decryption: number; enabled_by: number | null; enabled_at: string }): Promise<void> {
  await db.insertInto('project_encryption').values({ project_id: project.projectId, ...row }).execute();
}

export async function setServerDecryption(db: Executor, project: Project, allowed: boolean): Promise<void> {
  await db.updateTable('project_encryption').set({ allow_server_decryption: allowed ? 1 : 0 }).where('project_id', '=', project.projectId).execute();
}

/** Newest first: the active key, then retired ones from the latest rotation back. */
export function listKeys(db: Executor, project: Project): Promise<ProjectKeyRow[]> {
  return db.selectFrom('project_keys').selectAll().where('project_id', '=', project.projectId).orderBy('id', 'desc').execute();
}

export function findKey(db: Executor, project: Project, keyId: number): Promise<ProjectKeyRow | undefined> {
  return db.selectFrom('project_keys').selectAll().where('project_id', '=', project.projectId).where('id', '=', keyId).executeTakeFirst();
}

export function activeKey(db: Executor, project: Project): Promise<ProjectKeyRow | undefined> {
  return db.selectFrom('project_keys').selectAll().where('project_id', '=', project.projectId).where('state', '=', 'active').executeTakeFirst();
}

export async function insertKey(db: Executor, project: Project, row: Omit<Insertable<ProjectKeysTable>, 'project_id'>): Promise<number> {
  const { id } = await db.insertInto('project_keys').values({ ...row, project_id: project.projectId }).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export async function retireActiveKey(db: Executor, project: Project, at: string): Promise<void> {
  await db.updateTable('project_keys').set({ state: 'retired', retired_at: at }).where('project_id', '=', project.projectId).where('state', '=', 'active').execute();
}

export function findUserKey(db: Executor, userId: number): Promise<UserKeyRow | undefined> {
  return db.selectFrom('user_keys').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function upsertUserKey(db: Executor, row: UserKeysTable): Promise<void> {
  await db
    .insertInto('user_keys')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ public_key: row.public_key, wrapped_private_key: row.wrapped_private_key, updated_at: row.updated_at }))
    .execute();
}

/** Copies sealed to a person's previous key are useless once they change it. */
export async function deleteGrantsOfUser(db: Executor, userId: number): Promise<number> {
  const result = await db.deleteFrom('project_key_grants').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The project's members (and owner) with their own public keys, if they have set one. */
export function peopleWithKeys(db: Executor, project: Project) {
  const members = db
    .selectFrom('project_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .leftJoin('user_keys as k', 'k.user_id', 'u.id')
    .select(['u.id as user_id', 'u.username', 'm.role', 'k.public_key'])
    .where('m.project_id', '=', project.projectId);
  const owner = db
    .selectFrom('projects as p')
    .innerJoin('users as u', 'u.id', 'p.owner_id')
    .leftJoin('user_keys as k', 'k.user_id', 'u.id')
    .select(['u.id as user_id', 'u.username', (eb) => eb.val('owner').as('role'), 'k.public_key'])
    .where('p.id', '=', project.projectId);
  return owner.unionAll(members).execute();
}

export function grantsOfProject(db: Executor, project: Project) {
  return db
    .selectFrom('project_key_grants as g')
    .innerJoin('project_keys as pk', 'pk.id', 'g.project_key_id')
    .select(['g.project_key_id', 'g.user_id', 'g.created_at'])
    .where('pk.project_id', '=', project.projectId)
    .execute();
}

export function grantsOfUser(db: Executor, project: Project, userId: number) {
  return db
    .selectFrom('project_key_grants as g')
    .innerJoin('project_keys as pk', 'pk.id', 'g.project_key_id')
    .select(['g.project_key_id', 'g.sealed_private_key', 'g.created_at'])
    .where('pk.project_id', '=', project.projectId)
    .where('g.user_id', '=', userId)
    .orderBy('g.project_key_id', 'desc')
    .execute();
}

export async function upsertGrant(db: Executor, row: Insertable<ProjectKeyGrantsTable>): Promise<void> {
  await db
    .insertInto('project_key_grants')
    .values(row)
    .onConflict((oc) => oc.columns(['project_key_id', 'user_id']).doUpdateSet({ sealed_private_key: row.sealed_private_key, granted_by: row.granted_by ?? null, created_at: row.created_at }))
    .execute();
}

export async function deleteGrantsInProject(db: Executor, project: Project, userId: number): Promise<number> {
  const keyIds = db.selectFrom('project_keys').select('id').where('project_id', '=', project.projectId);
  const result = await db.deleteFrom('project_key_grants').where('user_id', '=', userId).where('project_key_id', 'in', keyIds).executeTakeFirst();
  return Number(result.numDeletedRows);
}
