/*
 * AES-256-CFB (128-bit feedback) with PKCS#7 padding, as Java's `AES/CFB/PKCS5Padding` writes ODK
 * files: the whole file is padded to a multiple of 16 bytes (1–16 pad bytes, never none) and then
 * enciphered. WebCrypto has no CFB, so @noble/ciphers does the block work, in Node and browsers.
 *
 * Both directions are incremental (`update` any number of chunks, then `final`) so a 100 MB
 * attachment streams through in constant memory: whole blocks are processed as they arrive and
 * the last ciphertext block is carried as the next call's IV, which is what CFB chaining is. The
 * decryptor holds back the last 16 plaintext bytes until `final`, where the padding is checked
 * without data-dependent branches, and it hashes what it emits (MD5, for the element signature).
 */
import { cfb } from '@noble/ciphers/aes.js';
import { md5, type Md5 } from './md5.js';
import { concatBytes, toHex } from './bytes.js';
import { CryptoError } from './errors.js';

export const AES_KEY_LENGTH = 32;
export const BLOCK_LENGTH = 16;

export interface IncrementalCipher {
  update(chunk: Uint8Array): Uint8Array;
  final(): Uint8Array;
}

/** CFB over whole blocks, chained across calls; bytes short of a block wait for the next call. */
class CfbChain {
  readonly #key: Uint8Array;
  readonly #direction: 'encrypt' | 'decrypt';
  #feedback: Uint8Array;
  #pending: Uint8Array = new Uint8Array(0);

  constructor(key: Uint8Array, iv: Uint8Array, direction: 'encrypt' | 'decrypt') {
    if (key.length !== AES_KEY_LENGTH || iv.length !== BLOCK_LENGTH) {
      throw new CryptoError('crypto.bad_input', `AES-256-CFB needs a ${AES_KEY_LENGTH}-byte key and a ${BLOCK_LENGTH}-byte IV.`);
    }
    this.#key = new Uint8Array(key);
    this.#feedback = new Uint8Array(iv);
    this.#direction = direction;
  }

  /** Bytes received but not yet processed (fewer than one block). */
  get pendingLength(): number {
    return this.#pending.length;
  }

  push(chunk: Uint8Array): Uint8Array {
    const input = this.#pending.length === 0 ? chunk : concatBytes([this.#pending, chunk]);
    const whole = input.length - (input.length % BLOCK_LENGTH);
    this.#pending = input.slice(whole);
    if (whole === 0) return new Uint8Array(0);
    const blocks = input.subarray(0, whole);
    const out = cfb(this.#key, this.#feedback)[this.#direction](blocks);
    const ciphertext = this.#direction === 'encrypt' ? out : blocks;
    this.#feedback = ciphertext.slice(whole - BLOCK_LENGTH);
    return out;
  }
}

export class FileEncryptor implements IncrementalCipher {
  readonly #chain: CfbChain;
  #length = 0;

  constructor(key: Uint8Array, iv: Uint8Array) {
    this.#chain = new CfbChain(key, iv, 'encrypt');
  }

  update(chunk: Uint8Array): Uint8Array {
    this.#length += chunk.length;
    return this.#chain.push(chunk);
  }

  final(): Uint8Array {
    const padLength = BLOCK_LENGTH - (this.#length % BLOCK_LENGTH);
    return this.#chain.push(new Uint8Array(padLength).fill(padLength));
  }
}

export class FileDecryptor implements IncrementalCipher {
  readonly #chain: CfbChain;
  readonly #md5: Md5 = md5.create();
  readonly #fileName: string;
  #held: Uint8Array = new Uint8Array(0);
  #length = 0;
  #md5Hex: string | undefined;

  constructor(key: Uint8Array, iv: Uint8Array, fileName = 'the file') {
    this.#chain = new CfbChain(key, iv, 'decrypt');
    this.#fileName = fileName;
  }

  update(chunk: Uint8Array): Uint8Array {
    this.#length += chunk.length;
    const decrypted = this.#chain.push(chunk);
    if (decrypted.length === 0) return decrypted;
    const plain = this.#held.length === 0 ? decrypted : concatBytes([this.#held, decrypted]);
    const releasable = Math.max(0, plain.length - BLOCK_LENGTH);
    this.#held = plain.slice(releasable);
    return this.#emit(plain.subarray(0, releasable));
  }

  final(): Uint8Array {
    if (this.#length === 0 || this.#chain.pendingLength !== 0) {
      throw new CryptoError(
        'crypto.truncated',
        `${this.#fileName} is ${this.#length} bytes, not a whole number of 16-byte blocks: it was cut short or is not an ODK-encrypted file.`,
      );
    }
    const padLength = pkcs7PadLength(this.#held);
    if (padLength === 0) {
      throw new CryptoError(
        'crypto.bad_padding',
        `${this.#fileName} did not decrypt to valid data (bad padding): the file was altered, or belongs to another submission or key.`,
      );
    }
    const out = this.#emit(this.#held.slice(0, this.#held.length - padLength));
    this.#md5Hex = toHex(this.#md5.digest());
    return out;
  }

  /** Lowercase hex MD5 of the whole plaintext; available after `final`. */
  get md5Hex(): string {
    if (this.#md5Hex === undefined) throw new CryptoError('crypto.bad_input', 'The MD5 is known only after final().');
    return this.#md5Hex;
  }

  #emit(plain: Uint8Array): Uint8Array {
    this.#md5.update(plain);
    return plain;
  }
}

/**
 * Runs a byte stream through an incremental cipher. Usable as a `stream.pipeline` step in Node
 * and over a `ReadableStream` in browsers; a cipher error ends the iteration with that error.
 */
export async function* cipherChunks(cipher: IncrementalCipher, source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    const out = cipher.update(chunk);
    if (out.length > 0) yield out;
  }
  const last = cipher.final();
  if (last.length > 0) yield last;
}

/** Whole input at once, for data already in memory. */
export function cipherAll(cipher: IncrementalCipher, data: Uint8Array): Uint8Array {
  return concatBytes([cipher.update(data), cipher.final()]);
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
