/**
 * The one way the accounts module writes to the audit log. Every sign-in attempt (success,
 * failure, throttled, lock), every change to an account or its credentials, and every token
 * issued or revoked passes through here, with the time (UTC, added by the log), address and user
 * agent. Secrets never do: the audit log refuses details keys that name one.
 */
import type { Actor } from '../access/actor.js';
import { recordAudit } from '../audit/index.js';
import type { ClientInfo } from './client.js';
import type { Executor } from './queries.js';

export type AccountAction =
  | 'user.login'
  | 'user.login_failed'
  | 'user.login_throttled'
  | 'user.locked'
  | 'user.address_locked'
  | 'user.logout'
  | 'user.sessions_ended'
  | 'user.created'
  | 'user.imported'
  | 'user.updated'
  | 'user.password_changed'
  | 'user.password_reset_requested'
  | 'user.password_reset'
  | 'user.password_link_created'
  | 'user.two_factor_enrolment_started'
  | 'user.two_factor_enabled'
  | 'user.two_factor_disabled'
  | 'user.recovery_codes_replaced'
  | 'user.recovery_code_used'
  | 'user.promoted'
  | 'user.demoted'
  | 'user.disabled'
  | 'user.enabled'
  | 'user.deleted'
  | 'token.created'
  | 'token.revoked';

export interface AccountEvent {
  action: AccountAction;
  /** Who acted; absent for the command line and for anonymous attempts. */
  actor?: Actor;
  /** Shown instead of the actor: the name typed in a failed sign-in, or `cli`. */
  actorLabel?: string;
  /** The account the event is about. */
  userId?: number;
  details?: Record<string, unknown>;
  client?: ClientInfo;
}

const MAX_LABEL = 150;

export async function auditAccountEvent(executor: Executor, event: AccountEvent): Promise<void> {
  await recordAudit(executor, {
    action: event.action,
    ...(event.actor ? { actor: event.actor } : {}),
    ...(event.actorLabel !== undefined ? { actorLabel: event.actorLabel.slice(0, MAX_LABEL) } : {}),
    ...(event.userId !== undefined ? { resource: { type: 'user', id: event.userId } } : {}),
    ...(event.details ? { details: event.details } : {}),
    ...(event.client ? { address: event.client.address, ...(event.client.userAgent ? { userAgent: event.client.userAgent } : {}) } : {}),
  });
}
