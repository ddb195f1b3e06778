import type { Kysely } from 'kysely';
import { recordAudit, type Executor } from '../audit/index.js';
import type { RowFilter } from '../access/row-filter.js';
import { assignableRoles, type ProjectRole } from '../access/verbs.js';
import { isoNow } from '../db/columns.js';
import type { Tables } from '../db/tables.js';
import { AppError } from '../server/errors.js';
import * as q from './queries.js';
import type { AuditSource } from './service.js';
import { identityKey } from '../accounts/index.js';

export type AssignableRole = Exclude<ProjectRole, 'owner'>;

export interface MemberView {
  userId: number;
  username: string;
  role: ProjectRole;
  rowFilter: RowFilter | null;
  since: string;
}

/** The owner first, then every member by username. */
export async function listMembers(db: Executor, projectId: number): Promise<MemberView[]> {
  const project = await q.findProject(db, projectId);
  if (project === undefined) throw new AppError('project.not_found');
  const [owner] = await q.findUsersByIds(db, [Number(project.owner_id)]);
  const members = await q.listMembers(db, projectId);
  return [
    { userId: Number(project.owner_id), username: owner?.username ?? '', role: 'owner', rowFilter: null, since: project.created_at },
    ...members.map((m) => ({
      userId: Number(m.user_id),
      username: m.username,
      role: m.role as ProjectRole,
      rowFilter: m.row_filter ? (JSON.parse(m.row_filter) as RowFilter) : null,
      since: m.created_at,
    })),
  ];
}

export async function addMember(
  db: Kysely<Tables>,
  projectId: number,
  input: { username: string; role: AssignableRole; rowFilter?: RowFilter | null },
  source: AuditSource,
): Promise<MemberView> {
  checkAssignable(input.role);
  return db.transaction().execute(async (trx) => {
    const user = await activeUser(trx, input.username);
    const project = await q.findProject(trx, projectId);
    if (project === undefined) throw new AppError('project.not_found');
    if (Number(project.owner_id) === user.id) throw new AppError('project.owner_role_fixed');
    if ((await q.findMember(trx, projectId, user.id)) !== undefined) throw new AppError('project.already_member');
    const now = isoNow();
    const rowFilter = input.rowFilter ?? null;
    await q.insertMember(trx, {
      project_id: projectId,
      user_id: user.id,
      role: input.role,
      row_filter: rowFilter === null ? null : JSON.stringify(rowFilter),
      created_at: now,
      updated_at: now,
    });
    await recordAudit(trx, {
      ...source,
      action: 'project.share',
      projectId,
      resource: { type: 'user', id: user.id },
      details: { username: user.username, role: input.role, rowFilter },
    });
    return { userId: user.id, username: user.username, role: input.role, rowFilter, since: now };
  });
}

export async function changeMember(
  db: Kysely<Tables>,
  projectId: number,
  userId: number,
  input: { role?: AssignableRole; rowFilter?: RowFilter | null },
  source: AuditSource,
): Promise<void> {
  if (input.role !== undefined) checkAssignable(input.role);
  await db.transaction().execute(async (trx) => {
    const before = await existingMember(trx, projectId, userId);
    await q.updateMember(trx, projectId, userId, {
      ...(input.role !== undefined ? { role: input.role } : {}),
      ...(input.rowFilter !== undefined ? { row_filter: input.rowFilter === null ? null : JSON.stringify(input.rowFilter) } : {}),
      updated_at: isoNow(),
    });
    await recordAudit(trx, {
      ...source,
      action: 'project.share_change',
      projectId,
      resource: { type: 'user', id: userId },
      details: {
        from: { role: before.role, rowFilter: before.row_filter ? (JSON.parse(before.row_filter) as RowFilter) : null },
        to: { role: input.role ?? before.role, ...(input.rowFilter !== undefined ? { rowFilter: input.rowFilter } : {}) },
      },
    });
  });
}

export async function removeMember(db: Kysely<Tables>, projectId: number, userId: number, source: AuditSource): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await existingMember(trx, projectId, userId);
    await q.deleteMember(trx, projectId, userId);
    await recordAudit(trx, { ...source, action: 'project.unshare', projectId, resource: { type: 'user', id: userId }, details: { role: before.role } });
  });
}

/** The owner offers the project to someone; it changes hands only when they accept. */
export async function offerOwnership(db: Kysely<Tables>, projectId: number, offeredBy: number, username: string, source: AuditSource): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const user = await activeUser(trx, username);
    const project = await q.findProject(trx, projectId);
    if (project === undefined) throw new AppError('project.not_found');
    if (Number(project.owner_id) === user.id) throw new AppError('project.transfer_to_owner');
    await q.replaceOwnershipOffer(trx, { project_id: projectId, to_user_id: user.id, offered_by: offeredBy, created_at: isoNow() });
    await recordAudit(trx, { ...source, action: 'project.transfer_offer', projectId, resource: { type: 'user', id: user.id }, details: { username: user.username } });
  });
}

export async function cancelOwnershipOffer(db: Kysely<Tables>, projectId: number, source: AuditSource): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await q.deleteOwnershipOffer(trx, projectId))) throw new AppError('project.transfer_not_found');
    await recordAudit(trx, { ...source, action: 'project.transfer_cancel', projectId, resource: { type: 'project', id: projectId } });
  });
}

/**
 * The recipient accepts: they become the owner (leaving their membership, if any), and the
 * previous owner stays on as a manager, so nobody is locked out of a project by a transfer.
 */
export async function acceptOwnership(db: Kysely<Tables>, projectId: number, userId: number, source: AuditSource): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const offer = await q.findOwnershipOffer(trx, projectId);
    const project = await q.findProject(trx, projectId);
    if (offer === undefined || project === undefined || Number(offer.to_user_id) !== userId) throw new AppError('project.transfer_not_found');
    const previousOwner = Number(project.owner_id);
    const now = isoNow();
    await q.deleteMember(trx, projectId, userId);
    await q.deleteMember(trx, projectId, previousOwner);
    await q.insertMember(trx, { project_id: projectId, user_id: previousOwner, role: 'manager', row_filter: null, created_at: now, updated_at: now });
    await q.updateProject(trx, projectId, { owner_id: userId, updated_at: now });
    await q.deleteOwnershipOffer(trx, projectId);
    await recordAudit(trx, {
      ...source,
      action: 'project.transfer_accept',
      projectId,
      resource: { type: 'project', id: projectId },
      details: { previousOwnerId: previousOwner, newOwnerId: userId },
    });
  });
}

export async function activeUser(db: Executor, username: string): Promise<{ id: number; username: string }> {
  const user = await q.findUserByUsernameKey(db, identityKey(username));
  if (user === undefined || user.disabled_at !== null) throw new AppError('project.user_not_found');
  return { id: Number(user.id), username: user.username };
}

async function existingMember(db: Executor, projectId: number, userId: number) {
  const project = await q.findProject(db, projectId);
  if (project === undefined) throw new AppError('project.not_found');
  if (Number(project.owner_id) === userId) throw new AppError('project.owner_role_fixed');
  const member = await q.findMember(db, projectId, userId);
  if (member === undefined) throw new AppError('project.member_not_found');
  return member;
}

function checkAssignable(role: string): void {
  if (role === 'owner') throw new AppError('project.owner_role_fixed');
  if (!(assignableRoles as readonly string[]).includes(role)) throw new AppError('access.unknown_role');
}
