/**
 * Opening an archive for reading, wherever it is: what its first bytes say it is (age-encrypted or
 * a plain container) decides whether it is decrypted on the fly.
 */
import { Readable } from 'node:stream';
import { MAGIC } from './container.js';
import { AGE_MAGIC, decryptionError, decryptStream, type DecryptWith } from './encryption.js';
import { BackupError } from './errors.js';
import type { BackupLocation } from './location.js';

const HEAD_BYTES = Math.max(AGE_MAGIC.length, MAGIC.length);

/** An archive to read: where it is, and its name there. */
export interface ArchiveSource {
  location: BackupLocation;
  file: string;
}

/** The archive's container bytes, decrypted on the fly when it is age-encrypted. */
export async function openArchive(source: ArchiveSource, keys: DecryptWith): Promise<AsyncIterable<Buffer>> {
  const stream = await source.location.read(source.file);
  const { head, whole } = await peek(stream, HEAD_BYTES);
  if (head.subarray(0, AGE_MAGIC.length).equals(AGE_MAGIC)) {
    try {
      return withDecryptionErrors(await decryptStream(Readable.from(whole), keys));
    } catch (err) {
      stream.destroy();
      throw err;
    }
  }
  if (head.subarray(0, MAGIC.length).equals(MAGIC) || head.length < MAGIC.length) return whole;
  stream.destroy();
  throw new BackupError('backup.not_an_archive', `${source.location.describe(source.file)} is neither an age-encrypted file nor a Fieldkeep backup.`);
}

/** The first `count` bytes of a stream (fewer if it is shorter), and all of it again from the start. */
async function peek(stream: Readable, count: number): Promise<{ head: Buffer; whole: AsyncIterable<Buffer> }> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const seen: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < count) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    seen.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(seen).subarray(0, count);
  const whole = (async function* () {
    for (const chunk of seen.splice(0)) yield chunk;
    if (ended) return;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  })();
  return { head, whole };
}

/** Failures inside the decrypting stream (damage, truncation) surface as backup errors. */
async function* withDecryptionErrors(plain: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of plain) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
  } catch (err) {
    throw decryptionError(err);
  }
}
