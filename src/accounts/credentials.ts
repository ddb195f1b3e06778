/**
 * Checking who someone is: a name and password under the throttle (the one path for browser
 * sign-in, HTTP Basic and re-authentication), and the second factor (TOTP or a recovery code).
 *
 * Timing: an unknown name costs one dummy hash, exactly like a known one (counted in tests through
 * `passwordHashEvaluations`); a throttled attempt costs none, whether the name exists or not.
 */
import { isoNow } from '../db/columns.js';
import { AppError, type ErrorCode } from '../server/errors.js';
import { auditAccountEvent } from './audit-events.js';
import type { ClientInfo } from './client.js';
import type { AccountsContext } from './context.js';
import { dummyVerify, hashPassword, verifyPassword } from './passwords.js';
import { claimTotpStep, consumeRecoveryCode, findUserForSignIn, listRecoveryCodes, updateUser, type Executor, type UserRow } from './queries.js';
import { unsealSecret } from './sealed.js';
import { beginAttempt, throttleKeys, type ThrottleKeys } from './throttle-store.js';
import { matchRecoveryCode, verifyTotp } from './totp.js';

export type CredentialPurpose = 'sign-in' | 'basic' | 'reauthentication';

export interface VerifiedCredentials {
  user: UserRow;
  keys: ThrottleKeys;
}

/** How a typed username or email is compared: Unicode-normalised, trimmed, lower-cased. */
export function identityKey(text: string): string {
  return text.normalize('NFKC').trim().toLowerCase();
}

/**
 * Verifies a name (username or email) and password, throttled per account and per address.
 * Throws `auth.throttled`/`auth.locked` (with `retryAfterSeconds`), the purpose's failure code, or
 * `auth.account_disabled` (only after a correct password). On success the attempt stays counted
 * until the caller calls `attemptSucceeded` (after any second factor). Upgrades an old hash.
 */
export async function verifyCredentials(
  accounts: AccountsContext,
  name: string,
  password: string,
  client: ClientInfo,
  purpose: CredentialPurpose,
): Promise<VerifiedCredentials> {
  const typed = identityKey(name);
  const user = typed ? await findUserForSignIn(accounts.db, typed) : undefined;
  const keys = throttleKeys(accounts, user?.id, typed, client.address);
  const label = { actorLabel: name, ...(user ? { userId: user.id } : {}), client };
  const gate = await beginAttempt(accounts, keys);
  if (!gate.allowed) {
    const retryAfterSeconds = Math.ceil(gate.retryAfterMs / 1000);
    await auditAccountEvent(accounts.db, { action: 'user.login_throttled', ...label, details: { purpose, retryAfterSeconds, locked: gate.locked } });
    throw throttledError(retryAfterSeconds, gate.locked);
  }
  const options = { iterations: accounts.config.passwordIterations };
  const verification = user ? await verifyPassword(password, user.password_hash, options) : await dummyVerify(password, options);
  if (!user || !verification.ok) {
    await accounts.db.transaction().execute(async (trx) => {
      await auditAccountEvent(trx, { action: 'user.login_failed', ...label, details: { purpose, reason: user ? 'wrong password' : 'unknown name' } });
      if (gate.accountFailures === accounts.accountLimits.lockFailures) {
        await auditAccountEvent(trx, { action: 'user.locked', ...label, details: { failures: gate.accountFailures, minutes: accounts.config.loginThrottle.lockMinutes } });
      }
      if (gate.addressFailures === accounts.addressLimits.lockFailures) {
        await auditAccountEvent(trx, { action: 'user.address_locked', ...label, details: { failures: gate.addressFailures } });
      }
    });
    throw new AppError(failureCode(purpose));
  }
  if (user.disabled_at !== null) {
    await auditAccountEvent(accounts.db, { action: 'user.login_failed', ...label, details: { purpose, reason: 'disabled' } });
    throw new AppError('auth.account_disabled', 'This account is disabled; ask an administrator to enable it.');
  }
  if (verification.needsRehash) {
    const upgraded = await hashPassword(password, options);
    await updateUser(accounts.db, user.id, { password_hash: upgraded, updated_at: isoNow() });
    user.password_hash = upgraded;
  }
  return { user, keys };
}

export function failureCode(purpose: CredentialPurpose): ErrorCode {
  return purpose === 'reauthentication' ? 'auth.reauthentication_failed' : 'auth.invalid_credentials';
}

export function throttledError(retryAfterSeconds: number, locked: boolean, what = 'failed sign-in attempts'): AppError {
  const when = `Try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`;
  return locked
    ? new AppError('auth.locked', `Too many ${what}: locked for now. ${when}`, { retryAfterSeconds })
    : new AppError('auth.throttled', `Too many ${what}. ${when}`, { retryAfterSeconds });
}

/** The Retry-After value an error asks for, if it is a throttling error. */
export function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof AppError) || (error.code !== 'auth.throttled' && error.code !== 'auth.locked')) return undefined;
  const seconds = error.extra?.retryAfterSeconds;
  return typeof seconds === 'number' ? seconds : undefined;
}

export type SecondFactor = 'totp' | 'recovery_code';

/**
 * Checks a TOTP code (single use: its time step is claimed atomically) or a recovery code
 * (deleted when used). Returns which one matched, or null.
 */
export async function checkSecondFactor(accounts: AccountsContext, db: Executor, user: UserRow, code: string): Promise<SecondFactor | null> {
  if (user.totp_secret === null) return null;
  const trimmed = code.replace(/\s+/g, '');
  if (/^\d+$/.test(trimmed)) {
    const secret = unsealSecret(accounts.secret, user.totp_secret);
    const step = secret === null ? null : verifyTotp(secret, trimmed, { afterStep: user.totp_last_step ?? -1 });
    return step !== null && (await claimTotpStep(db, user.id, step)) ? 'totp' : null;
  }
  const stored = await listRecoveryCodes(db, user.id);
  const index = matchRecoveryCode(trimmed, stored.map((s) => s.code_hash));
  const match = index === null ? undefined : stored[index];
  return match !== undefined && (await consumeRecoveryCode(db, user.id, match.id)) ? 'recovery_code' : null;
}
