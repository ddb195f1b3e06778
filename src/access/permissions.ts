/**
 * What a route requires of its caller. Every route declares one (checked when the server starts);
 * `public` routes need no identity at all. The roles → verbs mapping grows here with the access
 * issue; routes only ever name a permission, never a role.
 */
export const routePermissions = ['public'] as const;

export type RoutePermission = (typeof routePermissions)[number];
