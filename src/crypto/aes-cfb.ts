/*
 * AES-256-CFB (128-bit feedback) with PKCS#7 padding, as Java's `AES/CFB/PKCS5Padding` writes ODK
 * files: the whole file is padded to a multiple of 16 bytes (1–16 pad bytes, never none) and then
 * enciphered. OpenSSL does not pad CFB, so padding is added and stripped here.
 *
 * Both directions are incremental (`update` any number of chunks, then `final`) so a 100 MB
 * attachment streams through in constant memory; `cipherStream` wraps either one as a Transform.
 * The decryptor holds back the last 16 plaintext bytes until `final`, where the padding is checked
 * without data-dependent branches, and it hashes what it emits (MD5, for the element signature).
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import type { Cipher, Decipher, Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import { CryptoError } from './errors.js';

export const AES_KEY_LENGTH = 32;
export const BLOCK_LENGTH = 16;

export interface IncrementalCipher {
  update(chunk: Uint8Array): Buffer;
  final(): Buffer;
}

export class FileEncryptor implements IncrementalCipher {
  readonly #cipher: Cipher;
  #length = 0;

  constructor(key: Uint8Array, iv: Uint8Array) {
    checkKeyAndIv(key, iv);
    this.#cipher = createCipheriv('aes-256-cfb', key, iv).setAutoPadding(false);
  }

  update(chunk: Uint8Array): Buffer {
    this.#length += chunk.length;
    return this.#cipher.update(chunk);
  }

  final(): Buffer {
    const padLength = BLOCK_LENGTH - (this.#length % BLOCK_LENGTH);
    return Buffer.concat([this.#cipher.update(Buffer.alloc(padLength, padLength)), this.#cipher.final()]);
  }
}

export class FileDecryptor implements IncrementalCipher {
  readonly #decipher: Decipher;
  readonly #md5: Hash = createHash('md5');
  readonly #fileName: string;
  #held: Buffer = Buffer.alloc(0);
  #length = 0;
  #md5Hex: string | undefined;

  constructor(key: Uint8Array, iv: Uint8Array, fileName = 'the file') {
    checkKeyAndIv(key, iv);
    this.#decipher = createDecipheriv('aes-256-cfb', key, iv).setAutoPadding(false);
    this.#fileName = fileName;
  }

  update(chunk: Uint8Array): Buffer {
    this.#length += chunk.length;
    const plain = Buffer.concat([this.#held, this.#decipher.update(chunk)]);
    const releasable = Math.max(0, plain.length - BLOCK_LENGTH);
    this.#held = plain.subarray(releasable);
    return this.#emit(plain.subarray(0, releasable));
  }

  final(): Buffer {
    const tail = Buffer.concat([this.#held, this.#decipher.final()]);
    if (this.#length === 0 || this.#length % BLOCK_LENGTH !== 0) {
      throw new CryptoError(
        'crypto.truncated',
        `${this.#fileName} is ${this.#length} bytes, not a whole number of 16-byte blocks: it was cut short or is not an ODK-encrypted file.`,
      );
    }
    const padLength = pkcs7PadLength(tail);
    if (padLength === 0) {
      throw new CryptoError(
        'crypto.bad_padding',
        `${this.#fileName} did not decrypt to valid data (bad padding): the file was altered, or belongs to another submission or key.`,
      );
    }
    const out = this.#emit(tail.subarray(0, tail.length - padLength));
    this.#md5Hex = this.#md5.digest('hex');
    return out;
  }

  /** Lowercase hex MD5 of the whole plaintext; available after `final`. */
  get md5Hex(): string {
    if (this.#md5Hex === undefined) throw new CryptoError('crypto.bad_input', 'The MD5 is known only after final().');
    return this.#md5Hex;
  }

  #emit(plain: Buffer): Buffer {
    this.#md5.update(plain);
    return plain;
  }
}

/** Wraps an incremental cipher as a stream Transform; errors surface as stream errors. */
export function cipherStream(cipher: IncrementalCipher): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        callback(null, cipher.update(chunk));
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        callback(null, cipher.final());
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

/**
 * The PKCS#7 pad length of the final block, or 0 when the padding is invalid. Every byte of the
 * block is examined whatever the outcome, so timing does not reveal where the padding broke.
 */
function pkcs7PadLength(block: Uint8Array): number {
  if (block.length !== BLOCK_LENGTH) return 0;
  const pad = block[BLOCK_LENGTH - 1] ?? 0;
  let bad = ((pad - 1) >>> 31) | ((BLOCK_LENGTH - pad) >>> 31);
  for (let i = 0; i < BLOCK_LENGTH; i += 1) {
    const inPadding = (BLOCK_LENGTH - 1 - i - pad) >>> 31;
    const differs = (((block[i] ?? 0) ^ pad) + 0xff) >>> 8;
    bad |= inPadding & differs;
  }
  return bad === 0 ? pad : 0;
}

function checkKeyAndIv(key: Uint8Array, iv: Uint8Array): void {
  if (key.length !== AES_KEY_LENGTH || iv.length !== BLOCK_LENGTH) {
    throw new CryptoError('crypto.bad_input', `AES-256-CFB needs a ${AES_KEY_LENGTH}-byte key and a ${BLOCK_LENGTH}-byte IV.`);
  }
}
