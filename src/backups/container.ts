/**
 * The backup container: a flat sequence of named entries, each streamed in frames so that no
 * entry's size has to be known before it is written (a table is read a page at a time, a blob
 * comes out of the blob store as it is decrypted). Format, version 1 (docs/backups.md):
 *
 *   magic    "FKBACKUP1\n"
 *   entry*   0x45 ('E') · u16 name length · UTF-8 name
 *            · frames: u32 length (1 … 16 MiB) · bytes   — repeated
 *            · u32 0 (end of the entry's content) · 32-byte SHA-256 of the content
 *   end      0x5A ('Z'), then nothing
 *
 * Integers are big-endian. A reader checks every entry's digest as it finishes it and needs the
 * end marker, so a flipped byte, a cut-off archive and trailing junk are all caught.
 */
import { createHash } from 'node:crypto';
import { BackupError } from './errors.js';

export const MAGIC = Buffer.from('FKBACKUP1\n', 'latin1');
const ENTRY = 0x45;
const END = 0x5a;
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const MAX_NAME_BYTES = 1024;
const DIGEST_BYTES = 32;

export interface EntryDigest {
  name: string;
  size: number;
  sha256: string;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * Writes a container as an async sequence of buffers: the caller consumes it (through encryption
 * into a file), so back-pressure reaches the producer, which only runs as fast as the file is written.
 */
export async function* containerBytes(entries: AsyncIterable<{ name: string; content: AsyncIterable<Buffer> }>, onEntry?: (digest: EntryDigest) => void | Promise<void>): AsyncGenerator<Buffer> {
  yield* coalesced(framed(entries, onEntry));
}

/** Many small pieces (headers, small blobs) joined into chunks of about 64 KiB: fewer, larger writes downstream. */
async function* coalesced(pieces: AsyncIterable<Buffer>, size = 64 * 1024): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const piece of pieces) {
    if (piece.length >= size && length === 0) {
      yield piece;
      continue;
    }
    parts.push(piece);
    length += piece.length;
    if (length >= size) {
      yield Buffer.concat(parts, length);
      parts = [];
      length = 0;
    }
  }
  if (length > 0) yield Buffer.concat(parts, length);
}

async function* framed(entries: AsyncIterable<{ name: string; content: AsyncIterable<Buffer> }>, onEntry?: (digest: EntryDigest) => void | Promise<void>): AsyncGenerator<Buffer> {
  yield MAGIC;
  for await (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    if (name.length === 0 || name.length > MAX_NAME_BYTES) throw new RangeError(`entry name of ${name.length} bytes`);
    const header = Buffer.alloc(3);
    header[0] = ENTRY;
    header.writeUInt16BE(name.length, 1);
    yield Buffer.concat([header, name]);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of entry.content) {
      for (let offset = 0; offset < chunk.length; offset += MAX_FRAME_BYTES) {
        const frame = chunk.subarray(offset, offset + MAX_FRAME_BYTES);
        hash.update(frame);
        size += frame.length;
        yield u32(frame.length);
        yield frame;
      }
    }
    const digest = hash.digest();
    yield Buffer.concat([u32(0), digest]);
    await onEntry?.({ name: entry.name, size, sha256: digest.toString('hex') });
  }
  yield Buffer.from([END]);
}

/** Pulls exact byte counts out of a stream of chunks. */
class ByteSource {
  private readonly chunks: AsyncIterator<Buffer>;
  private buffered: Buffer = Buffer.alloc(0);
  offset = 0;

  constructor(source: AsyncIterable<Buffer | Uint8Array>) {
    const iterator = source[Symbol.asyncIterator]();
    this.chunks = { next: async () => {
      const step = await iterator.next();
      return step.done ? step : { done: false, value: Buffer.isBuffer(step.value) ? step.value : Buffer.from(step.value) };
    } };
  }

  /** Exactly `n` bytes, or null at a clean end of input before any of them; a partial read is truncation. */
  async read(n: number, what: string): Promise<Buffer | null> {
    while (this.buffered.length < n) {
      const step = await this.chunks.next();
      if (step.done) {
        if (this.buffered.length === 0) return null;
        throw truncated(`${what} at byte ${this.offset}`);
      }
      this.buffered = this.buffered.length === 0 ? step.value : Buffer.concat([this.buffered, step.value]);
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    this.offset += n;
    return out;
  }

  async need(n: number, what: string): Promise<Buffer> {
    const bytes = await this.read(n, what);
    if (bytes === null) throw truncated(`${what} at byte ${this.offset}`);
    return bytes;
  }
}

function truncated(where: string): BackupError {
  return new BackupError('backup.truncated', `The archive ends early (in ${where}): it was cut off while being written or copied.`);
}

export interface ContainerEntry {
  name: string;
  /** The entry's bytes, frame by frame; must be read to the end (or `skip`ped) before the next entry. */
  content: AsyncIterable<Buffer>;
  /** The entry's size and SHA-256, known once its content has been read and its digest checked. */
  digest(): EntryDigest;
}

/**
 * Reads a container entry by entry. Each entry's digest is checked when its content ends, before
 * the next entry is offered; the sequence ends only at the end marker with no bytes after it.
 */
export async function* readContainer(source: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<ContainerEntry> {
  const input = new ByteSource(source);
  const magic = await input.read(MAGIC.length, 'the header');
  if (magic === null) throw new BackupError('backup.truncated', 'The archive is empty.');
  if (!magic.equals(MAGIC)) throw new BackupError('backup.not_an_archive', 'This is not a Fieldkeep backup (its first bytes are not FKBACKUP1); if it is encrypted, give --identity or --passphrase-file.');
  for (;;) {
    const tag = await input.need(1, 'an entry header');
    if (tag[0] === END) {
      if ((await input.read(1, 'the end')) !== null) throw new BackupError('backup.corrupt', 'The archive has bytes after its end marker.');
      return;
    }
    if (tag[0] !== ENTRY) throw new BackupError('backup.corrupt', `The archive is damaged at byte ${input.offset - 1} (expected an entry).`);
    const nameLength = (await input.need(2, 'an entry header')).readUInt16BE();
    if (nameLength === 0 || nameLength > MAX_NAME_BYTES) throw new BackupError('backup.corrupt', `The archive is damaged at byte ${input.offset} (an entry name of ${nameLength} bytes).`);
    const name = (await input.need(nameLength, 'an entry name')).toString('utf8');
    let finished: EntryDigest | undefined;
    let consumed = false;
    const content = async function* (): AsyncGenerator<Buffer> {
      if (consumed) throw new Error(`entry ${name} was already read`);
      consumed = true;
      const hash = createHash('sha256');
      let size = 0;
      for (;;) {
        const length = (await input.need(4, `entry ${name}`)).readUInt32BE();
        if (length === 0) break;
        if (length > MAX_FRAME_BYTES) throw new BackupError('backup.corrupt', `The archive is damaged in entry ${name} (a frame of ${length} bytes).`);
        const frame = await input.need(length, `entry ${name}`);
        hash.update(frame);
        size += length;
        yield frame;
      }
      const expected = await input.need(DIGEST_BYTES, `entry ${name}`);
      const actual = hash.digest();
      if (!actual.equals(expected)) throw new BackupError('backup.corrupt', `Entry ${name} does not match its checksum: the archive was altered or damaged.`);
      finished = { name, size, sha256: actual.toString('hex') };
    };
    const entry: ContainerEntry = {
      name,
      content: { [Symbol.asyncIterator]: () => content() },
      digest: () => {
        if (finished === undefined) throw new Error(`entry ${name} has not been read to its end`);
        return finished;
      },
    };
    yield entry;
    if (!consumed) for await (const _ of entry.content);
    if (finished === undefined) throw new Error(`entry ${name} was left part-read`);
  }
}

/** Splits a stream of bytes into text lines (UTF-8, LF), for the JSON-lines entries. */
export async function* lines(content: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest = '';
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of content) {
    const text = rest + decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) yield line;
  }
  rest += decoder.decode();
  if (rest !== '') yield rest;
}

/** Groups small pieces (one JSON line each) into chunks of about `size` bytes. */
export async function* batched(pieces: AsyncIterable<string>, size = 256 * 1024): AsyncGenerator<Buffer> {
  let parts: string[] = [];
  let length = 0;
  for await (const piece of pieces) {
    parts.push(piece);
    length += piece.length;
    if (length >= size) {
      yield Buffer.from(parts.join(''), 'utf8');
      parts = [];
      length = 0;
    }
  }
  if (parts.length > 0) yield Buffer.from(parts.join(''), 'utf8');
}
