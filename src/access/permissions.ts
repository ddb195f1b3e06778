import { projectVerbs, type ProjectVerb } from './verbs.js';

/**
 * What a route requires of its caller. Every route declares one (the server refuses to start
 * otherwise); routes only ever name a permission, never a role.
 *
 * - `public`: anyone, no identity needed.
 * - `authenticated`: any signed-in person (session, API token or Basic).
 * - `admin`: an instance administrator: accounts and server settings, never project data.
 * - a project verb (`submission.read`, `form.update`, …): the route's path has a `:projectId`
 *   parameter, and the one policy function decides from the caller's role in that project.
 */
export const routePermissions = ['public', 'authenticated', 'admin', ...projectVerbs] as const;

export type RoutePermission = 'public' | 'authenticated' | 'admin' | ProjectVerb;
