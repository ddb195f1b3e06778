import type { FastifyRequest } from 'fastify';
import type { Executor } from '../audit/index.js';
import type { Actor } from './actor.js';
import type { ProjectAccess } from './policy.js';
import { emergencyGrantsOf, findLiveProject, findMembership } from './queries.js';
import type { RowFilter } from './row-filter.js';
import { isProjectRole, type ProjectRole } from './verbs.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authorisation hook on routes that declare a project verb. */
    projectAccess?: ProjectAccess;
  }
}

/**
 * Loads what the policy needs to decide for `actor` in `projectId`, or undefined when the project
 * does not exist (or is deleted). Grants that expired before `now` are not loaded.
 */
export async function loadProjectAccess(db: Executor, actor: Actor, projectId: number, now: Date = new Date()): Promise<ProjectAccess | undefined> {
  const project = await findLiveProject(db, projectId);
  if (project === undefined) return undefined;
  const none: ProjectAccess = { projectId, role: null, rowFilter: null, emergencyGrants: [] };
  if (actor.kind !== 'user') return none;
  if (actor.userId === project.ownerId) return { ...none, role: 'owner' };
  const [membership, grants] = await Promise.all([
    findMembership(db, projectId, actor.userId),
    emergencyGrantsOf(db, projectId, actor.userId, now.toISOString()),
  ]);
  return {
    projectId,
    role: membership ? storedRole(membership.role) : null,
    rowFilter: membership?.row_filter ? (JSON.parse(membership.row_filter) as RowFilter) : null,
    emergencyGrants: grants.map((g) => ({ id: Number(g.id), role: storedRole(g.role), reason: g.reason, expiresAt: g.expires_at })),
  };
}

/** The access the authorisation hook loaded for this request's project. */
export function projectAccessOf(request: FastifyRequest): ProjectAccess {
  if (request.projectAccess === undefined) throw new Error(`${request.method} ${request.url} declares no project verb`);
  return request.projectAccess;
}

function storedRole(role: string): ProjectRole {
  if (!isProjectRole(role)) throw new Error(`unknown role ${JSON.stringify(role)} in the database`);
  return role;
}
