/*
 * Spools: where the rows of a repeat table wait, on disk, while the main table is streamed, so an
 * export reads the database once and still writes each table as one file or sheet, with memory
 * that stays flat. Each spool is encrypted (AES-256-CTR) with a key that exists only in this
 * process's memory: a crash leaves nothing readable behind, like the rest of the data at rest.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { send } from './streams.js';

const CIPHER = 'aes-256-ctr';

export class Spool {
  private readonly key = randomBytes(32);
  private readonly iv = randomBytes(16);
  /** Where the spooled bytes are written; ending it finishes the file (`written`). */
  readonly input = createCipheriv(CIPHER, this.key, this.iv);
  /** Settles once the file is complete (after `input` has ended) or has failed. */
  readonly written: Promise<void>;

  constructor(private readonly file: string) {
    this.written = pipeline(this.input, createWriteStream(file, { mode: 0o600 }));
    // Failures surface through `finish` or `written`; this keeps an early one from being unhandled meanwhile.
    this.written.catch(() => {});
  }

  write(text: string): Promise<void> {
    return send(this.input, text);
  }

  async finish(): Promise<void> {
    this.input.end();
    await this.written;
  }

  remove(): Promise<void> {
    return rm(this.file, { force: true });
  }

  /** The spooled text, decrypted; call after `finish`. */
  read(): Readable {
    const decipher = createDecipheriv(CIPHER, this.key, this.iv);
    const file = createReadStream(this.file);
    file.on('error', (error) => decipher.destroy(error));
    return file.pipe(decipher);
  }
}

/** A private directory for one export's spools, removed with everything in it by `remove`. */
export class SpoolDirectory {
  private count = 0;

  private constructor(readonly dir: string) {}

  static async create(dataDir: string): Promise<SpoolDirectory> {
    const parent = path.join(dataDir, 'tmp');
    await mkdir(parent, { recursive: true, mode: 0o700 });
    return new SpoolDirectory(await mkdtemp(path.join(parent, 'export-')));
  }

  spool(): Spool {
    this.count += 1;
    return new Spool(path.join(this.dir, `${this.count}.spool`));
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}
