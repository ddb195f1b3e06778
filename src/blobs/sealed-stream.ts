/**
 * Encryption at rest for blobs: a segmented AEAD stream, so that attachments of any size are
 * encrypted and authenticated while they stream, and read back (and verified) the same way.
 *
 * Format, version 1:
 *   magic   8 bytes  "FKBLOB1\n"
 *   salt   16 bytes  random per blob
 *   segments         AES-256-GCM of consecutive 64 KiB plaintext slices (the last may be shorter,
 *                    or empty), each ciphertext followed by its 16-byte tag
 * The segment key is HKDF-SHA256(master key, salt, "fieldkeep blob v1"). Segment i's nonce is
 * i as an 11-byte big-endian integer followed by one byte that is 1 for the last segment and 0
 * otherwise, so segments cannot be reordered, dropped, or the stream truncated at a boundary
 * without failing authentication (the construction of age's STREAM and Tink's streaming AEAD).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BlobError } from './errors.js';

export const MAGIC = Buffer.from('FKBLOB1\n', 'latin1');
const SALT_BYTES = 16;
const HEADER_BYTES = MAGIC.length + SALT_BYTES;
export const SEGMENT_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const MAX_SEGMENTS = 2 ** 40;

function segmentKey(masterKey: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, salt, 'fieldkeep blob v1', 32));
}

function nonce(index: number, last: boolean): Buffer {
  if (index >= MAX_SEGMENTS) throw new BlobError('blob.too_large', 'A blob may not exceed 2^40 segments.');
  const n = Buffer.alloc(12);
  n.writeUIntBE(index, 5, 6);
  n[11] = last ? 1 : 0;
  return n;
}

export class SealStream extends Transform {
  private readonly key: Buffer;
  private readonly salt = randomBytes(SALT_BYTES);
  private pending: Buffer = Buffer.alloc(0);
  private index = 0;

  constructor(masterKey: Buffer) {
    super();
    this.key = segmentKey(masterKey, this.salt);
    this.push(Buffer.concat([MAGIC, this.salt]));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    // Keep at least one byte back: only the flush knows which segment is the last.
    while (this.pending.length > SEGMENT_BYTES) {
      this.push(this.seal(this.pending.subarray(0, SEGMENT_BYTES), false));
      this.pending = this.pending.subarray(SEGMENT_BYTES);
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    this.push(this.seal(this.pending, true));
    done();
  }

  private seal(plain: Buffer, last: boolean): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.index++, last));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([body, cipher.getAuthTag()]);
  }
}

export class OpenStream extends Transform {
  private key: Buffer | undefined;
  private pending: Buffer = Buffer.alloc(0);
  private index = 0;

  constructor(private readonly masterKey: Buffer) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      if (this.key === undefined) {
        if (this.pending.length < HEADER_BYTES) return done();
        if (!this.pending.subarray(0, MAGIC.length).equals(MAGIC)) throw new BlobError('blob.corrupt', 'Not a Fieldkeep blob.');
        this.key = segmentKey(this.masterKey, this.pending.subarray(MAGIC.length, HEADER_BYTES));
        this.pending = this.pending.subarray(HEADER_BYTES);
      }
      const full = SEGMENT_BYTES + TAG_BYTES;
      while (this.pending.length > full) {
        this.push(this.open(this.pending.subarray(0, full), false));
        this.pending = this.pending.subarray(full);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.key === undefined || this.pending.length < TAG_BYTES) throw new BlobError('blob.corrupt', 'The blob is truncated.');
      this.push(this.open(this.pending, true));
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private open(sealed: Buffer, last: boolean): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.key as Buffer, nonce(this.index++, last));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new BlobError('blob.corrupt', 'The blob failed authentication: it was altered, truncated or sealed with another key.');
    }
  }
}
