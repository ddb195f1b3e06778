/*
 * RSAES-OAEP with SHA-256 as both the OAEP hash and the MGF1 hash, empty label: what ODK Collect's
 * `RSA/NONE/OAEPWithSHA256AndMGF1Padding` (BouncyCastle) produces and ODK Web Forms' WebCrypto
 * `RSA-OAEP`/`SHA-256` too. WebCrypto does the work; only encryption with a caller-chosen seed
 * (known-answer tests reproducing Collect's bytes) does the OAEP encoding itself (RFC 8017
 * §7.1.1) and the public-key operation with BigInt, since WebCrypto has no way to fix the seed.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from './bytes.js';
import { CryptoError } from './errors.js';
import { RSA_OAEP_SHA256, bigIntFrom } from './keys.js';
import type { OdkPrivateKey, OdkPublicKey } from './keys.js';

const HASH_LENGTH = 32;
const EMPTY_LABEL_HASH = sha256(new Uint8Array(0));

export async function rsaOaepEncrypt(publicKey: OdkPublicKey, message: Uint8Array, seed?: Uint8Array): Promise<Uint8Array> {
  const k = modulusBytes(publicKey.modulusBits);
  const maxMessage = k - 2 * HASH_LENGTH - 2;
  if (message.length > maxMessage) throw new CryptoError('crypto.bad_input', `RSA-OAEP can carry at most ${maxMessage} bytes with this key.`);
  if (seed === undefined) return new Uint8Array(await crypto.subtle.encrypt(RSA_OAEP_SHA256, publicKey.cryptoKey, new Uint8Array(message)));
  const encoded = bigIntFrom(oaepEncode(message, k, seed));
  return bigIntToBytes(modPow(encoded, publicKey.e, publicKey.n), k);
}

/** Returns null when the ciphertext does not decrypt under this key (wrong key, tampering, other padding). */
export async function rsaOaepDecrypt(privateKey: OdkPrivateKey, ciphertext: Uint8Array): Promise<Uint8Array | null> {
  if (ciphertext.length !== modulusBytes(privateKey.modulusBits)) return null;
  try {
    return new Uint8Array(await crypto.subtle.decrypt(RSA_OAEP_SHA256, privateKey.cryptoKey, new Uint8Array(ciphertext)));
  } catch {
    return null;
  }
}

function oaepEncode(message: Uint8Array, k: number, seed: Uint8Array): Uint8Array {
  if (seed.length !== HASH_LENGTH) throw new CryptoError('crypto.bad_input', `The OAEP seed must be ${HASH_LENGTH} bytes.`);
  const dataBlock = new Uint8Array(k - HASH_LENGTH - 1);
  dataBlock.set(EMPTY_LABEL_HASH, 0);
  dataBlock[dataBlock.length - message.length - 1] = 0x01;
  dataBlock.set(message, dataBlock.length - message.length);
  const maskedDataBlock = xor(dataBlock, mgf1(seed, dataBlock.length));
  const maskedSeed = xor(seed, mgf1(maskedDataBlock, HASH_LENGTH));
  return concatBytes([new Uint8Array([0x00]), maskedSeed, maskedDataBlock]);
}

function mgf1(seed: Uint8Array, length: number): Uint8Array {
  const blocks: Uint8Array[] = [];
  const counter = new Uint8Array(4);
  const view = new DataView(counter.buffer);
  for (let i = 0; blocks.length * HASH_LENGTH < length; i += 1) {
    view.setUint32(0, i);
    blocks.push(sha256(concatBytes([seed, counter])));
  }
  return concatBytes(blocks).subarray(0, length);
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i += 1) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let square = base % modulus;
  for (let rest = exponent; rest > 0n; rest >>= 1n) {
    if (rest & 1n) result = (result * square) % modulus;
    square = (square * square) % modulus;
  }
  return result;
}

function bigIntToBytes(value: bigint, length: number): Uint8Array {
  const hex = value.toString(16).padStart(length * 2, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i += 1) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function modulusBytes(bits: number): number {
  return Math.ceil(bits / 8);
}
