import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/index.js';
import type { ProjectRole } from '../access/verbs.js';
import type { Tables } from '../db/tables.js';
import { AppError } from '../server/errors.js';
import * as q from './queries.js';
import { activeUser } from './sharing.js';

export const MAX_EMERGENCY_HOURS = 168;

export interface EmergencyGrantRequest {
  projectId: number;
  username: string;
  role: ProjectRole;
  reason: string;
  hours: number;
}

export interface EmergencyGrantOutcome {
  grantId: number;
  expiresAt: string;
  /** Who must be told: the project's owner. */
  owner: { username: string; email: string | null };
}

/**
 * Emergency access: a time-limited role in a project, given only from the command line (so only
 * someone with shell access to the server can give it), always with a reason. It is written to the
 * audit log in the same transaction, shown to the project's owner on the project until it expires,
 * and the caller tells the owner. The clock is a parameter so expiry can be tested.
 */
export async function grantEmergencyAccess(db: Kysely<Tables>, request: EmergencyGrantRequest, now: Date = new Date()): Promise<EmergencyGrantOutcome> {
  const reason = request.reason.trim();
  if (reason.length === 0 || reason.length > 1000) throw new AppError('access.emergency_invalid', 'Give a reason of 1 to 1000 characters.');
  if (!Number.isInteger(request.hours) || request.hours < 1 || request.hours > MAX_EMERGENCY_HOURS) {
    throw new AppError('access.emergency_invalid', `Give --hours as a whole number from 1 to ${MAX_EMERGENCY_HOURS}.`);
  }
  return db.transaction().execute(async (trx) => {
    const project = await q.findProject(trx, request.projectId);
    if (project === undefined) throw new AppError('project.not_found');
    const user = await activeUser(trx, request.username);
    const expiresAt = new Date(now.getTime() + request.hours * 3_600_000).toISOString();
    const grantId = await q.insertEmergencyGrant(trx, {
      project_id: request.projectId,
      user_id: user.id,
      role: request.role,
      reason,
      created_at: now.toISOString(),
      expires_at: expiresAt,
    });
    await recordAudit(trx, {
      actorLabel: 'command line',
      action: 'access.emergency_grant',
      projectId: request.projectId,
      resource: { type: 'user', id: user.id },
      details: { username: user.username, role: request.role, reason, hours: request.hours, expiresAt },
    });
    const [owner] = await q.findUsersByIds(trx, [Number(project.owner_id)]);
    return { grantId, expiresAt, owner: { username: owner?.username ?? '', email: owner?.email ?? null } };
  });
}
