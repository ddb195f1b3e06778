import type { Actor } from './actor.js';
import type { RowFilter } from './row-filter.js';
import { publicLinkVerbs, roleVerbs, type ProjectRole, type ProjectVerb } from './verbs.js';

/** A time-limited role given from the command line (`fieldkeep access grant-emergency`). */
export interface EmergencyGrant {
  id: number;
  role: ProjectRole;
  reason: string;
  expiresAt: string;
}

/** Everything the policy needs to know about one actor in one project, loaded once per request. */
export interface ProjectAccess {
  projectId: number;
  /** The actor's standing role: `owner` for the project's owner, else their membership, else none. */
  role: ProjectRole | null;
  /** The member's row filter; emergency roles carry none. */
  rowFilter: RowFilter | null;
  /** The actor's emergency grants, current or not; the policy compares them with the clock. */
  emergencyGrants: readonly EmergencyGrant[];
  /**
   * The one form (its xmlFormId) the actor may see, or null for all of the project's forms. Set
   * for a public link. Form queries apply it, as submission queries apply `rowFilter`, so every
   * path to a form (the form list, a form by id, the form a submission names) is narrowed in
   * the one place forms are fetched; another form is simply not found.
   */
  onlyForm: string | null;
}

export type Refusal = 'auth.required' | 'access.denied' | 'access.admin_without_grant' | 'project.not_found';

export type Decision = { allowed: true } | { allowed: false; refusal: Refusal };

/** The roles an actor holds in a project right now: the standing one and unexpired emergency ones. */
export function currentRoles(access: ProjectAccess, now: Date): ProjectRole[] {
  const instant = now.toISOString();
  const roles = access.emergencyGrants.filter((g) => g.expiresAt > instant).map((g) => g.role);
  return access.role === null ? roles : [access.role, ...roles];
}

/**
 * The one policy function: may `actor` do `verb` in this project now? Routes never ask anything
 * else. An instance administrator is an ordinary person here: without a role they are refused, and
 * the refusal says why (`access.admin_without_grant`) so it can be audited and explained. Someone
 * with no role at all is told the project does not exist, so ids cannot be probed.
 */
export function decide(actor: Actor, verb: ProjectVerb, access: ProjectAccess, now: Date = new Date()): Decision {
  switch (actor.kind) {
    case 'anonymous':
      return { allowed: false, refusal: 'auth.required' };
    case 'device':
      // A device token is a collector for the one project it was made for.
      if (actor.projectId === access.projectId && roleVerbs.collector.has(verb)) return { allowed: true };
      return { allowed: false, refusal: 'access.denied' };
    case 'public_link':
      if (actor.projectId === access.projectId && access.onlyForm === actor.xmlFormId && publicLinkVerbs.has(verb)) return { allowed: true };
      return { allowed: false, refusal: 'access.denied' };
    case 'user': {
      const roles = currentRoles(access, now);
      if (roles.some((role) => roleVerbs[role].has(verb))) return { allowed: true };
      if (roles.length > 0) return { allowed: false, refusal: 'access.denied' };
      return { allowed: false, refusal: actor.isAdmin ? 'access.admin_without_grant' : 'project.not_found' };
    }
  }
}

/** `decide` as a yes or no, for services that branch on a permission. */
export function can(actor: Actor, verb: ProjectVerb, resource: { project: ProjectAccess }, now: Date = new Date()): boolean {
  return decide(actor, verb, resource.project, now).allowed;
}

/**
 * The row filter submission queries must apply for this actor (null: every row). A current
 * emergency role lifts the member's filter: it was granted to see the project's data.
 */
export function submissionRowFilter(actor: Actor, access: ProjectAccess, now: Date = new Date()): RowFilter | null {
  if (actor.kind !== 'user') return null;
  const instant = now.toISOString();
  if (access.emergencyGrants.some((g) => g.expiresAt > instant)) return null;
  return access.rowFilter;
}
