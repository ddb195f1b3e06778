/**
 * Accounts as administrators manage them (the `fieldkeep user` commands): create, set a password,
 * promote, demote, disable, enable, list. Also the rules every username, email and new password
 * must meet, shared with self-service changes and import.
 */
import type { Actor } from '../access/actor.js';
import { isoNow } from '../db/columns.js';
import { AppError } from '../server/errors.js';
import { auditAccountEvent, type AccountAction } from './audit-events.js';
import { identityKey } from './credentials.js';
import type { ClientInfo } from './client.js';
import type { AccountsContext } from './context.js';
import { checkPasswordPolicy } from './password-policy.js';
import { hashPassword } from './passwords.js';
import type { ImportProblem, ImportRow } from './import-file.js';
import {
  deleteApiTokensOfUser,
  deletePasswordResetsOfUser,
  deleteSessionsOfUser,
  findUserByEmail,
  findUserByUsername,
  insertUser,
  listUsers as listUserRows,
  takenIdentities,
  updateUser,
  type Executor,
  type UserRow,
} from './queries.js';

/** What crosses the wire or the terminal about a user: never hashes or secrets. */
export interface UserView {
  id: number;
  username: string;
  email: string | null;
  isAdmin: boolean;
  twoFactorEnabled: boolean;
  disabled: boolean;
  createdAt: string;
}

export function presentUser(user: UserRow): UserView {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    isAdmin: user.is_admin === 1,
    twoFactorEnabled: user.totp_secret !== null,
    disabled: user.disabled_at !== null,
    createdAt: user.created_at,
  };
}

/** Django's rule: letters, digits and @ . + - _, at most 150 characters. */
export const USERNAME_PATTERN = /^[\p{L}\p{N}@.+_-]{1,150}$/u;
export const MAX_EMAIL_LENGTH = 254;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Why a username cannot be used, or null. */
export function usernameProblem(username: string): string | null {
  return USERNAME_PATTERN.test(username) ? null : 'a username is 1–150 letters, digits and @ . + - _';
}

export function emailProblem(email: string): string | null {
  return email.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(email) ? null : `"${email.slice(0, 80)}" is not an email address`;
}

/** Throws the first broken password rule as its own error code, with every problem attached. */
export async function assertPasswordAllowed(password: string, identity: { username: string; email: string | null }): Promise<void> {
  const problems = await checkPasswordPolicy(password, { username: identity.username, ...(identity.email ? { email: identity.email } : {}) });
  const first = problems[0];
  if (first !== undefined) {
    throw new AppError(first.code, problems.map((p) => p.message).join(' '), {
      problems: problems.map((p) => ({ code: p.code, message: p.message })),
    });
  }
}

export async function assertIdentityFree(db: Executor, username: string | null, email: string | null, exceptUserId?: number): Promise<void> {
  if (username !== null) {
    const holder = await findUserByUsername(db, identityKey(username));
    if (holder && holder.id !== exceptUserId) throw new AppError('user.username_taken', `The username "${username}" is already in use.`);
  }
  if (email !== null) {
    const holder = await findUserByEmail(db, identityKey(email));
    if (holder && holder.id !== exceptUserId) throw new AppError('user.email_taken', `The email address ${email} is already in use.`);
  }
}

export interface NewUser {
  username: string;
  email: string | null;
  password: string;
  isAdmin: boolean;
}

/** Who is making an administrative change: a signed-in person (and from where), or the command line. */
export type Changer = { actor: Actor; client?: ClientInfo } | { actorLabel: 'cli' };

export async function createUser(accounts: AccountsContext, input: NewUser, by: Changer): Promise<UserView> {
  const problem = usernameProblem(input.username) ?? (input.email !== null ? emailProblem(input.email) : null);
  if (problem !== null) throw new AppError('request.invalid', problem);
  await assertPasswordAllowed(input.password, input);
  const passwordHash = await hashPassword(input.password, { iterations: accounts.config.passwordIterations });
  return accounts.db.transaction().execute(async (trx) => {
    await assertIdentityFree(trx, input.username, input.email);
    const now = isoNow();
    const id = await insertUser(trx, {
      username: input.username,
      username_key: identityKey(input.username),
      email: input.email,
      email_key: input.email === null ? null : identityKey(input.email),
      password_hash: passwordHash,
      is_admin: input.isAdmin ? 1 : 0,
      created_at: now,
      updated_at: now,
    });
    await auditAccountEvent(trx, { action: 'user.created', ...by, userId: id, details: { username: input.username, admin: input.isAdmin } });
    const created = await findUserByUsername(trx, identityKey(input.username));
    if (!created) throw new Error('the new user vanished inside its own transaction');
    return presentUser(created);
  });
}

export async function requireUser(db: Executor, username: string): Promise<UserRow> {
  const user = await findUserByUsername(db, identityKey(username));
  if (!user) throw new AppError('request.invalid', `There is no user named "${username}".`);
  return user;
}

/** Sets a new password (policy-checked) and ends every session and pending reset of the user. */
export async function setPassword(accounts: AccountsContext, username: string, password: string, by: Changer): Promise<void> {
  const user = await requireUser(accounts.db, username);
  await assertPasswordAllowed(password, user);
  const passwordHash = await hashPassword(password, { iterations: accounts.config.passwordIterations });
  await accounts.db.transaction().execute(async (trx) => {
    await updateUser(trx, user.id, { password_hash: passwordHash, updated_at: isoNow() });
    await deleteSessionsOfUser(trx, user.id);
    await deletePasswordResetsOfUser(trx, user.id);
    await auditAccountEvent(trx, { action: 'user.password_changed', ...by, userId: user.id, details: { by: 'administrator' } });
  });
}

export async function setAdmin(accounts: AccountsContext, username: string, isAdmin: boolean, by: Changer): Promise<void> {
  await changeUser(accounts, username, { is_admin: isAdmin ? 1 : 0 }, isAdmin ? 'user.promoted' : 'user.demoted', by);
}

/** Disabling ends the user's sessions and revokes their API tokens in the same transaction. */
export async function setDisabled(accounts: AccountsContext, username: string, disabled: boolean, by: Changer): Promise<void> {
  await changeUser(accounts, username, { disabled_at: disabled ? isoNow() : null }, disabled ? 'user.disabled' : 'user.enabled', by, async (trx, user) => {
    if (!disabled) return;
    await deleteSessionsOfUser(trx, user.id);
    await deleteApiTokensOfUser(trx, user.id);
    await deletePasswordResetsOfUser(trx, user.id);
  });
}

async function changeUser(
  accounts: AccountsContext,
  username: string,
  patch: { is_admin?: number; disabled_at?: string | null },
  action: AccountAction,
  by: Changer,
  alsoDo?: (trx: Executor, user: UserRow) => Promise<void>,
): Promise<void> {
  await accounts.db.transaction().execute(async (trx) => {
    const user = await requireUser(trx, username);
    await updateUser(trx, user.id, { ...patch, updated_at: isoNow() });
    await alsoDo?.(trx, user);
    await auditAccountEvent(trx, { action, ...by, userId: user.id });
  });
}

export async function listUsers(accounts: AccountsContext): Promise<UserView[]> {
  return (await listUserRows(accounts.db)).map(presentUser);
}

/**
 * Imports users with their existing password hashes, all or nothing: every row is checked against
 * the accounts already here before anything is written, and the inserts share one transaction.
 */
export async function importUsers(accounts: AccountsContext, rows: readonly ImportRow[], by: Changer): Promise<{ imported: number } | { problems: ImportProblem[] }> {
  return accounts.db.transaction().execute(async (trx) => {
    const taken = await takenIdentities(
      trx,
      rows.map((row) => identityKey(row.username)),
      rows.flatMap((row) => (row.email === null ? [] : [identityKey(row.email)])),
    );
    const problems: ImportProblem[] = [];
    for (const row of rows) {
      if (taken.usernames.has(identityKey(row.username))) problems.push({ line: row.line, message: `username "${row.username}" already exists here` });
      if (row.email !== null && taken.emails.has(identityKey(row.email))) problems.push({ line: row.line, message: `email ${row.email} already exists here` });
    }
    if (problems.length > 0) return { problems };
    const now = isoNow();
    for (const row of rows) {
      const id = await insertUser(trx, {
        username: row.username,
        username_key: identityKey(row.username),
        email: row.email,
        email_key: row.email === null ? null : identityKey(row.email),
        password_hash: row.hash,
        is_admin: row.isAdmin ? 1 : 0,
        created_at: now,
        updated_at: now,
      });
      await auditAccountEvent(trx, { action: 'user.imported', ...by, userId: id, details: { username: row.username, admin: row.isAdmin } });
    }
    return { imported: rows.length };
  });
}
