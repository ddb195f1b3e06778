/*
 * Passphrase wrapping of a project's (or member's) RSA private key, for end-to-end encrypted
 * projects: the server stores only this blob and never sees the passphrase.
 *
 * Format `fieldkeep.wrapped-private-key`, version 1 — a JSON object, every binary value standard
 * base64 with padding:
 *
 *   {
 *     "format": "fieldkeep.wrapped-private-key",
 *     "version": 1,
 *     "kdf": { "name": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": "<16–64 random bytes>" },
 *     "cipher": { "name": "AES-256-GCM", "iv": "<12 random bytes>" },
 *     "publicKey": "<SubjectPublicKeyInfo DER of the wrapped key's public half>",
 *     "ciphertext": "<AES-256-GCM of the PKCS#8 DER private key, followed by the 16-byte tag>"
 *   }
 *
 * key = scrypt(UTF-8 of the passphrase in Unicode NFC, salt, N, r, p, 32 bytes)
 * additional data = UTF-8 of JSON.stringify([format, version, kdf.name, N, r, p, salt, cipher.name,
 *                   iv, publicKey]) — so no header field can be changed without failing the tag.
 *
 * Why scrypt: memory-hard, and available alike in Node and browsers through @noble/hashes
 * (`scryptAsync`), since WebCrypto has no memory-hard KDF; AES-GCM, the additional data and
 * PKCS#8 import are plain WebCrypto (`ciphertext` is laid out as WebCrypto's `encrypt` returns it). Parameters below N = 2^17, r = 8, p = 1 (OWASP's scrypt
 * minimum, 128 MiB) are refused on both wrap and unwrap, so a blob cannot be downgraded to make
 * guessing cheap; absurdly large ones are refused too, so a hostile blob cannot exhaust memory.
 * A wrong passphrase and a tampered blob are indistinguishable by design (both fail the tag).
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { fromBase64, isBase64Sized, randomBytes, toBase64, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { loadPrivateKey, loadPublicKey, privateKeyToPkcs8, publicKeyToBase64Spki, sameKeyPair } from './keys.js';
import type { OdkPrivateKey, WebCryptoKey } from './keys.js';

export const WRAPPED_KEY_FORMAT = 'fieldkeep.wrapped-private-key';
export const WRAPPED_KEY_VERSION = 1;

export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
}

export interface WrappedPrivateKey {
  format: typeof WRAPPED_KEY_FORMAT;
  version: typeof WRAPPED_KEY_VERSION;
  kdf: ScryptParameters & { name: 'scrypt'; salt: string };
  cipher: { name: 'AES-256-GCM'; iv: string };
  publicKey: string;
  ciphertext: string;
}

export const MIN_SCRYPT_PARAMETERS: Readonly<ScryptParameters> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });
export const DEFAULT_SCRYPT_PARAMETERS: Readonly<ScryptParameters> = MIN_SCRYPT_PARAMETERS;
/** 128·N·r·p bytes of work memory at most (1 GiB), and bounds on each factor. */
const MAX_SCRYPT_MEMORY = 1024 ** 3;
const MAX_SCRYPT_N = 2 ** 20;
const MAX_SCRYPT_R = 32;
const MAX_SCRYPT_P = 16;
const MIN_PASSPHRASE_LENGTH = 10;
const SALT_LENGTH = 16;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;

export async function wrapPrivateKey(
  privateKey: OdkPrivateKey,
  passphrase: string,
  parameters: ScryptParameters = DEFAULT_SCRYPT_PARAMETERS,
): Promise<WrappedPrivateKey> {
  if ([...passphrase.normalize('NFC')].length < MIN_PASSPHRASE_LENGTH) {
    throw new CryptoError('crypto.weak_passphrase', `The passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters long.`);
  }
  checkParameters(parameters);
  const header = {
    kdf: { name: 'scrypt' as const, ...pick(parameters), salt: toBase64(randomBytes(SALT_LENGTH)) },
    cipher: { name: 'AES-256-GCM' as const, iv: toBase64(randomBytes(IV_LENGTH)) },
    publicKey: publicKeyToBase64Spki(privateKey),
  };
  const wrapped: WrappedPrivateKey = { format: WRAPPED_KEY_FORMAT, version: WRAPPED_KEY_VERSION, ...header, ciphertext: '' };
  const key = await deriveKey(passphrase, wrapped.kdf);
  const sealed = await crypto.subtle.encrypt(gcmParameters(wrapped), key, new Uint8Array(await privateKeyToPkcs8(privateKey)));
  wrapped.ciphertext = toBase64(new Uint8Array(sealed));
  return wrapped;
}

/** Accepts the object or its JSON text. */
export async function unwrapPrivateKey(wrapped: WrappedPrivateKey | string, passphrase: string): Promise<OdkPrivateKey> {
  const blob = readWrappedPrivateKey(wrapped);
  const key = await deriveKey(passphrase, blob.kdf);
  let der: Uint8Array;
  try {
    der = new Uint8Array(await crypto.subtle.decrypt(gcmParameters(blob), key, new Uint8Array(fromBase64(blob.ciphertext))));
  } catch {
    throw new CryptoError('crypto.wrong_passphrase', 'The passphrase is wrong, or the wrapped key was altered.');
  }
  return matchingPrivateKey(der, blob.publicKey);
}

/** Only someone who knew the passphrase could have built such a blob, but it is refused all the same. */
export async function matchingPrivateKey(pkcs8Der: Uint8Array, base64Spki: string): Promise<OdkPrivateKey> {
  let privateKey: OdkPrivateKey;
  let matches: boolean;
  try {
    privateKey = await loadPrivateKey(pkcs8Der);
    matches = sameKeyPair(privateKey, await loadPublicKey(base64Spki));
  } catch {
    throw badBlob('it does not hold an RSA private key and its public key');
  }
  if (!matches) throw badBlob('the private key inside does not match its public key');
  return privateKey;
}

function gcmParameters(blob: WrappedPrivateKey) {
  return { name: 'AES-GCM', iv: new Uint8Array(fromBase64(blob.cipher.iv)), additionalData: new Uint8Array(additionalData(blob)), tagLength: TAG_LENGTH * 8 };
}

function additionalData(blob: WrappedPrivateKey): Uint8Array {
  const { kdf, cipher } = blob;
  const fields = [blob.format, blob.version, kdf.name, kdf.N, kdf.r, kdf.p, kdf.salt, cipher.name, cipher.iv, blob.publicKey];
  return utf8(JSON.stringify(fields));
}

async function deriveKey(passphrase: string, kdf: WrappedPrivateKey['kdf']): Promise<WebCryptoKey> {
  const options = { N: kdf.N, r: kdf.r, p: kdf.p, dkLen: KEY_LENGTH, maxmem: 2 * 128 * kdf.N * kdf.r * kdf.p };
  const raw = await scryptAsync(utf8(passphrase.normalize('NFC')), fromBase64(kdf.salt), options);
  try {
    return await crypto.subtle.importKey('raw', new Uint8Array(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
  } finally {
    raw.fill(0);
  }
}

function checkParameters(parameters: ScryptParameters): void {
  const { N, r, p } = parameters;
  if (![N, r, p].every(Number.isSafeInteger) || N < 2 || (N & (N - 1)) !== 0) {
    throw badBlob('scrypt N must be a power of two and r, p whole numbers');
  }
  if (N < MIN_SCRYPT_PARAMETERS.N || r < MIN_SCRYPT_PARAMETERS.r || p < MIN_SCRYPT_PARAMETERS.p) {
    throw new CryptoError(
      'crypto.weak_kdf_parameters',
      `The scrypt parameters N=${N}, r=${r}, p=${p} are below the minimum N=${MIN_SCRYPT_PARAMETERS.N}, r=${MIN_SCRYPT_PARAMETERS.r}, p=${MIN_SCRYPT_PARAMETERS.p}; re-wrap the key with stronger ones.`,
    );
  }
  if (N > MAX_SCRYPT_N || r > MAX_SCRYPT_R || p > MAX_SCRYPT_P || 128 * N * r * p > MAX_SCRYPT_MEMORY) {
    throw badBlob(`the scrypt parameters N=${N}, r=${r}, p=${p} are larger than this server allows`);
  }
}

/** Checks the shape of a blob (JSON text or object) without the passphrase, as the server does before storing one. */
export function readWrappedPrivateKey(input: unknown): WrappedPrivateKey {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw badBlob('it is not JSON');
    }
  }
  if (!isRecord(value) || value.format !== WRAPPED_KEY_FORMAT) throw badBlob(`it is not a ${WRAPPED_KEY_FORMAT} object`);
  if (value.version !== WRAPPED_KEY_VERSION) throw badBlob(`version ${String(value.version)} is not supported (expected ${WRAPPED_KEY_VERSION})`);
  const { kdf, cipher } = value;
  const valid =
    isRecord(kdf) &&
    kdf.name === 'scrypt' &&
    [kdf.N, kdf.r, kdf.p].every((n) => typeof n === 'number') &&
    isBase64Sized(kdf.salt, SALT_LENGTH, 64) &&
    isRecord(cipher) &&
    cipher.name === 'AES-256-GCM' &&
    isBase64Sized(cipher.iv, IV_LENGTH, IV_LENGTH) &&
    isBase64Sized(value.publicKey, 1, 4096) &&
    isBase64Sized(value.ciphertext, TAG_LENGTH + 1, 16384);
  if (!valid) throw badBlob('a field is missing or malformed');
  checkParameters(kdf as unknown as ScryptParameters);
  return value as unknown as WrappedPrivateKey;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(parameters: ScryptParameters): ScryptParameters {
  return { N: parameters.N, r: parameters.r, p: parameters.p };
}

function badBlob(reason: string): CryptoError {
  return new CryptoError('crypto.bad_wrapped_key', `The wrapped private key is unusable: ${reason}.`);
}
