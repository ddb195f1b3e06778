/**
 * What a route requires of its caller. Every route declares one (the server refuses to start
 * otherwise); routes only ever name a permission, never a role.
 *
 * - `public`: anyone, no identity needed.
 * - `authenticated`: any signed-in person (session, API token or Basic).
 * - `admin`: an instance administrator: accounts and server settings, never project data.
 *
 * Project verbs (`submission.read`, `form.update`, …) mapped to roles join this list with the
 * access issue, checked through one policy function.
 */
export const routePermissions = ['public', 'authenticated', 'admin'] as const;

export type RoutePermission = (typeof routePermissions)[number];
