/**
 * Password reset by email: a single-use 256-bit token valid for one hour, stored as its SHA-256,
 * sent as a link whose token is in the fragment (`#token=…`), so it never reaches a server log or a
 * Referer header. The request is answered identically whether or not the account exists, and the
 * mail is sent after the answer. Completing a reset needs the second factor when it is on (a
 * reset must not bypass it), sets the password, and ends every session.
 */
import { isoNow } from '../db/columns.js';
import { AppError } from '../server/errors.js';
import { auditAccountEvent } from './audit-events.js';
import type { ClientInfo } from './client.js';
import type { AccountsContext } from './context.js';
import { checkSecondFactor, identityKey, throttledError } from './credentials.js';
import { hashPassword } from './passwords.js';
import {
  consumePasswordReset,
  deletePasswordResetsOfUser,
  deleteSessionsOfUser,
  findEnabledUser,
  findPasswordReset,
  findUserByEmail,
  insertPasswordReset,
  updateUser,
} from './queries.js';
import { attemptSucceeded, beginAttempt, resetThrottleKeys, throttleKeys } from './throttle-store.js';
import { generateToken, hashToken, isWellFormedToken } from './tokens.js';
import { assertPasswordAllowed } from './users.js';

export const RESET_LIFETIME_MS = 3_600_000;

export interface MailErrorLog {
  error(object: object, message: string): void;
}

/** Always resolves the same way; the email (if any) is sent in the background. */
export async function requestPasswordReset(accounts: AccountsContext, email: string, client: ClientInfo, log: MailErrorLog): Promise<void> {
  const gate = await beginAttempt(accounts, resetThrottleKeys(accounts, identityKey(email), client.address));
  if (!gate.allowed) throw throttledError(Math.ceil(gate.retryAfterMs / 1000), gate.locked, 'password reset requests');
  const user = await findUserByEmail(accounts.db, identityKey(email));
  if (!user || user.disabled_at !== null || user.email === null) {
    await auditAccountEvent(accounts.db, { action: 'user.password_reset_requested', actorLabel: email, client, details: { sent: false } });
    return;
  }
  const token = generateToken('opaque');
  const now = Date.now();
  await accounts.db.transaction().execute(async (trx) => {
    await deletePasswordResetsOfUser(trx, user.id);
    await insertPasswordReset(trx, user.id, hashToken(token), new Date(now).toISOString(), new Date(now + RESET_LIFETIME_MS).toISOString());
    await auditAccountEvent(trx, { action: 'user.password_reset_requested', actorLabel: email, userId: user.id, client, details: { sent: true } });
  });
  const link = `${accounts.config.publicUrl}/reset-password#token=${token}`;
  accounts
    .sendMail({
      to: user.email,
      subject: 'Reset your Fieldkeep password',
      text:
        `Someone (hopefully you) asked to reset the password of the Fieldkeep account "${user.username}".\n\n` +
        `Open this link within one hour to choose a new password:\n${link}\n\n` +
        'If you did not ask for this, ignore this email; your password stays as it is.',
    })
    .catch((err: unknown) => log.error({ err, userId: user.id }, 'the password reset email could not be sent'));
}

export interface ResetCompletion {
  token: string;
  newPassword: string;
  totp?: string | undefined;
}

export async function completePasswordReset(accounts: AccountsContext, input: ResetCompletion, client: ClientInfo): Promise<void> {
  const invalid = () => new AppError('password.reset_invalid', 'This reset link is invalid, expired or already used; ask for a new one.');
  if (!isWellFormedToken('opaque', input.token)) throw invalid();
  const tokenHash = hashToken(input.token);
  const userId = await findPasswordReset(accounts.db, tokenHash, isoNow());
  const user = userId === undefined ? undefined : await findEnabledUser(accounts.db, userId);
  if (!user) throw invalid();
  await assertPasswordAllowed(input.newPassword, user);
  const keys = throttleKeys(accounts, user.id, user.username_key, client.address);
  if (user.totp_secret !== null) {
    const gate = await beginAttempt(accounts, keys);
    if (!gate.allowed) throw throttledError(Math.ceil(gate.retryAfterMs / 1000), gate.locked);
    if (!input.totp || (await checkSecondFactor(accounts, accounts.db, user, input.totp)) === null) {
      throw new AppError('auth.totp_invalid', 'This account uses two-factor: give a current code (or a recovery code) as totp.');
    }
  }
  const passwordHash = await hashPassword(input.newPassword, { iterations: accounts.config.passwordIterations });
  await accounts.db.transaction().execute(async (trx) => {
    if ((await consumePasswordReset(trx, tokenHash, isoNow())) !== user.id) throw invalid();
    await updateUser(trx, user.id, { password_hash: passwordHash, updated_at: isoNow() });
    await deleteSessionsOfUser(trx, user.id);
    await deletePasswordResetsOfUser(trx, user.id);
    await attemptSucceeded(trx, keys);
    await auditAccountEvent(trx, { action: 'user.password_reset', actorLabel: user.username, userId: user.id, client });
  });
}
