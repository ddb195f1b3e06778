/*
 * RSA keys for ODK encryption as WebCrypto keys (RSA-OAEP, SHA-256), loaded from the encodings
 * people and forms actually have: PEM (PKCS#8 or PKCS#1), DER, and the one-line base64
 * SubjectPublicKeyInfo a form carries in `<submission base64RsaPublicKey>`. Runs unchanged in
 * Node (globalThis.crypto) and in browsers.
 */
import { fromBase64, fromBase64Url, isBase64, toBase64, toHex } from './bytes.js';
import { formatPem, parsePem, pkcs1PrivateToPkcs8, pkcs1PublicToSpki } from './der.js';
import { CryptoError } from './errors.js';

type Subtle = typeof crypto.subtle;
export type WebCryptoKey = Awaited<ReturnType<Subtle['importKey']>>;

export const RSA_OAEP_SHA256 = { name: 'RSA-OAEP', hash: 'SHA-256' } as const;
export const RSA_KEY_SIZES = [2048, 3072, 4096] as const;

export interface OdkPublicKey {
  readonly type: 'public';
  readonly cryptoKey: WebCryptoKey;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  readonly modulusBits: number;
  /** Modulus and public exponent, for OAEP encryption with a fixed seed (known-answer tests). */
  readonly n: bigint;
  readonly e: bigint;
}

export interface OdkPrivateKey {
  readonly type: 'private';
  /** Extractable, so the key can be wrapped again (member copies, recovery files). */
  readonly cryptoKey: WebCryptoKey;
  readonly publicKey: OdkPublicKey;
  readonly modulusBits: number;
}

/** A PEM string (PKCS#8 or PKCS#1), or DER bytes (PKCS#8, then PKCS#1 is tried). */
export async function loadPrivateKey(input: string | Uint8Array): Promise<OdkPrivateKey> {
  const candidates = typeof input === 'string' ? privatePemCandidates(input) : [input, pkcs1PrivateToPkcs8(input)];
  for (const pkcs8 of candidates) {
    const key = await importOrNull('pkcs8', pkcs8, ['decrypt']);
    if (key) return privateKeyFrom(key);
  }
  throw new CryptoError('crypto.bad_private_key', 'The private key could not be read; give an unencrypted RSA key as PEM (PKCS#8 or PKCS#1) or DER.');
}

/**
 * A PEM string, the one-line base64 SubjectPublicKeyInfo a form carries in
 * `<submission base64RsaPublicKey>`, or SPKI DER bytes.
 */
export async function loadPublicKey(input: string | Uint8Array): Promise<OdkPublicKey> {
  const spki = typeof input === 'string' ? publicKeyText(input) : input;
  const key = spki === null ? null : await importOrNull('spki', spki, ['encrypt']);
  if (!key || spki === null) {
    throw new CryptoError('crypto.bad_public_key', 'The public key could not be read; give an RSA public key as PEM, DER or one-line base64 (SubjectPublicKeyInfo).');
  }
  return publicKeyFrom(key, spki);
}

/** A new key pair in the browser (or Node); 2048 bits is what ODK Central uses, 3072 is stronger. */
export async function generatePrivateKey(modulusBits: (typeof RSA_KEY_SIZES)[number] = 2048): Promise<OdkPrivateKey> {
  if (!RSA_KEY_SIZES.includes(modulusBits)) throw new CryptoError('crypto.bad_input', `RSA keys are ${RSA_KEY_SIZES.join(', ')} bits long here.`);
  const pair = await crypto.subtle.generateKey(
    { ...RSA_OAEP_SHA256, modulusLength: modulusBits, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ['encrypt', 'decrypt'],
  );
  return loadPrivateKey(await exportPkcs8(pair.privateKey));
}

/** The one-line base64 SPKI form, as ODK forms and XLSForm `public_key` carry it. */
export function publicKeyToBase64Spki(key: OdkPublicKey | OdkPrivateKey): string {
  return toBase64((key.type === 'private' ? key.publicKey : key).spki);
}

export async function privateKeyToPkcs8(key: OdkPrivateKey): Promise<Uint8Array> {
  return exportPkcs8(key.cryptoKey);
}

/** PKCS#8 PEM, what `openssl` and `fieldkeep decrypt --key` read. */
export async function privateKeyToPem(key: OdkPrivateKey): Promise<string> {
  return formatPem('PRIVATE KEY', await privateKeyToPkcs8(key));
}

export function publicKeyToPem(key: OdkPublicKey): string {
  return formatPem('PUBLIC KEY', key.spki);
}

export function sameKeyPair(privateKey: OdkPrivateKey, publicKey: OdkPublicKey): boolean {
  return privateKey.publicKey.n === publicKey.n && privateKey.publicKey.e === publicKey.e;
}

function privatePemCandidates(text: string): Uint8Array[] {
  const pem = parsePem(text);
  if (pem?.label === 'PRIVATE KEY') return [pem.der];
  if (pem?.label === 'RSA PRIVATE KEY') return [pkcs1PrivateToPkcs8(pem.der)];
  return [];
}

function publicKeyText(text: string): Uint8Array | null {
  if (text.includes('-----BEGIN')) {
    const pem = parsePem(text);
    if (pem?.label === 'PUBLIC KEY') return pem.der;
    if (pem?.label === 'RSA PUBLIC KEY') return pkcs1PublicToSpki(pem.der);
    return null;
  }
  const base64 = text.replace(/\s+/g, '');
  return base64 !== '' && isBase64(base64) ? fromBase64(base64) : null;
}

async function importOrNull(format: 'pkcs8' | 'spki', der: Uint8Array, usages: Array<'encrypt' | 'decrypt'>): Promise<WebCryptoKey | null> {
  try {
    return await crypto.subtle.importKey(format, new Uint8Array(der), RSA_OAEP_SHA256, true, usages);
  } catch {
    return null;
  }
}

async function privateKeyFrom(cryptoKey: WebCryptoKey): Promise<OdkPrivateKey> {
  const jwk = await crypto.subtle.exportKey('jwk', cryptoKey);
  const publicJwk = { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'RSA-OAEP-256', ext: true };
  const publicCryptoKey = await crypto.subtle.importKey('jwk', publicJwk, RSA_OAEP_SHA256, true, ['encrypt']);
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', publicCryptoKey));
  const publicKey = await publicKeyFrom(publicCryptoKey, spki);
  return { type: 'private', cryptoKey, publicKey, modulusBits: publicKey.modulusBits };
}

async function publicKeyFrom(cryptoKey: WebCryptoKey, spki: Uint8Array): Promise<OdkPublicKey> {
  const jwk = await crypto.subtle.exportKey('jwk', cryptoKey);
  const n = bigIntFrom(fromBase64Url(jwk.n ?? ''));
  const modulusBits = (cryptoKey.algorithm as { modulusLength?: number }).modulusLength ?? n.toString(2).length;
  return { type: 'public', cryptoKey, spki: new Uint8Array(spki), modulusBits, n, e: bigIntFrom(fromBase64Url(jwk.e ?? '')) };
}

async function exportPkcs8(key: WebCryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey('pkcs8', key));
}

export function bigIntFrom(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${toHex(bytes)}`);
}
