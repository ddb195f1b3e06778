/**
 * Sign-in throttling: the pure policy (this file) and its storage (`throttle-store.ts`).
 *
 * Each account and each client address has a count of recent failed attempts. The first
 * `freeFailures` cost nothing; after that each further attempt must wait 1 s, then 2 s, 4 s, … after
 * the last failure, and at `lockFailures` the key is locked for `lockMs`. Failures are forgotten
 * `lockMs` after the last one, so a lock ends with a clean slate and an occasional typo never adds up.
 *
 * A refused attempt is answered at once (429 with Retry-After) and is not counted: the server never
 * sleeps on a request, so throttling cannot be turned into a way to tie it up. An allowed attempt is
 * counted as a failure *before* the password is checked and given back on success, so concurrent
 * guesses cannot all slip through before the first failure is written.
 *
 * All functions take the time as an argument, so the policy is tested with an injected clock.
 */

export interface ThrottleLimits {
  freeFailures: number;
  lockFailures: number;
  lockMs: number;
}

export interface ThrottleState {
  failures: number;
  /** Milliseconds since the epoch. */
  lastFailureAt: number;
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterMs: number; locked: boolean };

/** The wait after the first failure beyond the free ones; it doubles with each further failure. */
export const FIRST_DELAY_MS = 1000;

/** How long after the last failure the next attempt must wait, given the number of failures. */
export function delayAfterFailures(limits: ThrottleLimits, failures: number): number {
  if (failures < limits.freeFailures) return 0;
  if (failures >= limits.lockFailures) return limits.lockMs;
  return Math.min(FIRST_DELAY_MS * 2 ** (failures - limits.freeFailures), limits.lockMs);
}

/** Failures still counted at `now`; all are forgotten `lockMs` after the last. */
export function currentFailures(state: ThrottleState | undefined, now: number, limits: ThrottleLimits): number {
  if (state === undefined || now - state.lastFailureAt >= limits.lockMs) return 0;
  return state.failures;
}

export function decideAttempt(state: ThrottleState | undefined, now: number, limits: ThrottleLimits): ThrottleDecision {
  const failures = currentFailures(state, now, limits);
  const delay = delayAfterFailures(limits, failures);
  // No wait is owed: allowed even when the last failure is stamped later than `now`, as it is when
  // a concurrent attempt, or another server process with its clock a little ahead, counted it.
  if (state === undefined || delay === 0) return { allowed: true };
  const allowedAt = state.lastFailureAt + delay;
  if (now >= allowedAt) return { allowed: true };
  return { allowed: false, retryAfterMs: allowedAt - now, locked: failures >= limits.lockFailures };
}

/** The state after an allowed attempt is counted (as a failure, until it succeeds). */
export function countAttempt(state: ThrottleState | undefined, now: number, limits: ThrottleLimits): ThrottleState {
  return { failures: currentFailures(state, now, limits) + 1, lastFailureAt: now };
}
