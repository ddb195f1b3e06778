/**
 * Password hashes, compatible with the two systems people move to Fieldkeep from.
 *
 * New hashes are PBKDF2-HMAC-SHA256 in Django's exact encoding
 * (`pbkdf2_sha256$<iterations>$<22-char [a-zA-Z0-9] salt>$<base64 of 32 bytes>`), so users exported
 * from KoBoToolbox log in unchanged. Verification also accepts what Django and ODK Central store:
 * `pbkdf2_sha256` at any iteration count, `pbkdf2_sha1`, `bcrypt_sha256$…`, `bcrypt$…`, bare
 * `$2a$`/`$2b$`/`$2y$` (Central) and `argon2$argon2id|argon2i$…`. A successful verification of any of
 * these reports `needsRehash`, and the caller stores a fresh hash.
 *
 * Work never blocks the event loop: PBKDF2, bcrypt and Argon2 all run on the libuv thread pool
 * (node:crypto, @node-rs/bcrypt and @node-rs/argon2 are asynchronous native calls). The libraries
 * only compute; parsing, cost limits and the constant-time comparison are done here.
 *
 * Hostile stored hashes: cost parameters are bounded (PBKDF2 iterations, bcrypt cost, Argon2 memory,
 * passes and lanes), so a crafted import cannot be turned into a CPU or memory bomb; a malformed or
 * unsupported hash simply never verifies. Nothing here throws on user input.
 *
 * Timing: every verification costs at least one current-strength PBKDF2 hash — a malformed, unusable
 * (`!`-prefixed) or unsupported hash is answered after a dummy hash, and a failed check of an older,
 * cheaper PBKDF2 hash is topped up to the current iteration count (Django's `harden_runtime`).
 * `dummyVerify` gives an unknown username the same cost. Failed checks of bcrypt and Argon2 imports
 * are not equalised (their costs are not comparable to PBKDF2); they last only until their owner's
 * next successful login replaces them.
 *
 * Truncation: plain bcrypt (`bcrypt$…` and bare `$2?$`) only reads the first 72 bytes of a password.
 * To verify passwords exactly as typed, a password longer than 72 bytes never matches a plain bcrypt
 * hash (ODK Central refuses such passwords when they are set, so none of its users is affected; a
 * Django user whose long password was silently truncated by plain bcrypt has to reset it).
 * `bcrypt_sha256` pre-hashes the password and has no such limit.
 */
import { createHash, pbkdf2 as pbkdf2Callback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Algorithm as Argon2Algorithm, Version as Argon2Version } from '@node-rs/argon2';
import { AccountsError } from './errors.js';
import { BASE62_ALPHABET, constantTimeEqual, randomFromAlphabet } from './tokens.js';

// The native argon2 and bcrypt modules are loaded when a hash of theirs is first checked: most servers only ever check PBKDF2.
const argon2HashRaw = async (...args: Parameters<typeof import('@node-rs/argon2').hashRaw>) => (await import('@node-rs/argon2')).hashRaw(...args);
const bcryptHash = async (...args: Parameters<typeof import('@node-rs/bcrypt').hash>) => (await import('@node-rs/bcrypt')).hash(...args);

const pbkdf2 = promisify(pbkdf2Callback);

/** Django 5.2's default (what KoBoToolbox currently writes); a setting may raise it. */
export const DEFAULT_PBKDF2_ITERATIONS = 1_000_000;
/** Bounds on the iteration count of a stored hash; 10,000,000 is about 2 s of one core here. */
export const MIN_PBKDF2_ITERATIONS = 1;
export const MAX_PBKDF2_ITERATIONS = 10_000_000;
/** Django ≥ 3.1: ceil(128 / log2(62)) characters, i.e. 128 bits of salt. */
const SALT_LENGTH = 22;
const MAX_SALT_LENGTH = 128;
const PBKDF2_KEY_BYTES = { pbkdf2_sha256: 32, pbkdf2_sha1: 20 } as const;

/** bcrypt work factors: 4 is the format's minimum; 15 is eight times Django's and Central's 12. */
const MIN_BCRYPT_COST = 4;
const MAX_BCRYPT_COST = 15;
const BCRYPT_MAX_PASSWORD_BYTES = 72;
/** bcrypt's own base64 alphabet, in which its salt and hash are written. */
const BCRYPT_BASE64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const BCRYPT_SALT_BYTES = 16;

/** Argon2 limits: Django's defaults are m=102400 (100 MiB), t=2, p=8. */
const MAX_ARGON2_MEMORY_KIB = 262_144;
const MAX_ARGON2_TIME_COST = 10;
const MAX_ARGON2_PARALLELISM = 16;
const ARGON2_SALT_BYTES = { min: 8, max: 64 } as const;
const ARGON2_HASH_BYTES = { min: 4, max: 64 } as const;
const ARGON2_VARIANTS: Readonly<Record<string, Argon2Algorithm>> = { argon2i: 1, argon2id: 2 };
const ARGON2_VERSIONS: Readonly<Record<string, Argon2Version>> = { 'v=16': 0, 'v=19': 1 };

const UNUSABLE_PREFIX = '!';
/** Salt of the top-up and dummy hashes; their output is discarded, so it need not be secret. */
const DUMMY_SALT = 'fieldkeepdummysalt0000';

export type PasswordAlgorithm = 'pbkdf2_sha256' | 'pbkdf2_sha1' | 'bcrypt_sha256' | 'bcrypt' | 'argon2';

export interface PasswordHashingOptions {
  /** PBKDF2 iterations of new hashes; a verified hash with another count needs a rehash. */
  iterations?: number;
}

export interface PasswordVerification {
  ok: boolean;
  /** True only when `ok` and the stored hash is not in the current algorithm and strength. */
  needsRehash: boolean;
}

/** What an importer can learn from a stored hash without the password. */
export type PasswordHashInfo =
  | { kind: 'supported'; algorithm: PasswordAlgorithm }
  | { kind: 'unusable' }
  | { kind: 'invalid'; reason: string };

type ParsedHash =
  | { algorithm: 'pbkdf2_sha256' | 'pbkdf2_sha1'; iterations: number; salt: string; key: Buffer }
  | { algorithm: 'bcrypt_sha256' | 'bcrypt'; cost: number; salt: Buffer; checksum: string }
  | {
      algorithm: 'argon2';
      variant: Argon2Algorithm;
      version: Argon2Version;
      memoryKiB: number;
      timeCost: number;
      parallelism: number;
      salt: Buffer;
      key: Buffer;
    };

type ParseResult = { ok: true; hash: ParsedHash } | { ok: false; reason: string };

const FAILED: PasswordVerification = Object.freeze({ ok: false, needsRehash: false });

let evaluations = 0;

/**
 * Number of password-hash evaluations this process has run: one for each new hash, each stored hash
 * checked and each dummy hash (the top-up of a cheaper PBKDF2 hash is part of its evaluation, not
 * another). A test proves that an unknown username costs as much as a known one by counting these
 * instead of timing logins; it is also a useful metric.
 */
export function passwordHashEvaluations(): number {
  return evaluations;
}

/** A new Django-format `pbkdf2_sha256` hash of the password. */
export async function hashPassword(password: string, options: PasswordHashingOptions = {}): Promise<string> {
  const iterations = currentIterations(options);
  evaluations += 1;
  const salt = randomFromAlphabet(BASE62_ALPHABET, SALT_LENGTH);
  const key = await pbkdf2(password, salt, iterations, PBKDF2_KEY_BYTES.pbkdf2_sha256, 'sha256');
  return `pbkdf2_sha256$${iterations}$${salt}$${key.toString('base64')}`;
}

/** Checks a password against any supported stored hash; never throws on user input. */
export async function verifyPassword(
  password: string,
  encoded: string,
  options: PasswordHashingOptions = {},
): Promise<PasswordVerification> {
  const iterations = currentIterations(options);
  const candidate = typeof password === 'string' ? password : '';
  const parsed = typeof encoded === 'string' ? parseEncodedHash(encoded) : undefined;
  if (typeof password !== 'string' || !parsed?.ok) {
    await dummyHash(candidate, iterations);
    return FAILED;
  }
  if (!(await matches(candidate, parsed.hash))) {
    await hardenRuntime(candidate, parsed.hash, iterations);
    return FAILED;
  }
  return { ok: true, needsRehash: needsRehash(parsed.hash, iterations) };
}

/**
 * The work of a verification with no stored hash to check: call it when the username is unknown,
 * so that answering "no such user" costs the same as a wrong password. Always fails.
 */
export async function dummyVerify(password: string, options: PasswordHashingOptions = {}): Promise<PasswordVerification> {
  const iterations = currentIterations(options);
  await dummyHash(typeof password === 'string' ? password : '', iterations);
  return FAILED;
}

/** Classifies a stored hash (for `user import`): supported, deliberately unusable, or invalid and why. */
export function inspectPasswordHash(encoded: string): PasswordHashInfo {
  if (typeof encoded !== 'string') return { kind: 'invalid', reason: 'the hash is not a string' };
  if (encoded.startsWith(UNUSABLE_PREFIX)) return { kind: 'unusable' };
  const parsed = parseEncodedHash(encoded);
  return parsed.ok ? { kind: 'supported', algorithm: parsed.hash.algorithm } : { kind: 'invalid', reason: parsed.reason };
}

function currentIterations(options: PasswordHashingOptions): number {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new AccountsError(
      'password.bad_iterations',
      `The PBKDF2 iteration setting ${String(iterations)} is not a whole number from ${MIN_PBKDF2_ITERATIONS} to ${MAX_PBKDF2_ITERATIONS}; ` +
        `use ${DEFAULT_PBKDF2_ITERATIONS} unless you have measured a reason to change it.`,
    );
  }
  return iterations;
}

function parseEncodedHash(encoded: string): ParseResult {
  if (encoded.startsWith(UNUSABLE_PREFIX)) return invalid('the password is marked unusable');
  if (encoded.length > 1024) return invalid('the hash is longer than 1024 characters');
  if (encoded.startsWith('pbkdf2_sha256$')) return parsePbkdf2('pbkdf2_sha256', encoded.slice('pbkdf2_sha256$'.length));
  if (encoded.startsWith('pbkdf2_sha1$')) return parsePbkdf2('pbkdf2_sha1', encoded.slice('pbkdf2_sha1$'.length));
  if (encoded.startsWith('bcrypt_sha256$')) return parseBcrypt('bcrypt_sha256', encoded.slice('bcrypt_sha256$'.length));
  if (encoded.startsWith('bcrypt$')) return parseBcrypt('bcrypt', encoded.slice('bcrypt$'.length));
  if (encoded.startsWith('$2')) return parseBcrypt('bcrypt', encoded);
  if (encoded.startsWith('argon2$')) return parseArgon2(encoded.slice('argon2$'.length));
  return invalid(`unsupported algorithm "${encoded.split('$', 1)[0]?.slice(0, 32) ?? ''}"`);
}

function parsePbkdf2(algorithm: 'pbkdf2_sha256' | 'pbkdf2_sha1', rest: string): ParseResult {
  const match = /^(\d{1,9})\$([^$]+)\$([A-Za-z0-9+/=]+)$/.exec(rest);
  if (!match) return invalid(`expected ${algorithm}$<iterations>$<salt>$<base64 hash>`);
  const [, iterationText = '', salt = '', keyText = ''] = match;
  const iterations = Number(iterationText);
  if (iterations < MIN_PBKDF2_ITERATIONS || iterations > MAX_PBKDF2_ITERATIONS) {
    return invalid(`iteration count ${iterations} is outside ${MIN_PBKDF2_ITERATIONS}–${MAX_PBKDF2_ITERATIONS}`);
  }
  if (salt.length > MAX_SALT_LENGTH) return invalid(`salt is longer than ${MAX_SALT_LENGTH} characters`);
  const key = decodeCanonicalBase64(keyText, true);
  if (key?.length !== PBKDF2_KEY_BYTES[algorithm]) {
    return invalid(`hash is not the padded base64 of ${PBKDF2_KEY_BYTES[algorithm]} bytes`);
  }
  return { ok: true, hash: { algorithm, iterations, salt, key } };
}

/** `$2a$`, `$2b$` or `$2y$` (the same algorithm for all but broken implementations), cost, salt, checksum. */
function parseBcrypt(algorithm: 'bcrypt_sha256' | 'bcrypt', modularCrypt: string): ParseResult {
  const match = /^\$2[aby]\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/.exec(modularCrypt);
  if (!match) return invalid('expected a bcrypt hash $2a$, $2b$ or $2y$, two-digit cost, 53 characters');
  const [, costText, saltText = '', checksum = ''] = match;
  const cost = Number(costText);
  if (cost < MIN_BCRYPT_COST || cost > MAX_BCRYPT_COST) {
    return invalid(`bcrypt cost ${cost} is outside ${MIN_BCRYPT_COST}–${MAX_BCRYPT_COST}`);
  }
  return { ok: true, hash: { algorithm, cost, salt: decodeBcryptBase64(saltText, BCRYPT_SALT_BYTES), checksum } };
}

/** Django's `argon2` + PHC string: `argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>` (unpadded base64). */
function parseArgon2(phc: string): ParseResult {
  const match = /^(argon2id|argon2i)\$(?:(v=16|v=19)\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
  if (!match) return invalid('expected argon2$argon2id|argon2i$v=19$m=…,t=…,p=…$<salt>$<hash>');
  const [, variantName = '', versionName = 'v=16', memoryText, timeText, parallelismText, saltText = '', keyText = ''] = match;
  const memoryKiB = Number(memoryText);
  const timeCost = Number(timeText);
  const parallelism = Number(parallelismText);
  if (parallelism < 1 || parallelism > MAX_ARGON2_PARALLELISM) return invalid(`argon2 parallelism ${parallelism} is outside 1–${MAX_ARGON2_PARALLELISM}`);
  if (timeCost < 1 || timeCost > MAX_ARGON2_TIME_COST) return invalid(`argon2 time cost ${timeCost} is outside 1–${MAX_ARGON2_TIME_COST}`);
  if (memoryKiB < 8 * parallelism || memoryKiB > MAX_ARGON2_MEMORY_KIB) {
    return invalid(`argon2 memory ${memoryKiB} KiB is outside ${8 * parallelism}–${MAX_ARGON2_MEMORY_KIB}`);
  }
  const salt = decodeCanonicalBase64(saltText, false);
  const key = decodeCanonicalBase64(keyText, false);
  if (!salt || salt.length < ARGON2_SALT_BYTES.min || salt.length > ARGON2_SALT_BYTES.max) return invalid('argon2 salt has a bad length or encoding');
  if (!key || key.length < ARGON2_HASH_BYTES.min || key.length > ARGON2_HASH_BYTES.max) return invalid('argon2 hash has a bad length or encoding');
  const variant = ARGON2_VARIANTS[variantName];
  const version = ARGON2_VERSIONS[versionName];
  if (variant === undefined || version === undefined) return invalid('unknown argon2 variant or version');
  return { ok: true, hash: { algorithm: 'argon2', variant, version, memoryKiB, timeCost, parallelism, salt, key } };
}

async function matches(password: string, hash: ParsedHash): Promise<boolean> {
  evaluations += 1;
  switch (hash.algorithm) {
    case 'pbkdf2_sha256':
    case 'pbkdf2_sha1': {
      const digest = hash.algorithm === 'pbkdf2_sha256' ? 'sha256' : 'sha1';
      const key = await pbkdf2(password, hash.salt, hash.iterations, hash.key.length, digest);
      return timingSafeEqual(key, hash.key);
    }
    case 'bcrypt_sha256': {
      const prehashed = createHash('sha256').update(password, 'utf8').digest('hex');
      return constantTimeEqual(await bcryptChecksum(prehashed, hash), hash.checksum);
    }
    case 'bcrypt': {
      // Computed even when too long, so the refusal costs the same as a wrong password.
      const fits = Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_PASSWORD_BYTES;
      return constantTimeEqual(await bcryptChecksum(password, hash), hash.checksum) && fits;
    }
    case 'argon2': {
      const key = await argon2HashRaw(password, {
        algorithm: hash.variant,
        version: hash.version,
        memoryCost: hash.memoryKiB,
        timeCost: hash.timeCost,
        parallelism: hash.parallelism,
        outputLen: hash.key.length,
        salt: hash.salt,
      });
      return timingSafeEqual(key, hash.key);
    }
  }
}

/** The 31-character checksum bcrypt gives the password with a stored hash's cost and salt. */
async function bcryptChecksum(password: string, hash: { cost: number; salt: Buffer }): Promise<string> {
  return (await bcryptHash(password, hash.cost, hash.salt)).slice(-31);
}

/** After a failed check of a cheaper PBKDF2 hash, spends the missing iterations (Django's harden_runtime). */
async function hardenRuntime(password: string, hash: ParsedHash, iterations: number): Promise<void> {
  if ((hash.algorithm === 'pbkdf2_sha256' || hash.algorithm === 'pbkdf2_sha1') && hash.iterations < iterations) {
    await pbkdf2(password, DUMMY_SALT, iterations - hash.iterations, PBKDF2_KEY_BYTES.pbkdf2_sha256, 'sha256');
  }
}

async function dummyHash(password: string, iterations: number): Promise<void> {
  evaluations += 1;
  await pbkdf2(password, DUMMY_SALT, iterations, PBKDF2_KEY_BYTES.pbkdf2_sha256, 'sha256');
}

function needsRehash(hash: ParsedHash, iterations: number): boolean {
  return !(hash.algorithm === 'pbkdf2_sha256' && hash.iterations === iterations && hash.salt.length >= SALT_LENGTH);
}

/** Decodes bcrypt's base64 (no padding; trailing bits beyond `bytes` are ignored, as bcrypt does). */
function decodeBcryptBase64(text: string, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let accumulator = 0;
  let bits = 0;
  let written = 0;
  for (const character of text) {
    accumulator = ((accumulator << 6) | BCRYPT_BASE64.indexOf(character)) & 0xffff;
    bits += 6;
    if (bits >= 8 && written < bytes) {
      bits -= 8;
      out[written++] = (accumulator >> bits) & 0xff;
    }
  }
  return out;
}

/** Strict base64: only the canonical encoding of some bytes is accepted (Buffer.from alone is lenient). */
function decodeCanonicalBase64(text: string, padded: boolean): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  const canonical = bytes.toString('base64');
  return (padded ? canonical : canonical.replace(/=+$/, '')) === text ? bytes : undefined;
}

function invalid(reason: string): ParseResult {
  return { ok: false, reason };
}
