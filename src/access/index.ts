/**
 * Public API of access control: who the actor is, the verbs and roles, the one policy function,
 * row filters for submission queries, and the authorisation hook every route passes through.
 */
export { actorIdOf, actorLabelOf, anonymous } from './actor.js';
export type { Actor } from './actor.js';
export { assignableRoles, isProjectRole, isProjectVerb, projectRoles, projectVerbs, publicLinkVerbs, roleVerbs } from './verbs.js';
export type { ProjectRole, ProjectVerb } from './verbs.js';
export { can, currentRoles, decide, submissionRowFilter } from './policy.js';
export type { Decision, EmergencyGrant, ProjectAccess, Refusal } from './policy.js';
export { RowFilterSchema, rowFilterCondition, rowPassesFilter } from './row-filter.js';
export type { FilterColumns, FilterableRow, RowFilter } from './row-filter.js';
export { loadProjectAccess, projectAccessOf } from './project-access.js';
export { routePermissions } from './permissions.js';
export type { RoutePermission } from './permissions.js';
export { authorize } from './authorize.js';
