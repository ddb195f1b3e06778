import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fdatasync, fstat, fsync, open, openSync, read, write } from 'node:fs';
import { link, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobError } from './errors.js';
import { formatOf, HEADER_BYTES, legacyKey, newBlobKey, openHeader, openLegacyHeader, V1_HEADER_BYTES } from './format.js';
import { keysInUseDir } from './keys.js';
import type { Keyring, MasterKey } from './master-key.js';
import { OpenStream, Sealer, type SegmentCipher } from './sealed-stream.js';
import type { BlobStore, DeleteCheck, DeleteOutcome, PutOptions, StoredBlob } from './store.js';

const ID_PATTERN = /^[0-9a-f]{64}$/;

/** Counts and digests the plaintext on its way to the cipher, and enforces the size limit. */
class Measure {
  private size = 0;
  private readonly address: ReturnType<typeof createHmac>;
  private readonly md5 = createHash('md5');
  private readonly sha256 = createHash('sha256');
  private done: StoredBlob | undefined;

  constructor(
    addressKey: Buffer,
    private readonly maxBytes: number,
  ) {
    this.address = createHmac('sha256', addressKey);
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) throw new BlobError('blob.too_large', `The content is larger than ${this.maxBytes} bytes.`);
    this.address.update(chunk);
    this.md5.update(chunk);
    this.sha256.update(chunk);
  }

  /** Called once the content has ended, before the sealer's end, which needs the id for the header. */
  end(): void {
    this.done = { id: this.address.digest('hex'), size: this.size, md5: this.md5.digest('hex'), sha256: this.sha256.digest('hex') };
  }

  result(): StoredBlob {
    if (this.done === undefined) throw new Error('the content has not ended');
    return this.done;
  }
}

/**
 * The local-directory blob store: `<root>/<id[0:2]>/<id[2:4]>/<id>`, written to a temporary file,
 * fdatasynced, then renamed into place and the directory fsynced, so a crash leaves either the
 * whole blob or none. Content is sealed under a data key of each blob's own, wrapped by the
 * keyring's current master key (format.ts); ids are keyed hashes under a key derived from the
 * server secret. No key comes from the database.
 *
 * Deleting content-addressed files races with uploads of the same content: a request may have
 * written the file (or found it) and not yet committed the record that names it when a purge finds
 * no record. `deleteUnlessInUse` therefore first moves the file aside (a `put` from then on writes a
 * new one), then keeps it if it was written within the grace period (every `put` replaces the
 * file, so its mtime is the last upload's) or if a record names it now; only then is it removed.
 * A request that wrote the file before the move has, after the grace period, either committed
 * (and the check sees its record) or failed. Files a crash left aside are put back first.
 */
export class FsBlobStore implements BlobStore {
  /** Opens version 1 blobs, written before master keys (format.ts). */
  private readonly legacyKey: Buffer;
  private readonly addressKey: Buffer;
  /** Directories known to exist: a put then costs no mkdir (a hot path for phone submissions). */
  private readonly knownDirs = new Set<string>();
  /** Master key ids this process has seen recorded in `keys/` (keys.ts). */
  private readonly keysRecorded = new Set<string>();
  /**
   * Temporary files are named by this store's random prefix and a count: as unique as a random
   * name per file (which another process's store cannot take either), without a draw per file.
   */
  private readonly tmpPrefix = randomBytes(12).toString('hex');
  private tmpCount = 0;

  constructor(
    readonly root: string,
    secretKey: string,
    readonly keyring: Keyring,
  ) {
    this.legacyKey = legacyKey(secretKey);
    this.addressKey = Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'fieldkeep blob address', 32));
  }

  async put(content: AsyncIterable<Buffer> | Buffer, options: PutOptions = {}): Promise<StoredBlob> {
    const measure = new Measure(this.addressKey, options.maxBytes ?? Number.MAX_SAFE_INTEGER);
    return this.write(Buffer.isBuffer(content) ? [content] : content, measure, async (blob, tmp) => {
      const final = this.pathOf(blob.id);
      await this.ensureDir(path.dirname(final));
      // Content that is already stored is simply replaced by the same content sealed anew: one
      // rename costs less than asking first, and either file is whole whenever a crash comes.
      await rename(tmp, final);
      await fsyncDirectory(path.dirname(final));
    });
  }

  /**
   * Seals `source` into a temporary file and hands it to `place` (which must move it away). The
   * master key is recorded as in use before any file under it can be in place. The content is
   * measured, sealed and written in one loop, not a pipeline of streams: a submission stores two
   * blobs, and the streams' machinery cost more than the hashing and sealing (profiles of the
   * submission benchmark). Leaving the loop early (a limit, an error) destroys a stream source.
   */
  private async write(source: AsyncIterable<Buffer> | Iterable<Buffer>, measure: Measure, place: (blob: StoredBlob, tmp: string) => Promise<void>): Promise<StoredBlob> {
    const master = this.keyring.current;
    const tmpDir = path.join(this.root, 'tmp');
    await this.ensureDir(tmpDir);
    const tmp = path.join(tmpDir, `${this.tmpPrefix}-${(this.tmpCount++).toString(36)}`);
    try {
      // The header binds the id, which the measure knows once the content has ended.
      const key = newBlobKey(master, () => measure.result().id);
      const sealer = new Sealer(key.cipher, key.header);
      await writeDurably(tmp, async (fd) => {
        for await (const chunk of source) {
          measure.update(chunk);
          const sealed = sealer.push(chunk);
          if (sealed !== undefined) await writeAll(fd, sealed);
        }
        measure.end();
        await writeAll(fd, sealer.end());
        // Content longer than a segment left before its id was known: the real header goes over the placeholder.
        if (sealer.provisional) await writeAll(fd, key.header.final(), 0);
      });
      const blob = measure.result();
      await this.recordKeyInUse(master);
      await place(blob, tmp);
      return blob;
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(id: string): Promise<Readable> {
    const file = this.pathOf(id);
    let fd: number;
    try {
      fd = await openFile(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobError('blob.not_found', `No blob ${id}.`);
      throw err;
    }
    try {
      // The header is checked (and the data key unwrapped) before anything is returned, so a wrong
      // key or a damaged header is an error here, not a stream that fails at its first byte.
      const { cipher, start } = await this.cipherOf(fd, id);
      const opened = new OpenStream(cipher);
      const source = createReadStream('', { fd, start });
      source.on('error', (err) => opened.destroy(err));
      return source.pipe(opened);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** The cipher of the blob open on `fd`, and where its sealed content starts. */
  private async cipherOf(fd: number, id: string): Promise<{ cipher: SegmentCipher; start: number }> {
    const head = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await readFile(fd, head, 0, HEADER_BYTES, 0);
    switch (formatOf(head.subarray(0, bytesRead))) {
      case 'v2':
        return { cipher: openHeader(head, this.keyring, id), start: HEADER_BYTES };
      case 'v1':
        return { cipher: openLegacyHeader(head, this.legacyKey), start: V1_HEADER_BYTES };
      case null:
        throw new BlobError('blob.corrupt', `Blob ${id} is not a Fieldkeep blob file (or is cut short before its header ends).`);
    }
  }

  /**
   * Re-seals a version 1 file (`file`, relative to the root, named for blob `id`) under the current
   * master key, in place: a new file, renamed over the old one. Returns false, changing nothing,
   * when the file is not version 1 or was removed or replaced meanwhile.
   */
  async encryptLegacy(file: string, id: string): Promise<boolean> {
    const absolute = path.join(this.root, file);
    let fd: number;
    try {
      fd = await openFile(absolute, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    let source: Readable;
    let inode: number;
    try {
      const head = Buffer.alloc(V1_HEADER_BYTES);
      const { bytesRead } = await readFile(fd, head, 0, V1_HEADER_BYTES, 0);
      if (formatOf(head.subarray(0, bytesRead)) !== 'v1') {
        closeSync(fd);
        return false;
      }
      inode = (await statFd(fd)).ino;
      const opened = new OpenStream(openLegacyHeader(head, this.legacyKey));
      const raw = createReadStream('', { fd, start: V1_HEADER_BYTES });
      raw.on('error', (err) => opened.destroy(err));
      source = raw.pipe(opened);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    let replaced = true;
    try {
      await this.write(source, new Measure(this.addressKey, Number.MAX_SAFE_INTEGER), async (blob, tmp) => {
        if (blob.id !== id) throw new BlobError('blob.corrupt', `The file ${file} holds the content of blob ${blob.id}, not of ${id}: it was moved or swapped.`);
        // Only over the file that was read: one a purge moved away meanwhile must not come back.
        const now = await stat(absolute).catch(() => undefined);
        if (now?.ino !== inode) {
          replaced = false;
          await rm(tmp, { force: true });
          return;
        }
        await rename(tmp, absolute);
        await fsyncDirectory(path.dirname(absolute));
      });
    } finally {
      source.destroy();
    }
    return replaced;
  }

  async has(id: string): Promise<boolean> {
    return exists(this.pathOf(id));
  }

  async deleteUnlessInUse(id: string, check: DeleteCheck): Promise<DeleteOutcome> {
    const final = this.pathOf(id);
    if (await check.inUse()) return 'in_use';
    await this.restoreSetAside();
    const aside = path.join(this.asideDir, `${id}.${randomBytes(6).toString('hex')}`);
    await this.ensureDir(this.asideDir);
    try {
      await rename(final, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      throw err;
    }
    const written = (await stat(aside)).mtimeMs;
    const outcome = Date.now() - written < check.graceMs ? 'recent' : (await check.inUse()) ? 'in_use' : 'deleted';
    if (outcome === 'deleted') await rm(aside, { force: true });
    else await putBack(aside, final);
    return outcome;
  }

  /** Puts back files a crashed deletion left aside; a file written since under the same name wins. */
  private async restoreSetAside(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.asideDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      const id = name.split('.')[0]!;
      if (!ID_PATTERN.test(id)) continue;
      await this.ensureDir(path.dirname(this.pathOf(id)));
      await putBack(path.join(this.asideDir, name), this.pathOf(id));
    }
  }

  private get asideDir(): string {
    return path.join(this.root, 'deleting');
  }

  /**
   * Creates `dir` if needed. A directory made here is only durable once its parent is fsynced, so
   * every parent that gained an entry is; the caller fsyncs `dir` itself for what it puts there.
   */
  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const firstCreated = await mkdir(dir, { recursive: true, mode: 0o700 });
    // Every directory made, from `dir` up to the first one created, is an entry in its parent.
    for (let made = dir; firstCreated !== undefined; made = path.dirname(made)) {
      await fsyncDirectory(path.dirname(made));
      if (made === firstCreated) break;
    }
    this.knownDirs.add(dir);
  }

  /** Notes in `keys/` that files under `master` exist (once per process and key: then it is known). */
  async recordKeyInUse(master: MasterKey): Promise<void> {
    if (this.keysRecorded.has(master.id)) return;
    const dir = keysInUseDir(this.root);
    await this.ensureDir(dir);
    closeSync(await openFile(path.join(dir, master.id), 'a', 0o600));
    await fsyncDirectory(dir);
    this.keysRecorded.add(master.id);
  }

  private pathOf(id: string): string {
    if (!ID_PATTERN.test(id)) throw new BlobError('blob.bad_id', 'A blob id is 64 lowercase hex characters.');
    return path.join(this.root, id.slice(0, 2), id.slice(2, 4), id);
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Links `aside` back to `final` unless a newer copy of the same content is there; then drops `aside`. */
async function putBack(aside: string, final: string): Promise<void> {
  try {
    await link(aside, final);
    await fsyncDirectory(path.dirname(final));
  } catch (err) {
    // EEXIST: a newer copy is in place; ENOENT: another process's purge put this one back already.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOENT') throw err;
  }
  await rm(aside, { force: true });
}

/*
 * File descriptors rather than fs/promises FileHandles on the write path: a blob is written for
 * every attachment a phone sends, and a FileHandle's open, write and close each cost the event
 * loop noticeably more than the plain calls (profiles of the submission benchmark). Closing a
 * file, and opening a directory to fsync it, wait for no disk: they are made synchronously, since
 * a round trip through the thread pool costs about 20 µs of CPU, ten times the call itself.
 */
const openFile = promisify(open);
const readFile = promisify(read);
const writeFile = promisify(write);
const statFd = promisify(fstat);
const syncData = promisify(fdatasync);
const syncAll = promisify(fsync);

/**
 * Creates the file and lets `produce` write content into it on that one descriptor; returns once
 * the content is on disk. fdatasync suffices for a file's content: the rename that names it is
 * made durable by the directory's fsync.
 */
async function writeDurably(file: string, produce: (fd: number) => Promise<void>): Promise<void> {
  const fd = await openFile(file, 'wx', 0o600);
  try {
    await produce(fd);
    await syncData(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `chunk` at `position`, or at the file's current offset when null. */
async function writeAll(fd: number, chunk: Buffer, position: number | null = null): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    offset += (await writeFile(fd, chunk, offset, chunk.length - offset, position === null ? null : position + offset)).bytesWritten;
  }
}

/** A directory's new entry needs a full fsync of the directory. */
async function fsyncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await syncAll(fd);
  } finally {
    closeSync(fd);
  }
}
