/**
 * Archive files on disk: written under a temporary name, synced, then renamed into place (a crash
 * leaves a whole archive or a `.partial` one, never a short file under the final name); opened for
 * reading by what their first bytes say they are (age-encrypted or a plain container).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { MAGIC } from './container.js';
import { AGE_MAGIC, decryptionError, decryptStream, type DecryptWith } from './encryption.js';
import { BackupError } from './errors.js';

async function firstBytes(file: string, count: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BackupError('backup.not_an_archive', `There is no file ${file}.`);
    throw err;
  }
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The archive's container bytes, decrypted on the fly when the file is age-encrypted. */
export async function openArchive(file: string, keys: DecryptWith): Promise<AsyncIterable<Buffer>> {
  const head = await firstBytes(file, Math.max(AGE_MAGIC.length, MAGIC.length));
  if (head.subarray(0, AGE_MAGIC.length).equals(AGE_MAGIC)) return withDecryptionErrors(await decryptStream(createReadStream(file), keys));
  if (head.subarray(0, MAGIC.length).equals(MAGIC) || head.length < MAGIC.length) return createReadStream(file);
  throw new BackupError('backup.not_an_archive', `${path.basename(file)} is neither an age-encrypted file nor a Fieldkeep backup.`);
}

/** Failures inside the decrypting stream (damage, truncation) surface as backup errors. */
async function* withDecryptionErrors(plain: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of plain) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
  } catch (err) {
    throw decryptionError(err);
  }
}

/**
 * Lets `write` fill `<file>.partial`, then syncs it and renames it to `file`; on failure the
 * partial file is removed. Returns what `write` returned.
 */
export async function writeAtomically<T>(file: string, write: (sink: Writable) => Promise<T>): Promise<T> {
  const partial = `${file}.partial`;
  try {
    const result = await write(createWriteStream(partial, { flags: 'wx', mode: 0o600 }));
    const handle = await open(partial, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, file);
    const dir = await open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return result;
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}
