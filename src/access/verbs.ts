/**
 * Project verbs and roles. A verb names one thing a person may do in a project; a role is a named
 * set of verbs. Routes declare a verb, never a role, and the one policy function (`policy.ts`)
 * decides; so adding a role, or moving a verb between roles, changes no route.
 */
export const projectVerbs = [
  'project.read',
  'project.update',
  'project.share',
  'project.transfer',
  'project.delete',
  'member.read',
  'form.read',
  'form.create',
  'form.update',
  'form.delete',
  'submission.create',
  'submission.read',
  'submission.update',
  'submission.review',
  'submission.delete',
  'export.create',
  'audit.read',
] as const;

export type ProjectVerb = (typeof projectVerbs)[number];

export const projectRoles = ['owner', 'manager', 'editor', 'viewer', 'reviewer', 'collector'] as const;

export type ProjectRole = (typeof projectRoles)[number];

const collectorVerbs = ['project.read', 'form.read', 'submission.create'] as const satisfies readonly ProjectVerb[];
const viewerVerbs = ['project.read', 'form.read', 'submission.read', 'export.create'] as const satisfies readonly ProjectVerb[];
const reviewerVerbs = [...viewerVerbs, 'submission.review'] as const satisfies readonly ProjectVerb[];
const editorVerbs = [...reviewerVerbs, 'submission.create', 'submission.update'] as const satisfies readonly ProjectVerb[];
const managerVerbs = [
  ...editorVerbs,
  'project.update',
  'project.share',
  'member.read',
  'form.create',
  'form.update',
  'form.delete',
  'submission.delete',
  'audit.read',
] as const satisfies readonly ProjectVerb[];

/**
 * - owner: everything, including deleting the project and handing it to someone else.
 * - manager: forms, settings, sharing (except ownership), all data, the project's audit log.
 * - editor: view, add, edit and review submissions; export.
 * - reviewer: view submissions and set their review status; export.
 * - viewer: view submissions and export them.
 * - collector: see the project's forms and submit to them; nothing else.
 */
export const roleVerbs: Readonly<Record<ProjectRole, ReadonlySet<ProjectVerb>>> = {
  owner: new Set(projectVerbs),
  manager: new Set(managerVerbs),
  editor: new Set(editorVerbs),
  reviewer: new Set(reviewerVerbs),
  viewer: new Set(viewerVerbs),
  collector: new Set(collectorVerbs),
};

/**
 * What a public link may do: fetch its form and submit to it. Unlike a collector it has no
 * `project.read`, since whoever holds the link is anonymous; and which form it sees is narrowed
 * by `ProjectAccess.onlyForm`, not here.
 */
export const publicLinkVerbs: ReadonlySet<ProjectVerb> = new Set(['form.read', 'submission.create'] as const satisfies readonly ProjectVerb[]);

/** Roles that may be given through the sharing API; ownership changes only by transfer. */
export const assignableRoles = ['manager', 'editor', 'viewer', 'reviewer', 'collector'] as const satisfies readonly Exclude<ProjectRole, 'owner'>[];

export function isProjectVerb(value: string): value is ProjectVerb {
  return (projectVerbs as readonly string[]).includes(value);
}

export function isProjectRole(value: string): value is ProjectRole {
  return (projectRoles as readonly string[]).includes(value);
}
