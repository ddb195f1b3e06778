/**
 * Public API of projects: creating and reading projects, sharing them (members, row filters,
 * ownership transfer), emergency access, their routes and their commands.
 */
export { createProject, deleteProject, getProject, listProjectsFor, updateProject } from './service.js';
export type { AuditSource, ProjectSummary, ProjectView } from './service.js';
export { acceptOwnership, activeUser, addMember, cancelOwnershipOffer, changeMember, listMembers, offerOwnership, removeMember } from './sharing.js';
export type { AssignableRole, MemberView } from './sharing.js';
export { MAX_EMERGENCY_HOURS, grantEmergencyAccess } from './emergency.js';
export type { EmergencyGrantOutcome, EmergencyGrantRequest } from './emergency.js';
export { projectRoutes } from './routes.js';
export { accessCommand, projectCommand } from './commands.js';
