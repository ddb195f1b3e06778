import type { FastifyRequest } from 'fastify';
import type { Executor } from '../audit/index.js';
import type { Actor } from './actor.js';
import type { ProjectAccess } from './policy.js';
import { findLiveProject, personAccessRows } from './queries.js';
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
  const none: ProjectAccess = { projectId, role: null, rowFilter: null, emergencyGrants: [], onlyForm: null };
  if (actor.kind !== 'user') {
    if ((await findLiveProject(db, projectId)) === undefined) return undefined;
    return actor.kind === 'public_link' ? { ...none, onlyForm: actor.xmlFormId } : none;
  }
  const rows = await personAccessRows(db, projectId, actor.userId, now.toISOString());
  const first = rows[0];
  if (first === undefined) return undefined;
  if (actor.userId === Number(first.owner_id)) return { ...none, role: 'owner' };
  return {
    projectId,
    role: first.member_role ? storedRole(first.member_role) : null,
    rowFilter: first.row_filter ? (JSON.parse(first.row_filter) as RowFilter) : null,
    emergencyGrants: rows.flatMap((g) =>
      g.grant_id === null ? [] : [{ id: Number(g.grant_id), role: storedRole(g.grant_role!), reason: g.grant_reason!, expiresAt: g.grant_expires_at! }],
    ),
    onlyForm: null,
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
