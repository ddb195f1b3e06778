/** The sign-in throttle's storage: one row per account and per client address (see throttle.ts). */
import { keyedHash } from './tokens.js';
import { addressThrottleUnit } from './client.js';
import type { AccountsContext } from './context.js';
import { deleteThrottleRow, lockThrottleRows, releaseThrottleAttempt, writeThrottleRow, type Executor } from './queries.js';
import { countAttempt, decideAttempt, type ThrottleState } from './throttle.js';

export interface ThrottleKeys {
  account: string;
  address: string;
}

export type ThrottleGate =
  | { allowed: true; accountFailures: number; addressFailures: number }
  | { allowed: false; retryAfterMs: number; locked: boolean };

/**
 * The throttle keys of an attempt. A known account is counted by its id whether it is named by
 * username or email; an unknown name gets a key of its own (a keyed hash, so typed names are not
 * stored), so a name that does not exist is throttled and locked exactly like one that does.
 */
export function throttleKeys(accounts: AccountsContext, userId: number | undefined, typedName: string, address: string): ThrottleKeys {
  return {
    account: userId !== undefined ? `user:${userId}` : `name:${keyedHash(Buffer.from(accounts.secret), ['sign-in name', typedName]).slice(0, 40)}`,
    address: `address:${addressThrottleUnit(address)}`,
  };
}

/**
 * Reset requests are throttled like sign-ins, counted per email address asked about (known or
 * not, alike, so the throttle reveals nothing) and per client address, and never given back: they
 * cost the server an email and the account holder an inbox.
 */
export function resetThrottleKeys(accounts: AccountsContext, emailKey: string, address: string): ThrottleKeys {
  return {
    account: `reset:${keyedHash(Buffer.from(accounts.secret), ['reset email', emailKey]).slice(0, 40)}`,
    address: `reset-address:${addressThrottleUnit(address)}`,
  };
}

/** Refuses the attempt if either key must wait; otherwise counts it (as a failure until it succeeds). */
export async function beginAttempt(accounts: AccountsContext, keys: ThrottleKeys): Promise<ThrottleGate> {
  return accounts.db.transaction().execute(async (trx) => {
    const rows = await lockThrottleRows(trx, accounts.dialect, [keys.account, keys.address]);
    // Read once the rows are ours: an attempt that held them meanwhile may have stamped a later time.
    const now = Date.now();
    const state = (key: string): ThrottleState | undefined => {
      const row = rows.find((r) => r.key === key);
      return row && row.failures > 0 ? { failures: row.failures, lastFailureAt: Date.parse(row.last_failure_at) } : undefined;
    };
    const accountState = state(keys.account);
    const addressState = state(keys.address);
    const refusals = [decideAttempt(accountState, now, accounts.accountLimits), decideAttempt(addressState, now, accounts.addressLimits)].filter(
      (decision) => !decision.allowed,
    );
    if (refusals.length > 0) {
      return { allowed: false, retryAfterMs: Math.max(...refusals.map((r) => r.retryAfterMs)), locked: refusals.some((r) => r.locked) };
    }
    const account = countAttempt(accountState, now, accounts.accountLimits);
    const address = countAttempt(addressState, now, accounts.addressLimits);
    await writeThrottleRow(trx, toRow(keys.account, account));
    await writeThrottleRow(trx, toRow(keys.address, address));
    return { allowed: true, accountFailures: account.failures, addressFailures: address.failures };
  });
}

function toRow(key: string, state: ThrottleState) {
  return { key, failures: state.failures, last_failure_at: new Date(state.lastFailureAt).toISOString() };
}

/** A successful sign-in clears the account's failures and gives back the address's counted attempt. */
export async function attemptSucceeded(db: Executor, keys: ThrottleKeys): Promise<void> {
  await deleteThrottleRow(db, keys.account);
  await releaseThrottleAttempt(db, keys.address);
}

/** The attempt was not a guess (a correct password that still needs its second factor): give it back. */
export async function attemptNotCounted(db: Executor, keys: ThrottleKeys): Promise<void> {
  await releaseThrottleAttempt(db, keys.account);
  await releaseThrottleAttempt(db, keys.address);
}
