import type { FastifyRequest } from 'fastify';
import { AppError } from '../server/errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one authorisation check, run before every handler: it compares the route's declared
 * permission with the request's actor. Authentication (who the actor is) happens earlier.
 */
export async function authorize(request: FastifyRequest): Promise<void> {
  const permission = request.routeOptions.config.permission;
  if (permission === undefined || permission === 'public') return;
  const actor = request.actor;
  if (actor.kind !== 'user') throw new AppError('auth.required');
  if (actor.scope === 'read' && !SAFE_METHODS.has(request.method)) throw new AppError('auth.token_read_only');
  if (permission === 'admin' && !actor.isAdmin) throw new AppError('access.denied', 'Only instance administrators may do this.');
}
