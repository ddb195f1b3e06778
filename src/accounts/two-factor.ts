/**
 * Turning TOTP two-factor on and off. Enrolment is two steps: start (after re-authentication) gives
 * a new secret as an otpauth:// URI and a QR code, kept sealed as *pending*; confirming it with a
 * code from the app turns it on and returns 10 one-time recovery codes, shown once. Turning it off,
 * or replacing the recovery codes, needs the password and a current code (or a recovery code).
 */
import { isoNow } from '../db/columns.js';
import { AppError } from '../server/errors.js';
import { auditAccountEvent } from './audit-events.js';
import type { ClientInfo } from './client.js';
import type { AccountsContext } from './context.js';
import { replaceRecoveryCodes, updateUser } from './queries.js';
import { sealSecret, unsealSecret } from './sealed.js';
import { loadActiveUser, reauthenticate, type Reauthentication, type UserActor } from './service.js';
import { generateRecoveryCodes, generateTotpSecret, totpProvisioningUri, totpQrSvg, verifyTotp } from './totp.js';

export interface Enrolment {
  /** Base32, for typing into an app that cannot scan. */
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

export async function startEnrolment(accounts: AccountsContext, actor: UserActor, proof: Reauthentication, client: ClientInfo): Promise<Enrolment> {
  const user = await loadActiveUser(accounts, actor);
  if (user.totp_secret !== null) throw new AppError('user.two_factor_already_enabled', 'Turn two-factor off first to move it to another device.');
  await reauthenticate(accounts, user, proof, client);
  const secret = generateTotpSecret();
  const otpauthUri = totpProvisioningUri(secret, user.username);
  await accounts.db.transaction().execute(async (trx) => {
    await updateUser(trx, user.id, { totp_pending_secret: sealSecret(accounts.secret, secret), updated_at: isoNow() });
    await auditAccountEvent(trx, { action: 'user.two_factor_enrolment_started', actor, userId: user.id, client });
  });
  return { secret, otpauthUri, qrSvg: await totpQrSvg(otpauthUri) };
}

export async function confirmEnrolment(accounts: AccountsContext, actor: UserActor, code: string, client: ClientInfo): Promise<{ recoveryCodes: string[] }> {
  const user = await loadActiveUser(accounts, actor);
  if (user.totp_secret !== null) throw new AppError('user.two_factor_already_enabled');
  const pending = user.totp_pending_secret === null ? null : unsealSecret(accounts.secret, user.totp_pending_secret);
  if (pending === null) throw new AppError('user.two_factor_not_enrolling');
  const step = verifyTotp(pending, code);
  if (step === null) throw new AppError('auth.totp_invalid', 'That code does not match; check the time on the phone and enter the current code.');
  const recovery = generateRecoveryCodes();
  await accounts.db.transaction().execute(async (trx) => {
    const now = isoNow();
    await updateUser(trx, user.id, { totp_secret: user.totp_pending_secret, totp_pending_secret: null, totp_last_step: step, updated_at: now });
    await replaceRecoveryCodes(trx, user.id, recovery.hashes, now);
    await auditAccountEvent(trx, { action: 'user.two_factor_enabled', actor, userId: user.id, client });
  });
  return { recoveryCodes: recovery.codes };
}

export async function disableTwoFactor(accounts: AccountsContext, actor: UserActor, proof: Reauthentication, client: ClientInfo): Promise<void> {
  const user = await loadActiveUser(accounts, actor);
  if (user.totp_secret === null) throw new AppError('user.two_factor_not_enabled');
  await reauthenticate(accounts, user, proof, client);
  await accounts.db.transaction().execute(async (trx) => {
    await updateUser(trx, user.id, { totp_secret: null, totp_pending_secret: null, totp_last_step: null, updated_at: isoNow() });
    await replaceRecoveryCodes(trx, user.id, [], isoNow());
    await auditAccountEvent(trx, { action: 'user.two_factor_disabled', actor, userId: user.id, client });
  });
}

export async function newRecoveryCodes(accounts: AccountsContext, actor: UserActor, proof: Reauthentication, client: ClientInfo): Promise<{ recoveryCodes: string[] }> {
  const user = await loadActiveUser(accounts, actor);
  if (user.totp_secret === null) throw new AppError('user.two_factor_not_enabled');
  await reauthenticate(accounts, user, proof, client);
  const recovery = generateRecoveryCodes();
  await accounts.db.transaction().execute(async (trx) => {
    await replaceRecoveryCodes(trx, user.id, recovery.hashes, isoNow());
    await auditAccountEvent(trx, { action: 'user.recovery_codes_replaced', actor, userId: user.id, client });
  });
  return { recoveryCodes: recovery.codes };
}
