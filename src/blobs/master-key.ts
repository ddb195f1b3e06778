/**
 * Master keys: the keys that wrap every blob's own data key. They live outside the database (a key
 * file in the data directory, or a setting), so a copy of the database and the blob directory
 * without them reveals no file's content.
 *
 * A key is 32 random bytes, written as base64url (what `generate` makes), base64 or hex. Its id is
 * a short HMAC of a constant under the key: stored in every blob header so a blob names the key it
 * needs, and shown to operators so they can match a key to a store, without revealing the key.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
export const KEY_ID_BYTES = 8;

/**
 * The key in `text`: its last line that is neither empty nor a `#` comment (key files carry a
 * comment naming the key's id), or null when that is not 32 bytes in base64url, base64 or hex.
 */
export function parseMasterKey(text: string): Buffer | null {
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .pop();
  if (line === undefined) return null;
  if (/^[0-9a-fA-F]{64}$/.test(line)) return Buffer.from(line, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(line)) return null;
  const raw = Buffer.from(line.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return raw.length === KEY_BYTES ? raw : null;
}

export class MasterKey {
  /** 16 hex characters. */
  readonly id: string;
  readonly idBytes: Buffer;
  /** The AES-256 key-wrapping key, derived so the master key itself keys nothing directly. */
  readonly wrapKey: Buffer;

  constructor(raw: Buffer) {
    if (raw.length !== KEY_BYTES) throw new Error('a master key is 32 bytes');
    this.idBytes = createHmac('sha256', raw).update('fieldkeep master key id').digest().subarray(0, KEY_ID_BYTES);
    this.id = this.idBytes.toString('hex');
    this.wrapKey = Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), 'fieldkeep blob key wrap v2', 32));
  }
}

/** The text of a new key file: a comment with the key's id, then the key. */
export function newMasterKeyText(): string {
  const raw = randomBytes(KEY_BYTES);
  const id = new MasterKey(raw).id;
  return `# Fieldkeep master key ${id}. Keep a copy apart from the data: without it no stored file can be read.\n${raw.toString('base64url')}\n`;
}

/** The key new blobs are written under, and every key blobs may be read with. */
export class Keyring {
  private readonly byId: Map<string, MasterKey>;

  constructor(
    readonly current: MasterKey,
    readonly previous: readonly MasterKey[] = [],
  ) {
    this.byId = new Map([...previous, current].map((k) => [k.id, k]));
  }

  get(id: string): MasterKey | undefined {
    return this.byId.get(id);
  }

  get ids(): string[] {
    return [...this.byId.keys()];
  }
}
