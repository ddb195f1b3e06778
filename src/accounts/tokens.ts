/**
 * Opaque secrets: session cookies, CSRF and reset tokens, personal API tokens, device tokens and
 * public-link tokens.
 *
 * Why base62 ([A-Za-z0-9]) and not Central's base64 variant ([A-Za-z0-9!$]): every base62 character
 * is an RFC 3986 "unreserved" character, so a token needs no percent-encoding anywhere in a URL
 * (ODK Collect puts device tokens in the path, `/key/<token>/…`), cannot be mangled by shells,
 * proxies or log tooling that treat `$` and `!` specially, and is selected whole by a double click.
 * The typed prefixes (`fk_pat_`, `fk_dev_`, `fk_pub_`) use `_`, also unreserved, and let secret scanners and
 * log redaction recognise a leaked token; the opaque kind has no prefix because it never leaves
 * cookies and links the server itself builds.
 *
 * Tokens are high-entropy (≥ 256 bits), so they are stored as a plain SHA-256: a slow KDF would add
 * cost without adding security. Lookups are by that hash.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AccountsError } from './errors.js';

export const BASE62_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 43 base62 characters carry 43 × log2(62) ≈ 256.03 bits. */
export const TOKEN_SECRET_LENGTH = 43;

export type TokenKind = 'opaque' | 'api' | 'device' | 'public';

const TOKEN_PREFIXES: Readonly<Record<TokenKind, string>> = {
  opaque: '',
  api: 'fk_pat_',
  device: 'fk_dev_',
  public: 'fk_pub_',
};

const TOKEN_PATTERNS: Readonly<Record<TokenKind, RegExp>> = {
  opaque: /^[A-Za-z0-9]{43}$/,
  api: /^fk_pat_[A-Za-z0-9]{43}$/,
  device: /^fk_dev_[A-Za-z0-9]{43}$/,
  public: /^fk_pub_[A-Za-z0-9]{43}$/,
};

/** The minimum key size for keyedHash: HMAC-SHA256 gains nothing from more, and is weakened by less. */
export const MIN_KEYED_HASH_KEY_BYTES = 32;

/**
 * Uniformly random characters from an alphabet of at most 256 symbols, from the CSPRNG. Bytes at or
 * above the largest multiple of the alphabet size are rejected, so no character is more likely.
 */
export function randomFromAlphabet(alphabet: string, length: number): string {
  const unbiasedLimit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < unbiasedLimit && out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** A new secret of the given kind, e.g. `fk_pat_` + 43 base62 characters for an API token. */
export function generateToken(kind: TokenKind): string {
  return TOKEN_PREFIXES[kind] + randomFromAlphabet(BASE62_ALPHABET, TOKEN_SECRET_LENGTH);
}

/** Whether a client-supplied value has the exact shape of a token of this kind (cheap reject before any lookup). */
export function isWellFormedToken(kind: TokenKind, candidate: unknown): candidate is string {
  return typeof candidate === 'string' && TOKEN_PATTERNS[kind].test(candidate);
}

/** The form a token is stored and looked up in: lowercase hex SHA-256 of its UTF-8 bytes. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Equality whose running time depends on neither the contents nor the lengths of the inputs:
 * both sides are reduced to SHA-256 digests, which are then compared in constant time.
 */
export function constantTimeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/**
 * HMAC-SHA256 (hex) of several strings under a server secret, e.g. the cache key of a verified
 * Basic-auth credential: `keyedHash(secret, [username, password])`. Each part is length-prefixed,
 * so `['ab', 'c']` and `['a', 'bc']` never collide. Without the key, the cache key reveals nothing
 * that would let anyone test password guesses offline.
 */
export function keyedHash(key: Uint8Array, parts: readonly string[]): string {
  if (key.length < MIN_KEYED_HASH_KEY_BYTES) {
    throw new AccountsError(
      'token.weak_key',
      `The keyed-hash key is ${key.length} bytes; use a random server secret of at least ${MIN_KEYED_HASH_KEY_BYTES} bytes.`,
    );
  }
  const hmac = createHmac('sha256', key);
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hmac.update(length).update(bytes);
  }
  return hmac.digest('hex');
}

function sha256(value: string | Uint8Array): Buffer {
  return createHash('sha256').update(value).digest();
}
