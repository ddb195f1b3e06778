/**
 * The segmented AEAD every blob's content is sealed with, so that files of any size are encrypted
 * and authenticated while they stream, and read back (and verified) the same way: consecutive
 * 64 KiB plaintext slices (the last may be shorter, or empty), each AES-256-GCM with its 16-byte
 * tag after it. Segment i's 12-byte nonce is a per-blob prefix, then i big-endian, then one byte
 * that is 1 for the last segment and 0 otherwise, so segments cannot be reordered, dropped, or the
 * stream cut at a boundary without failing authentication (the construction of age's STREAM and
 * Tink's streaming AEAD). A segment's plaintext is released only after its tag has been checked.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { BlobError } from './errors.js';

export const SEGMENT_BYTES = 64 * 1024;
export const TAG_BYTES = 16;
const NONCE_BYTES = 12;

export class SegmentCipher {
  private readonly counterBytes: number;

  /** `prefix` fills the nonce before the counter: its length sets the counter's (12 - 1 - length bytes). */
  constructor(
    private readonly key: Buffer,
    private readonly prefix: Buffer,
  ) {
    this.counterBytes = NONCE_BYTES - 1 - prefix.length;
  }

  /** The sealed segment and its tag, after `before` (the file's header, with the first segment: one copy, not two). */
  seal(plain: Buffer, index: number, last: boolean, before?: Buffer): Buffer {
    const cipher = createCipheriv('aes-256-gcm', this.key, this.nonce(index, last));
    const body = cipher.update(plain);
    const tail = cipher.final();
    return Buffer.concat(before === undefined ? [body, tail, cipher.getAuthTag()] : [before, body, tail, cipher.getAuthTag()]);
  }

  open(sealed: Buffer, index: number, last: boolean): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.key, this.nonce(index, last));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new BlobError('blob.corrupt', 'The blob failed authentication: it was altered, truncated or reordered.');
    }
  }

  private nonce(index: number, last: boolean): Buffer {
    if (index >= 2 ** (8 * this.counterBytes)) throw new BlobError('blob.too_large', `A blob may not exceed 2^${8 * this.counterBytes} segments.`);
    const n = Buffer.alloc(NONCE_BYTES);
    this.prefix.copy(n);
    n.writeUIntBE(index, this.prefix.length, this.counterBytes);
    n[NONCE_BYTES - 1] = last ? 1 : 0;
    return n;
  }
}

/** What goes before the segments; the final header may depend on the whole content (its id). */
export interface SealHeader {
  /** Sent when segments must leave before the content has ended; the caller writes `final()` over it. */
  provisional(): Buffer;
  final(): Buffer;
}

/**
 * Seals content given a piece at a time, without a stream around it: `push` returns the segments
 * that are complete (the header with the first), `end` the rest. The blob store writes what they
 * return straight to its file; SealStream wraps the same work as a Transform.
 */
export class Sealer {
  /** Content not sealed yet, joined only once a segment's worth is there. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;
  private headerSent = false;
  /** Whether a provisional header went out, so the final one must be written over it. */
  provisional = false;

  constructor(
    private readonly cipher: SegmentCipher,
    private readonly head: SealHeader,
  ) {}

  /** The sealed segments `chunk` completes, or undefined while none is. */
  push(chunk: Buffer): Buffer | undefined {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // Keep at least one byte back: only the end knows which segment is the last.
    if (this.pendingBytes <= SEGMENT_BYTES) return undefined;
    let rest = this.joined();
    const sealed: Buffer[] = [];
    while (rest.length > SEGMENT_BYTES) {
      sealed.push(this.cipher.seal(rest.subarray(0, SEGMENT_BYTES), this.index++, false, this.header(false)));
      rest = rest.subarray(SEGMENT_BYTES);
    }
    this.pending = [rest];
    this.pendingBytes = rest.length;
    return sealed.length === 1 ? sealed[0] : Buffer.concat(sealed);
  }

  /** The last segment (with the header, when the content fits in one). */
  end(): Buffer {
    return this.cipher.seal(this.joined(), this.index++, true, this.header(true));
  }

  private joined(): Buffer {
    return this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
  }

  /** The header leaves with the first segment, in one chunk: a blob of one segment is one write. */
  private header(ended: boolean): Buffer | undefined {
    if (this.headerSent) return undefined;
    this.headerSent = true;
    this.provisional = !ended;
    return ended ? this.head.final() : this.head.provisional();
  }
}

export class SealStream extends Transform {
  private readonly sealer: Sealer;

  constructor(cipher: SegmentCipher, head: SealHeader) {
    super();
    this.sealer = new Sealer(cipher, head);
  }

  get provisional(): boolean {
    return this.sealer.provisional;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      const sealed = this.sealer.push(chunk);
      if (sealed !== undefined) this.push(sealed);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.push(this.sealer.end());
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

/** Opens the segments (the bytes after the header), releasing each one's plaintext once it is authenticated. */
export class OpenStream extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private index = 0;

  constructor(private readonly cipher: SegmentCipher) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    try {
      const full = SEGMENT_BYTES + TAG_BYTES;
      while (this.pending.length > full) {
        this.push(this.cipher.open(this.pending.subarray(0, full), this.index++, false));
        this.pending = this.pending.subarray(full);
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      if (this.pending.length < TAG_BYTES) throw new BlobError('blob.corrupt', 'The blob is truncated.');
      this.push(this.cipher.open(this.pending, this.index++, true));
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}
