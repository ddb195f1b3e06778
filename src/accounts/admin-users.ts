/**
 * Accounts as instance administrators manage them in the browser: list, create, disable and
 * enable, promote and demote, and a link for the person to set their own password. The
 * administrator never chooses or sees a password: a new account starts with a random one nobody
 * knows, and the link (the password reset link, valid for three days) is what they hand over.
 * An administrator cannot disable or demote themselves, so an instance always keeps the one
 * who is acting.
 */
import { randomBytes } from 'node:crypto';
import type { Actor } from '../access/actor.js';
import { AppError } from '../server/errors.js';
import { auditAccountEvent } from './audit-events.js';
import type { ClientInfo } from './client.js';
import type { AccountsContext } from './context.js';
import { deletePasswordResetsOfUser, findUserById, insertPasswordReset, type UserRow } from './queries.js';
import { generateToken, hashToken } from './tokens.js';
import { createUser, presentUser, setAdmin, setDisabled, type UserView } from './users.js';

/** Long enough to reach someone over a weekend; the emailed self-service link stays at one hour. */
export const ADMIN_LINK_LIFETIME_MS = 3 * 86_400_000;

export interface AdminChanger {
  actor: Extract<Actor, { kind: 'user' }>;
  client: ClientInfo;
}

export interface PasswordLink {
  url: string;
  expiresAt: string;
}

async function accountById(accounts: AccountsContext, userId: number): Promise<UserRow> {
  const user = await findUserById(accounts.db, userId);
  if (!user) throw new AppError('user.not_found', `There is no account with id ${userId}.`);
  return user;
}

/** A new password link for the account, replacing any earlier one; the token is never stored or logged. */
export async function createPasswordLink(accounts: AccountsContext, userId: number, by: AdminChanger): Promise<PasswordLink> {
  const user = await accountById(accounts, userId);
  if (user.disabled_at !== null) throw new AppError('user.disabled', `${user.username} is disabled; enable the account before giving it a password link.`);
  const token = generateToken('opaque');
  const now = Date.now();
  const expiresAt = new Date(now + ADMIN_LINK_LIFETIME_MS).toISOString();
  await accounts.db.transaction().execute(async (trx) => {
    await deletePasswordResetsOfUser(trx, user.id);
    await insertPasswordReset(trx, user.id, hashToken(token), new Date(now).toISOString(), expiresAt);
    await auditAccountEvent(trx, { action: 'user.password_link_created', ...by, userId: user.id, details: { expiresAt } });
  });
  return { url: `${accounts.config.publicUrl}/reset-password#token=${token}`, expiresAt };
}

export interface AdminNewUser {
  username: string;
  email?: string | null | undefined;
  isAdmin?: boolean | undefined;
}

export async function createAccount(accounts: AccountsContext, input: AdminNewUser, by: AdminChanger): Promise<{ user: UserView; passwordLink: PasswordLink }> {
  const email = input.email === undefined || input.email === null || input.email.trim() === '' ? null : input.email.trim();
  // Unguessable and never shown: the account is usable only once its owner sets a password.
  const password = randomBytes(32).toString('base64url');
  const user = await createUser(accounts, { username: input.username.trim(), email, password, isAdmin: input.isAdmin ?? false }, by);
  return { user, passwordLink: await createPasswordLink(accounts, user.id, by) };
}

export interface AccountChanges {
  disabled?: boolean | undefined;
  isAdmin?: boolean | undefined;
}

export async function changeAccount(accounts: AccountsContext, userId: number, changes: AccountChanges, by: AdminChanger): Promise<UserView> {
  const user = await accountById(accounts, userId);
  if (user.id === by.actor.userId && (changes.disabled === true || changes.isAdmin === false)) throw new AppError('user.self_change');
  if (changes.disabled !== undefined && changes.disabled !== (user.disabled_at !== null)) await setDisabled(accounts, user.username, changes.disabled, by);
  if (changes.isAdmin !== undefined && changes.isAdmin !== (user.is_admin === 1)) await setAdmin(accounts, user.username, changes.isAdmin, by);
  return presentUser(await accountById(accounts, userId));
}
