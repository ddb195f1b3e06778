/*
 * RSAES-OAEP with SHA-256 as both the OAEP hash and the MGF1 hash, empty label: what ODK Collect's
 * `RSA/NONE/OAEPWithSHA256AndMGF1Padding` (BouncyCastle) produces and ODK Web Forms' WebCrypto
 * `RSA-OAEP`/`SHA-256` too. Encryption does the OAEP encoding itself (RFC 8017 §7.1.1) and then raw
 * RSA, so that a fixed seed reproduces Collect's bytes in known-answer tests; decryption uses
 * OpenSSL's OAEP decoding, which defaults MGF1 to the OAEP hash.
 */
import { constants, createHash, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';

const HASH_LENGTH = 32;
const EMPTY_LABEL_HASH = sha256(new Uint8Array(0));

export function rsaOaepEncrypt(publicKey: KeyObject, message: Uint8Array, seed: Uint8Array = randomBytes(HASH_LENGTH)): Buffer {
  const encoded = oaepEncode(message, modulusBytes(publicKey), seed);
  return publicEncrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, encoded);
}

/** Returns null when the ciphertext does not decrypt under this key (wrong key, tampering, other padding). */
export function rsaOaepDecrypt(privateKey: KeyObject, ciphertext: Uint8Array): Buffer | null {
  if (ciphertext.length !== modulusBytes(privateKey)) return null;
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ciphertext);
  } catch {
    return null;
  }
}

function oaepEncode(message: Uint8Array, k: number, seed: Uint8Array): Buffer {
  if (seed.length !== HASH_LENGTH) throw new CryptoError('crypto.bad_input', `The OAEP seed must be ${HASH_LENGTH} bytes.`);
  const maxMessage = k - 2 * HASH_LENGTH - 2;
  if (message.length > maxMessage) throw new CryptoError('crypto.bad_input', `RSA-OAEP can carry at most ${maxMessage} bytes with this key.`);
  const dataBlock = Buffer.alloc(k - HASH_LENGTH - 1);
  EMPTY_LABEL_HASH.copy(dataBlock, 0);
  dataBlock[dataBlock.length - message.length - 1] = 0x01;
  dataBlock.set(message, dataBlock.length - message.length);
  const maskedDataBlock = xor(dataBlock, mgf1(seed, dataBlock.length));
  const maskedSeed = xor(seed, mgf1(maskedDataBlock, HASH_LENGTH));
  return Buffer.concat([Buffer.from([0x00]), maskedSeed, maskedDataBlock]);
}

function mgf1(seed: Uint8Array, length: number): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 0; blocks.length * HASH_LENGTH < length; i += 1) {
    counter.writeUInt32BE(i);
    blocks.push(sha256(Buffer.concat([seed, counter])));
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i += 1) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

function modulusBytes(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined) throw new CryptoError('crypto.bad_input', 'The key has no RSA modulus.');
  return Math.ceil(bits / 8);
}
