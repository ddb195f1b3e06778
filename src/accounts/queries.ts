/**
 * Every SQL statement of the accounts module, built with Kysely (so every value is a bound
 * parameter). Each function takes the handle to run on: the database, or the caller's transaction.
 * Secrets arrive here only as hashes.
 */
import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { ApiTokensTable, SessionsTable, Tables, UsersTable } from '../db/tables.js';

/** The database or an open transaction (a Transaction is a Kysely). */
export type Executor = Kysely<Tables>;

export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;

/* ---------------------------------------------------------------- users */

/** The user whose username or email is `key` (lower-cased); a username match wins. */
export async function findUserForSignIn(db: Executor, key: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb('username_key', '=', key), eb('email_key', '=', key)]))
    .orderBy(sql`case when username_key = ${key} then 0 else 1 end`)
    .limit(1)
    .executeTakeFirst();
}

export async function findUserById(db: Executor, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The user, unless disabled: every credential check goes through this, so disabling is immediate. */
export async function findEnabledUser(db: Executor, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
}

export async function findUserByUsername(db: Executor, usernameKey: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('username_key', '=', usernameKey).executeTakeFirst();
}

export async function findUserByEmail(db: Executor, emailKey: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
}

/** Which of these usernames and emails are taken already (for import). */
export async function takenIdentities(db: Executor, usernameKeys: string[], emailKeys: string[]): Promise<{ usernames: Set<string>; emails: Set<string> }> {
  const usernames = new Set<string>();
  const emails = new Set<string>();
  const chunk = 500;
  for (let i = 0; i < usernameKeys.length; i += chunk) {
    const rows = await db.selectFrom('users').select('username_key').where('username_key', 'in', usernameKeys.slice(i, i + chunk)).execute();
    for (const row of rows) usernames.add(row.username_key);
  }
  for (let i = 0; i < emailKeys.length; i += chunk) {
    const rows = await db.selectFrom('users').select('email_key').where('email_key', 'in', emailKeys.slice(i, i + chunk)).execute();
    for (const row of rows) if (row.email_key !== null) emails.add(row.email_key);
  }
  return { usernames, emails };
}

export async function insertUser(db: Executor, row: Insertable<UsersTable>): Promise<number> {
  const inserted = await db.insertInto('users').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(inserted.id);
}

export async function updateUser(db: Executor, id: number, patch: Updateable<UsersTable>): Promise<void> {
  await db.updateTable('users').set(patch).where('id', '=', id).execute();
}

export async function deleteUser(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', id).execute();
}

export async function listUsers(db: Executor): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('username_key').execute();
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Records that the TOTP code of `step` was used, unless that step or a later one already was:
 * the conditional update is what makes each code single-use under concurrency.
 */
export async function claimTotpStep(db: Executor, userId: number, step: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/* ---------------------------------------------------------------- recovery codes */

export async function replaceRecoveryCodes(db: Executor, userId: number, hashes: string[], now: string): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (hashes.length === 0) return;
  await db
    .insertInto('recovery_codes')
    .values(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_at: now })))
    .execute();
}

export async function listRecoveryCodes(db: Executor, userId: number): Promise<Array<{ id: number; code_hash: string }>> {
  return db.selectFrom('recovery_codes').select(['id', 'code_hash']).where('user_id', '=', userId).orderBy('id').execute();
}

/** Deletes one recovery code; false if another request used it first. */
export async function consumeRecoveryCode(db: Executor, userId: number, id: number): Promise<boolean> {
  const result = await db.deleteFrom('recovery_codes').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function countRecoveryCodes(db: Executor, userId: number): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/* ---------------------------------------------------------------- sessions */

export async function insertSession(db: Executor, row: Insertable<SessionsTable>): Promise<number> {
  const inserted = await db.insertInto('sessions').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(inserted.id);
}

/** A session by its token hash, with its user, if the user is not disabled. */
export async function findActiveSession(db: Executor, tokenHash: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
  const session = await db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  if (!session) return undefined;
  const user = await findEnabledUser(db, session.user_id);
  return user ? { session, user } : undefined;
}

export async function touchSession(db: Executor, id: number, now: string): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
}

export async function listSessions(db: Executor, userId: number): Promise<SessionRow[]> {
  return db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
}

export async function deleteSession(db: Executor, userId: number, id: number): Promise<boolean> {
  const result = await db.deleteFrom('sessions').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Ends every session of the user, except `keepId` when given; returns how many ended. */
export async function deleteSessionsOfUser(db: Executor, userId: number, keepId?: number): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepId !== undefined) query = query.where('id', '!=', keepId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/* ---------------------------------------------------------------- API tokens */

export async function insertApiToken(db: Executor, row: Insertable<ApiTokensTable>): Promise<number> {
  const inserted = await db.insertInto('api_tokens').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(inserted.id);
}

/** A token by its hash, with its user, if unexpired and the user is not disabled. */
export async function findActiveApiToken(db: Executor, tokenHash: string, now: string): Promise<{ token: ApiTokenRow; user: UserRow } | undefined> {
  const token = await db
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  if (!token) return undefined;
  const user = await findEnabledUser(db, token.user_id);
  return user ? { token, user } : undefined;
}

export async function touchApiToken(db: Executor, id: number, now: string): Promise<void> {
  await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}

export async function listApiTokens(db: Executor, userId: number): Promise<ApiTokenRow[]> {
  return db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('id').execute();
}

export async function deleteApiToken(db: Executor, userId: number, id: number): Promise<boolean> {
  const result = await db.deleteFrom('api_tokens').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function deleteApiTokensOfUser(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('api_tokens').where('user_id', '=', userId).execute();
}

/* ---------------------------------------------------------------- password resets */

export async function insertPasswordReset(db: Executor, userId: number, tokenHash: string, now: string, expiresAt: string): Promise<void> {
  await db.insertInto('password_resets').values({ user_id: userId, token_hash: tokenHash, created_at: now, expires_at: expiresAt }).execute();
}

/** The user a live (unexpired) reset token belongs to, without using it up. */
export async function findPasswordReset(db: Executor, tokenHash: string, now: string): Promise<number | undefined> {
  const row = await db.selectFrom('password_resets').select('user_id').where('token_hash', '=', tokenHash).where('expires_at', '>', now).executeTakeFirst();
  return row ? Number(row.user_id) : undefined;
}

/** Deletes the reset token and returns its user id if it existed and had not expired: single use. */
export async function consumePasswordReset(db: Executor, tokenHash: string, now: string): Promise<number | undefined> {
  const row = await db.deleteFrom('password_resets').where('token_hash', '=', tokenHash).returning(['user_id', 'expires_at']).executeTakeFirst();
  return row && row.expires_at > now ? Number(row.user_id) : undefined;
}

export async function deletePasswordResetsOfUser(db: Executor, userId: number): Promise<void> {
  await db.deleteFrom('password_resets').where('user_id', '=', userId).execute();
}

/* ---------------------------------------------------------------- sign-in throttle */

export interface ThrottleRow {
  key: string;
  failures: number;
  last_failure_at: string;
}

/**
 * Reads the throttle rows of these keys, locking them until the transaction ends (PostgreSQL; on
 * SQLite the transaction holds the only connection). Missing rows are created first, so that two
 * first attempts cannot both read "no row".
 */
export async function lockThrottleRows(trx: Executor, dialect: Dialect, keys: string[]): Promise<ThrottleRow[]> {
  await trx
    .insertInto('login_throttle')
    .values(keys.map((key) => ({ key, failures: 0, last_failure_at: new Date(0).toISOString() })))
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const query = trx.selectFrom('login_throttle').selectAll().where('key', 'in', keys);
  return dialect === 'postgres' ? query.forUpdate().execute() : query.execute();
}

export async function writeThrottleRow(db: Executor, row: ThrottleRow): Promise<void> {
  await db.updateTable('login_throttle').set({ failures: row.failures, last_failure_at: row.last_failure_at }).where('key', '=', row.key).execute();
}

export async function deleteThrottleRow(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('key', '=', key).execute();
}

/** Gives back one counted attempt (a success, or a step that was not a guess). */
export async function releaseThrottleAttempt(db: Executor, key: string): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set((eb) => ({ failures: eb('failures', '-', 1) }))
    .where('key', '=', key)
    .where('failures', '>', 0)
    .execute();
}

/* ---------------------------------------------------------------- projects (owned by src/projects) */

/** How many projects the user owns, deleted ones included: their data is kept until purged, and it stays theirs. */
export async function countOwnedProjects(db: Executor, userId: number): Promise<number> {
  const row = await db
    .selectFrom('projects')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('owner_id', '=', userId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
