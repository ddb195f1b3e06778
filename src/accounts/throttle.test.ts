import { describe, expect, it } from 'vitest';
import { countAttempt, decideAttempt, delayAfterFailures, type ThrottleLimits, type ThrottleState } from './throttle.js';

/** The defaults of FIELDKEEP_LOGIN_FREE_FAILURES, _LOCK_FAILURES and _LOCK_MINUTES. */
const account: ThrottleLimits = { freeFailures: 5, lockFailures: 15, lockMs: 30 * 60_000 };

/** An attacker who guesses wrong every time, as soon as the throttle allows, for `durationMs`. */
function guessesWithin(limits: ThrottleLimits, durationMs: number): number {
  let now = 0;
  let state: ThrottleState | undefined;
  let guesses = 0;
  while (now < durationMs) {
    const decision = decideAttempt(state, now, limits);
    if (decision.allowed) {
      state = countAttempt(state, now, limits);
      guesses += 1;
    } else {
      now += decision.retryAfterMs;
    }
  }
  return guesses;
}

describe('the sign-in throttle', () => {
  it('makes 1,000 wrong guesses in an hour against one account impossible (at most 30)', () => {
    const perHour = guessesWithin(account, 3_600_000);
    expect(perHour).toBeLessThan(1000);
    expect(perHour).toBeLessThanOrEqual(30);
  });

  it('allows the free failures, then doubles the wait from 1 s, then locks', () => {
    expect([0, 4, 5, 6, 7, 14, 15, 40].map((n) => delayAfterFailures(account, n))).toEqual([0, 0, 1000, 2000, 4000, 512_000, 1_800_000, 1_800_000]);
  });

  it('refuses early attempts without counting them, and says how long to wait and whether locked', () => {
    const state = { failures: 6, lastFailureAt: 10_000 };
    expect(decideAttempt(state, 11_500, account)).toEqual({ allowed: false, retryAfterMs: 500, locked: false });
    expect(decideAttempt(state, 12_000, account)).toEqual({ allowed: true });
    expect(decideAttempt({ failures: 15, lastFailureAt: 0 }, 60_000, account)).toEqual({ allowed: false, retryAfterMs: 1_740_000, locked: true });
  });

  it('allows an attempt within the free failures even when the last one is stamped after now (a concurrent attempt, a clock a little ahead)', () => {
    expect(decideAttempt({ failures: 4, lastFailureAt: 10_007 }, 10_000, account)).toEqual({ allowed: true });
    expect(decideAttempt({ failures: 5, lastFailureAt: 10_007 }, 10_000, account)).toEqual({ allowed: false, retryAfterMs: 1007, locked: false });
  });

  it('forgets failures once a lock period has passed since the last one', () => {
    expect(countAttempt({ failures: 15, lastFailureAt: 0 }, account.lockMs, account)).toEqual({ failures: 1, lastFailureAt: account.lockMs });
    expect(countAttempt({ failures: 3, lastFailureAt: 0 }, 1000, account)).toEqual({ failures: 4, lastFailureAt: 1000 });
  });
});
