import type { Kysely } from 'kysely';
import { recordAudit, type AuditEvent, type Executor } from '../audit/index.js';
import { currentRoles, type ProjectAccess } from '../access/policy.js';
import type { ProjectRole } from '../access/verbs.js';
import { isoNow } from '../db/columns.js';
import type { Tables } from '../db/tables.js';
import { AppError } from '../server/errors.js';
import * as q from './queries.js';

/** Who is acting and from where, as audit entries record it. */
export type AuditSource = Pick<AuditEvent, 'actor' | 'actorLabel' | 'address' | 'userAgent'>;

export interface ProjectView {
  id: number;
  name: string;
  description: string;
  archived: boolean;
  owner: { id: number; username: string };
  /** The caller's current roles here (a standing role, and any emergency role). */
  yourRoles: ProjectRole[];
  createdAt: string;
  updatedAt: string;
  /** Shown to owners only: current emergency access to this project, a banner until it expires. */
  emergencyAccess?: Array<{ username: string; role: string; reason: string; grantedAt: string; expiresAt: string }>;
  /** Shown to owners only: an ownership transfer waiting for its recipient. */
  pendingTransfer?: { toUsername: string; offeredAt: string } | null;
}

export interface ProjectSummary {
  id: number;
  name: string;
  description: string;
  archived: boolean;
  createdAt: string;
}

export async function createProject(
  db: Kysely<Tables>,
  ownerId: number,
  input: { name: string; description?: string },
  source: AuditSource,
): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const owner = await q.findUserById(trx, ownerId);
    if (owner === undefined || owner.disabled_at !== null) throw new AppError('project.user_not_found');
    const now = isoNow();
    const id = await q.insertProject(trx, {
      name: input.name,
      description: input.description ?? '',
      owner_id: ownerId,
      archived: 0,
      created_at: now,
      updated_at: now,
    });
    await recordAudit(trx, { ...source, action: 'project.create', projectId: id, resource: { type: 'project', id }, details: { name: input.name, ownerId } });
    return id;
  });
}

export async function listProjectsFor(db: Executor, userId: number, now: Date = new Date()): Promise<ProjectSummary[]> {
  const rows = await q.listProjectsOf(db, userId, now.toISOString());
  return rows.map(summary);
}

export async function getProject(db: Executor, access: ProjectAccess, now: Date = new Date()): Promise<ProjectView> {
  const row = await q.findProject(db, access.projectId);
  if (row === undefined) throw new AppError('project.not_found');
  const [owner] = await q.findUsersByIds(db, [Number(row.owner_id)]);
  const roles = currentRoles(access, now);
  const view: ProjectView = {
    ...summary(row),
    owner: { id: Number(row.owner_id), username: owner?.username ?? '' },
    yourRoles: roles,
    updatedAt: row.updated_at,
  };
  if (access.role !== 'owner') return view;
  const [grants, offer] = await Promise.all([q.currentEmergencyGrants(db, access.projectId, now.toISOString()), q.findOwnershipOffer(db, access.projectId)]);
  const offeredTo = offer ? (await q.findUsersByIds(db, [Number(offer.to_user_id)]))[0] : undefined;
  return {
    ...view,
    emergencyAccess: grants.map((g) => ({ username: g.username, role: g.role, reason: g.reason, grantedAt: g.created_at, expiresAt: g.expires_at })),
    pendingTransfer: offer ? { toUsername: offeredTo?.username ?? '', offeredAt: offer.created_at } : null,
  };
}

export async function updateProject(
  db: Kysely<Tables>,
  projectId: number,
  patch: { name?: string; description?: string; archived?: boolean },
  source: AuditSource,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await q.findProject(trx, projectId);
    if (before === undefined) throw new AppError('project.not_found');
    await q.updateProject(trx, projectId, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.archived !== undefined ? { archived: patch.archived ? 1 : 0 } : {}),
      updated_at: isoNow(),
    });
    await recordAudit(trx, { ...source, action: 'project.update', projectId, resource: { type: 'project', id: projectId }, details: { changed: patch } });
  });
}

/** Deletion hides the project at once and keeps its rows, so nothing is lost to a slip. */
export async function deleteProject(db: Kysely<Tables>, projectId: number, source: AuditSource): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const now = isoNow();
    await q.updateProject(trx, projectId, { deleted_at: now, updated_at: now });
    await recordAudit(trx, { ...source, action: 'project.delete', projectId, resource: { type: 'project', id: projectId } });
  });
}

function summary(row: { id: number; name: string; description: string; archived: number; created_at: string }): ProjectSummary {
  return { id: Number(row.id), name: row.name, description: row.description, archived: row.archived === 1, createdAt: row.created_at };
}

