/**
 * Two-factor authentication: RFC 6238 TOTP (via otpauth) and one-time recovery codes.
 *
 * TOTP codes are SHA-1, 6 digits, 30 seconds — the only parameters every authenticator app honours.
 * A code is accepted for the current 30-second step and one step either side (clock drift), and
 * verification returns the step it matched, so the caller stores it and passes it back as
 * `afterStep`: the same code, or any older one, can then never be used twice (ASVS 6.5.1).
 *
 * Recovery codes are 10 random Crockford-base32 characters (50 bits), shown as `xxxxx-xxxxx`. Being
 * random rather than chosen, they are stored as plain SHA-256; a slow KDF would buy little, and online
 * guessing is stopped by login throttling. Matching is pure: it says which stored hash matched and
 * the caller deletes that one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { HOTP, Secret, TOTP } from 'otpauth';
import { AccountsError } from './errors.js';
import { constantTimeEqual, randomFromAlphabet } from './tokens.js';

export const TOTP_ISSUER = 'Fieldkeep';
/** 160 bits, the HMAC-SHA1 block-friendly size RFC 4226 recommends. */
export const TOTP_SECRET_BYTES = 20;
/** Steps accepted either side of the current one. */
const TOTP_WINDOW = 1;
const MAX_URI_LENGTH = 2048;

export interface TotpParameters {
  algorithm: 'SHA1' | 'SHA256' | 'SHA512';
  digits: number;
  /** Seconds per step. */
  period: number;
}

export const DEFAULT_TOTP_PARAMETERS: Readonly<TotpParameters> = Object.freeze({ algorithm: 'SHA1', digits: 6, period: 30 });

export interface TotpOptions {
  /** Milliseconds since the epoch; defaults to now. */
  now?: number;
  parameters?: TotpParameters;
}

export interface TotpVerifyOptions extends TotpOptions {
  /** The step of the last code this account used: only later steps are accepted. */
  afterStep?: number;
}

/** A new shared secret, base32 (RFC 4648, no padding) as authenticator apps expect: 32 characters. */
export function generateTotpSecret(): string {
  return new Secret({ buffer: toArrayBuffer(randomBytes(TOTP_SECRET_BYTES)) }).base32;
}

/** The `otpauth://totp/…` URI an authenticator app enrols from (usually via a QR code). */
export function totpProvisioningUri(
  secret: string,
  accountName: string,
  { issuer = TOTP_ISSUER, parameters = DEFAULT_TOTP_PARAMETERS }: { issuer?: string; parameters?: TotpParameters } = {},
): string {
  if (accountName.length === 0 || issuer.length === 0) {
    throw new AccountsError('totp.bad_label', 'A TOTP provisioning URI needs a non-empty account name and issuer.');
  }
  return new TOTP({ issuer, label: accountName, secret: decodeSecret(secret), ...parameters }).toString();
}

/** The code for the step that contains `now`. */
export function totpCode(secret: string, { now = Date.now(), parameters = DEFAULT_TOTP_PARAMETERS }: TotpOptions = {}): string {
  return codeForStep(decodeSecret(secret), timeStep(now, parameters), parameters);
}

/**
 * The time step a code was valid for (current ±1, later than `afterStep`), or null. Spaces in the
 * code are ignored; anything else malformed just fails. Never throws on the code.
 */
export function verifyTotp(
  secret: string,
  code: string,
  { now = Date.now(), parameters = DEFAULT_TOTP_PARAMETERS, afterStep = -1 }: TotpVerifyOptions = {},
): number | null {
  const key = decodeSecret(secret);
  const candidate = typeof code === 'string' ? code.replace(/\s+/g, '') : '';
  if (candidate.length !== parameters.digits || !/^\d+$/.test(candidate)) return null;
  const current = timeStep(now, parameters);
  let matched: number | null = null;
  // Every step in the window is compared, with no early exit, so timing shows nothing.
  for (let step = current - TOTP_WINDOW; step <= current + TOTP_WINDOW; step += 1) {
    const equal = constantTimeEqual(codeForStep(key, step, parameters), candidate);
    if (equal && step > afterStep && step >= 0) matched = step;
  }
  return matched;
}

/** An SVG QR code of a provisioning URI, to show at enrolment. */
export async function totpQrSvg(uri: string): Promise<string> {
  if (uri.length > MAX_URI_LENGTH) {
    throw new AccountsError('totp.uri_too_long', `A provisioning URI longer than ${MAX_URI_LENGTH} characters does not fit a scannable QR code.`);
  }
  // Loaded at the first enrolment: few servers ever need it.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}

/* ---------------------------------------------------------------- recovery codes */

export const RECOVERY_CODE_COUNT = 10;
/** Crockford's base32: no i, l, o, u, so nothing is mistaken for 1, 0 or v when read aloud or retyped. */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const RECOVERY_CODE_CHARACTERS = 10;
const RECOVERY_CODE_PATTERN = /^[0-9a-hjkmnp-tv-z]{10}$/;

export interface RecoveryCodes {
  /** Shown to the user once, as `xxxxx-xxxxx`. */
  codes: string[];
  /** Stored, in the same order. */
  hashes: string[];
}

export function generateRecoveryCodes(count: number = RECOVERY_CODE_COUNT): RecoveryCodes {
  const raw = Array.from({ length: count }, () => randomFromAlphabet(RECOVERY_ALPHABET, RECOVERY_CODE_CHARACTERS));
  return {
    codes: raw.map((code) => `${code.slice(0, 5)}-${code.slice(5)}`),
    hashes: raw.map(hashNormalisedRecoveryCode),
  };
}

/**
 * The stored form of a recovery code as a user might type it (any case, with or without the hyphen
 * or spaces, `i`/`l` for 1 and `o` for 0), or null if it cannot be one.
 */
export function hashRecoveryCode(input: string): string | null {
  if (typeof input !== 'string' || input.length > 64) return null;
  const normalised = input.toLowerCase().replace(/[\s-]+/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
  return RECOVERY_CODE_PATTERN.test(normalised) ? hashNormalisedRecoveryCode(normalised) : null;
}

/** Index of the stored hash the typed code matches, or null. The caller must delete that hash. */
export function matchRecoveryCode(input: string, storedHashes: readonly string[]): number | null {
  const hash = hashRecoveryCode(input);
  if (hash === null) return null;
  let matched: number | null = null;
  storedHashes.forEach((stored, index) => {
    if (constantTimeEqual(stored, hash)) matched = index;
  });
  return matched;
}

/* ---------------------------------------------------------------- helpers */

function decodeSecret(secret: string): Secret {
  if (!/^[A-Z2-7]{16,128}$/.test(secret)) {
    throw new AccountsError('totp.bad_secret', 'A stored TOTP secret must be 16–128 characters of unpadded upper-case base32.');
  }
  return Secret.fromBase32(secret);
}

function timeStep(now: number, parameters: TotpParameters): number {
  return Math.floor(now / 1000 / parameters.period);
}

function codeForStep(secret: Secret, step: number, parameters: TotpParameters): string {
  return HOTP.generate({ secret, algorithm: parameters.algorithm, digits: parameters.digits, counter: step });
}

function hashNormalisedRecoveryCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
