/**
 * Signing in and out, a person's sessions, and their own account (`/api/v1/users/me`).
 * Changes that could lock the owner out or hand the account to someone else — email, password,
 * deletion, two-factor — need the current password again (and the second factor when it is on).
 */
import type { Actor } from '../access/actor.js';
import { isoNow } from '../db/columns.js';
import { AppError } from '../server/errors.js';
import { auditAccountEvent } from './audit-events.js';
import type { ClientInfo } from './client.js';
import type { AccountsContext } from './context.js';
import { checkSecondFactor, identityKey, verifyCredentials, type SecondFactor } from './credentials.js';
import { hashPassword } from './passwords.js';
import {
  countOwnedProjects,
  deletePasswordResetsOfUser,
  deleteSession,
  deleteSessionsOfUser,
  deleteUser,
  findEnabledUser,
  listSessions as listSessionRows,
  updateUser,
  type UserRow,
} from './queries.js';
import { openSession, type NewSession } from './sessions.js';
import { attemptNotCounted, attemptSucceeded } from './throttle-store.js';
import { assertIdentityFree, assertPasswordAllowed, emailProblem, presentUser, type UserView } from './users.js';

export type UserActor = Extract<Actor, { kind: 'user' }>;

export interface SignInInput {
  username: string;
  password: string;
  totp?: string;
}

export interface SignedIn {
  session: NewSession;
  user: UserView;
}

export async function signIn(accounts: AccountsContext, input: SignInInput, client: ClientInfo): Promise<SignedIn> {
  const { user, keys } = await verifyCredentials(accounts, input.username, input.password, client, 'sign-in');
  let secondFactor: SecondFactor | null = null;
  if (user.totp_secret !== null) {
    if (input.totp === undefined || input.totp === '') {
      await attemptNotCounted(accounts.db, keys);
      throw new AppError('auth.totp_required');
    }
    secondFactor = await checkSecondFactor(accounts, accounts.db, user, input.totp);
    if (secondFactor === null) {
      await auditAccountEvent(accounts.db, { action: 'user.login_failed', actorLabel: input.username, userId: user.id, client, details: { purpose: 'sign-in', reason: 'wrong second factor' } });
      throw new AppError('auth.totp_invalid');
    }
  }
  return accounts.db.transaction().execute(async (trx) => {
    await attemptSucceeded(trx, keys);
    const session = await openSession(accounts, trx, user.id, client);
    const actor = actorOf(user);
    await auditAccountEvent(trx, { action: 'user.login', actor, userId: user.id, client, details: { method: 'session', secondFactor } });
    if (secondFactor === 'recovery_code') await auditAccountEvent(trx, { action: 'user.recovery_code_used', actor, userId: user.id, client });
    return { session, user: presentUser(user) };
  });
}

function actorOf(user: UserRow): UserActor {
  return { kind: 'user', userId: user.id, username: user.username, isAdmin: user.is_admin === 1, credential: 'session', scope: 'write' };
}

export async function signOut(accounts: AccountsContext, actor: UserActor, sessionId: number, client: ClientInfo): Promise<void> {
  await accounts.db.transaction().execute(async (trx) => {
    await deleteSession(trx, actor.userId, sessionId);
    await auditAccountEvent(trx, { action: 'user.logout', actor, userId: actor.userId, client });
  });
}

export interface SessionView {
  id: number;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  address: string | null;
  userAgent: string | null;
  current: boolean;
}

export async function listSessions(accounts: AccountsContext, actor: UserActor, currentId: number | undefined): Promise<SessionView[]> {
  const rows = await listSessionRows(accounts.db, actor.userId);
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    address: row.address,
    userAgent: row.user_agent,
    current: row.id === currentId,
  }));
}

export async function endSession(accounts: AccountsContext, actor: UserActor, sessionId: number, client: ClientInfo): Promise<void> {
  await accounts.db.transaction().execute(async (trx) => {
    if (!(await deleteSession(trx, actor.userId, sessionId))) throw new AppError('session.not_found');
    await auditAccountEvent(trx, { action: 'user.sessions_ended', actor, userId: actor.userId, client, details: { sessions: [sessionId] } });
  });
}

/** Ends all of the person's sessions, this one included; returns how many ended. */
export async function endAllSessions(accounts: AccountsContext, actor: UserActor, client: ClientInfo): Promise<number> {
  return accounts.db.transaction().execute(async (trx) => {
    const ended = await deleteSessionsOfUser(trx, actor.userId);
    await auditAccountEvent(trx, { action: 'user.sessions_ended', actor, userId: actor.userId, client, details: { count: ended } });
    return ended;
  });
}

export async function loadActiveUser(accounts: AccountsContext, actor: UserActor): Promise<UserRow> {
  const user = await findEnabledUser(accounts.db, actor.userId);
  if (!user) throw new AppError('auth.required');
  return user;
}

export async function getMe(accounts: AccountsContext, actor: UserActor): Promise<UserView> {
  return presentUser(await loadActiveUser(accounts, actor));
}

export interface Reauthentication {
  currentPassword?: string | undefined;
  /** A TOTP code or a recovery code; required when two-factor is on. */
  totp?: string | undefined;
}

/**
 * Confirms that the person at the keyboard is the account's owner: the current password under the
 * same throttle as sign-in, then the second factor when it is on.
 */
export async function reauthenticate(accounts: AccountsContext, user: UserRow, proof: Reauthentication, client: ClientInfo): Promise<void> {
  if (proof.currentPassword === undefined || proof.currentPassword === '') {
    throw new AppError('auth.reauthentication_failed', 'Give your current password as currentPassword to make this change.');
  }
  const { keys } = await verifyCredentials(accounts, user.username, proof.currentPassword, client, 'reauthentication');
  if (user.totp_secret !== null) {
    const used = proof.totp ? await checkSecondFactor(accounts, accounts.db, user, proof.totp) : null;
    if (used === null) {
      await auditAccountEvent(accounts.db, { action: 'user.login_failed', actorLabel: user.username, userId: user.id, client, details: { purpose: 'reauthentication', reason: 'wrong second factor' } });
      throw new AppError('auth.reauthentication_failed', 'Give a current code from your authenticator app (or a recovery code) as totp.');
    }
  }
  await attemptSucceeded(accounts.db, keys);
}

export interface MeChanges extends Reauthentication {
  email?: string | null | undefined;
  newPassword?: string | undefined;
}

/**
 * Changes the person's email and/or password after re-authentication. A new password ends every
 * other session (the one making the change stays) and any pending reset link.
 */
export async function updateMe(accounts: AccountsContext, actor: UserActor, changes: MeChanges, client: ClientInfo, currentSessionId: number | undefined): Promise<UserView> {
  const user = await loadActiveUser(accounts, actor);
  const email = changes.email === undefined ? undefined : changes.email === null || changes.email === '' ? null : changes.email;
  if (email !== undefined && email !== null) {
    const problem = emailProblem(email);
    if (problem !== null) throw new AppError('request.invalid', problem);
  }
  if (changes.newPassword !== undefined) await assertPasswordAllowed(changes.newPassword, { username: user.username, email: email === undefined ? user.email : email });
  if (email === undefined && changes.newPassword === undefined) return presentUser(user);
  await reauthenticate(accounts, user, changes, client);
  const passwordHash = changes.newPassword === undefined ? undefined : await hashPassword(changes.newPassword, { iterations: accounts.config.passwordIterations });
  await accounts.db.transaction().execute(async (trx) => {
    const now = isoNow();
    if (email !== undefined) {
      await assertIdentityFree(trx, null, email, user.id);
      await updateUser(trx, user.id, { email, email_key: email === null ? null : identityKey(email), updated_at: now });
      await auditAccountEvent(trx, { action: 'user.updated', actor, userId: user.id, client, details: { changed: ['email'] } });
    }
    if (passwordHash !== undefined) {
      await updateUser(trx, user.id, { password_hash: passwordHash, updated_at: now });
      const ended = await deleteSessionsOfUser(trx, user.id, currentSessionId);
      await deletePasswordResetsOfUser(trx, user.id);
      await auditAccountEvent(trx, { action: 'user.password_changed', actor, userId: user.id, client, details: { by: 'self', otherSessionsEnded: ended } });
    }
  });
  return getMe(accounts, actor);
}

/** Deletes the person's own account after re-authentication, unless they still own projects. */
export async function deleteMe(accounts: AccountsContext, actor: UserActor, proof: Reauthentication, client: ClientInfo): Promise<void> {
  const user = await loadActiveUser(accounts, actor);
  await reauthenticate(accounts, user, proof, client);
  await accounts.db.transaction().execute(async (trx) => {
    const owned = await countOwnedProjects(trx, user.id);
    if (owned > 0) throw new AppError('user.owns_projects', `This account owns ${owned} project${owned === 1 ? '' : 's'}; transfer ${owned === 1 ? 'it' : 'them'} to someone else first.`);
    await deleteUser(trx, user.id);
    await auditAccountEvent(trx, { action: 'user.deleted', actor, userId: user.id, client, details: { username: user.username } });
  });
}
