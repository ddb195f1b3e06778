/**
 * The archive's outer layer: the age format (age-encryption.org/v1), to X25519 recipients and/or a
 * passphrase, so the stock `age` tool decrypts it. Streams both ways: memory holds one 64 KiB
 * chunk of the STREAM construction at a time.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { BackupError } from './errors.js';

type Age = typeof import('age-encryption');

let age: Promise<Age> | undefined;

/** age-encryption (and the curves and ciphers under it) is loaded with the first backup: a few MB a server that takes none never needs. */
function loadAge(): Promise<Age> {
  age ??= import('age-encryption');
  age.catch(() => (age = undefined));
  return age;
}

export const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n', 'latin1');
const RECIPIENT_PATTERN = /^age1[02-9ac-hj-np-z]{58}$/;
const IDENTITY_PATTERN = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

export interface EncryptTo {
  /** X25519 public keys, `age1…`. */
  recipients: readonly string[];
  passphrase?: string | undefined;
  /** scrypt work factor (log2) for a passphrase; age's default is 18. */
  scryptWorkFactor?: number;
}

export interface DecryptWith {
  identities: readonly string[];
  passphrases: readonly string[];
}

export function checkRecipient(text: string): string {
  const recipient = text.trim();
  if (!RECIPIENT_PATTERN.test(recipient)) throw new BackupError('backup.bad_recipient', `${JSON.stringify(recipient.slice(0, 80))} is not an age X25519 recipient (age1… as age-keygen prints it).`);
  return recipient;
}

/** The secret keys in an age identity file as age-keygen writes it (comments and blank lines skipped). */
export function parseIdentityFile(text: string): string[] {
  const keys = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (keys.length === 0 || !keys.every((k) => IDENTITY_PATTERN.test(k))) {
    throw new BackupError('backup.bad_identity', 'The identity file must hold AGE-SECRET-KEY-1… lines, as age-keygen writes them.');
  }
  return keys;
}

/**
 * A web stream that reads its source only when asked. Node 20's `Readable.toWeb` queues by chunk
 * count with the byte high-water mark as the count, so a fast file read runs ahead of a slower
 * consumer and buffers the whole archive in memory; this one holds no chunk beyond the one asked for.
 */
function pulled(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      async cancel(reason) {
        await chunks.return?.(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * age encrypts to recipients or to one passphrase, not both in one file (the passphrase stanza
 * must be alone); a backup with both is refused here rather than failing deep in the library.
 */
export async function encryptStream(plain: Readable, to: EncryptTo): Promise<Readable> {
  const { Encrypter } = await loadAge();
  const encrypter = new Encrypter();
  if (to.passphrase !== undefined) {
    if (to.recipients.length > 0) throw new BackupError('backup.encryption_required', 'age encrypts a file to recipients or to a passphrase, not both: choose one.');
    if (to.scryptWorkFactor !== undefined) encrypter.setScryptWorkFactor(to.scryptWorkFactor);
    encrypter.setPassphrase(to.passphrase);
  }
  for (const recipient of to.recipients) encrypter.addRecipient(checkRecipient(recipient));
  const sealed = await encrypter.encrypt(pulled(plain));
  return Readable.fromWeb(sealed as unknown as WebReadableStream<Uint8Array>);
}

/** Decrypts an age stream; a wrong key fails here, damage or truncation fails the returned stream. */
export async function decryptStream(sealed: Readable, keys: DecryptWith): Promise<Readable> {
  if (keys.identities.length === 0 && keys.passphrases.length === 0) {
    throw new BackupError('backup.key_required', 'This backup is encrypted with age: give --identity FILE (the private key) or --passphrase-file FILE.');
  }
  const { Decrypter } = await loadAge();
  const decrypter = new Decrypter();
  for (const identity of keys.identities) decrypter.addIdentity(identity);
  for (const passphrase of keys.passphrases) decrypter.addPassphrase(passphrase);
  let plain: ReadableStream<Uint8Array>;
  try {
    plain = await decrypter.decrypt(pulled(sealed));
  } catch (err) {
    throw decryptionError(err);
  }
  const out = Readable.fromWeb(plain as unknown as WebReadableStream<Uint8Array>);
  return out;
}

/** What a failure inside age means for the operator. */
export function decryptionError(err: unknown): unknown {
  if (err instanceof BackupError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/no identity matched|invalid header HMAC|incorrect|scrypt/i.test(message)) {
    return new BackupError('backup.wrong_key', 'None of the given identities or passphrases can decrypt this backup: it was encrypted to another key.');
  }
  if (/invalid (version|header|stanza)/i.test(message)) return new BackupError('backup.corrupt', `The age header of the backup is damaged (${message}).`);
  return new BackupError('backup.corrupt', `The encrypted backup failed authentication: it was damaged, truncated or altered (${message}).`);
}
