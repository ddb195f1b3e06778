import type { FastifyRequest } from 'fastify';
import { auditSource, recordAudit } from '../audit/index.js';
import { AppError } from '../server/errors.js';
import type { AppContext } from '../server/context.js';
import { decide } from './policy.js';
import { loadProjectAccess } from './project-access.js';
import { isProjectVerb, type ProjectVerb } from './verbs.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one authorisation check, run before every handler (and before the body is validated, so a
 * caller without the right learns nothing about what the endpoint accepts): it compares the
 * route's declared permission with the request's actor. Authentication (who the actor is)
 * happens earlier. For a project verb it resolves the project from the `:projectId` parameter,
 * asks the policy, and leaves the loaded access on the request for the handler.
 */
export async function authorize(request: FastifyRequest, ctx: AppContext): Promise<void> {
  const permission = request.routeOptions.config.permission;
  if (permission === undefined || permission === 'public') return;
  const actor = request.actor;
  if (actor.kind === 'anonymous') throw new AppError('auth.required');
  if (actor.kind === 'user' && actor.scope === 'read' && !SAFE_METHODS.has(request.method)) throw new AppError('auth.token_read_only');
  if (permission === 'authenticated') {
    if (actor.kind !== 'user') throw new AppError('access.denied', 'Sign in as a person to do this.');
    return;
  }
  if (permission === 'admin') {
    if (actor.kind !== 'user' || !actor.isAdmin) throw new AppError('access.denied', 'Only instance administrators may do this.');
    return;
  }
  if (isProjectVerb(permission)) await authorizeProjectVerb(request, ctx, permission);
}

async function authorizeProjectVerb(request: FastifyRequest, ctx: AppContext, verb: ProjectVerb): Promise<void> {
  const projectId = projectIdParam(request);
  const access = projectId === undefined ? undefined : await loadProjectAccess(ctx.database.db, request.actor, projectId);
  if (access === undefined) throw new AppError('project.not_found');
  const decision = decide(request.actor, verb, access);
  if (decision.allowed) {
    request.projectAccess = access;
    return;
  }
  if (decision.refusal === 'access.admin_without_grant') {
    // The refusal is itself a record: an administrator reached for a project's data.
    await recordAudit(ctx.database.db, {
      ...auditSource(request),
      action: 'access.admin_refused',
      projectId: access.projectId,
      resource: { type: 'project', id: access.projectId },
      details: { verb, method: request.method, route: request.routeOptions.url ?? null },
    });
  }
  throw new AppError(decision.refusal);
}

function projectIdParam(request: FastifyRequest): number | undefined {
  const raw = (request.params as Record<string, unknown> | undefined)?.projectId;
  if (raw === undefined) throw new Error(`route ${request.routeOptions.url} declares a project verb but has no :projectId`);
  const text = String(raw);
  return /^[1-9]\d{0,14}$/.test(text) ? Number(text) : undefined;
}
