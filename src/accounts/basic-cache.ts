/**
 * Phones send HTTP Basic on every request; verifying a 1,000,000-iteration PBKDF2 hash each time
 * would cost hundreds of milliseconds per request. A successful verification is remembered here
 * for a short time, keyed by `keyedHash(serverSecret, [username, password])`: the key reveals
 * nothing without the server secret, and the password itself is never kept. A hit is still checked
 * against the user's current row (enabled, same password hash), so disabling a user or changing a
 * password takes effect at once, on every server process.
 */
export interface CachedCredential {
  userId: number;
  passwordHash: string;
  expiresAt: number;
}

/** Enough for every phone of a large deployment; beyond it the oldest entries go first. */
const MAX_ENTRIES = 10_000;

export class BasicAuthCache {
  private readonly entries = new Map<string, CachedCredential>();

  constructor(private readonly ttlMs: number) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get(key: string, now: number): CachedCredential | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  remember(key: string, userId: number, passwordHash: string, now: number): void {
    if (!this.enabled) return;
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { userId, passwordHash, expiresAt: now + this.ttlMs });
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
