/**
 * The blob file formats.
 *
 * Version 2 (written now): a header, then the content sealed in segments (sealed-stream.ts) under
 * a data key of the blob's own.
 *   magic          8 bytes  "FKBLOB2\n"
 *   master key id  8 bytes  which master key wrapped the data key (master-key.ts)
 *   nonce prefix   7 bytes  random, the first bytes of every segment's nonce (4-byte counter after it)
 *   wrap nonce    12 bytes  random
 *   wrapped key   48 bytes  AES-256-GCM of the 32-byte data key under the master key's wrapping
 *                           key, with its tag; additional data: the 23 bytes above and the blob's
 *                           id (32 bytes)
 * Binding the id means a file moved to another blob's name fails before any content is released,
 * and a changed key id or nonce prefix fails the unwrap. Rotating the master key rewrites only the
 * header: the data key, and so the sealed content, stay as they are.
 *
 * Version 1 (read only, written before master keys): "FKBLOB1\n", a 16-byte salt, then segments
 * under HKDF-SHA256(key derived from the server secret, salt, "fieldkeep blob v1"), nonce prefix
 * five zero bytes (a 6-byte counter). `fieldkeep blobs encrypt` turns these into version 2.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { BlobError } from './errors.js';
import { KEY_ID_BYTES, type Keyring, type MasterKey } from './master-key.js';
import { SegmentCipher, type SealHeader } from './sealed-stream.js';

export const MAGIC_V1 = Buffer.from('FKBLOB1\n', 'latin1');
export const MAGIC_V2 = Buffer.from('FKBLOB2\n', 'latin1');
const MAGIC_BYTES = 8;
const PREFIX_BYTES = 7;
const WRAP_NONCE_BYTES = 12;
const DATA_KEY_BYTES = 32;
const TAG_BYTES = 16;
const KEY_ID_AT = MAGIC_BYTES;
const PREFIX_AT = KEY_ID_AT + KEY_ID_BYTES;
const WRAP_NONCE_AT = PREFIX_AT + PREFIX_BYTES;
const WRAPPED_AT = WRAP_NONCE_AT + WRAP_NONCE_BYTES;
export const HEADER_BYTES = WRAPPED_AT + DATA_KEY_BYTES + TAG_BYTES;
const V1_SALT_BYTES = 16;
export const V1_HEADER_BYTES = MAGIC_BYTES + V1_SALT_BYTES;

export type BlobFormat = 'v1' | 'v2';

/** Which format a file starting with `head` is in, or null for neither. */
export function formatOf(head: Buffer): BlobFormat | null {
  if (head.length >= HEADER_BYTES && head.subarray(0, MAGIC_BYTES).equals(MAGIC_V2)) return 'v2';
  if (head.length >= V1_HEADER_BYTES && head.subarray(0, MAGIC_BYTES).equals(MAGIC_V1)) return 'v1';
  return null;
}

/** The master key id a version 2 header names. */
export function keyIdOf(header: Buffer): string {
  return header.subarray(KEY_ID_AT, PREFIX_AT).toString('hex');
}

function idBytes(blobId: string): Buffer {
  return Buffer.from(blobId, 'hex');
}

function wrap(master: MasterKey, fields: Buffer, dataKey: Buffer, blobId: string): Buffer {
  const nonce = randomBytes(WRAP_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', master.wrapKey, nonce);
  cipher.setAAD(Buffer.concat([fields, idBytes(blobId)]));
  return Buffer.concat([fields, nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
}

/**
 * A new blob's data key and nonce prefix (one random draw), and its header: a placeholder of the
 * same size while the content streams, the real one once the content, and so the id, is complete.
 */
export function newBlobKey(master: MasterKey, blobIdAtEnd: () => string): { cipher: SegmentCipher; header: SealHeader } {
  const material = randomBytes(DATA_KEY_BYTES + PREFIX_BYTES);
  const dataKey = material.subarray(0, DATA_KEY_BYTES);
  const prefix = material.subarray(DATA_KEY_BYTES);
  return {
    cipher: new SegmentCipher(dataKey, prefix),
    header: {
      provisional: () => Buffer.alloc(HEADER_BYTES),
      final: () => wrap(master, Buffer.concat([MAGIC_V2, master.idBytes, prefix]), dataKey, blobIdAtEnd()),
    },
  };
}

/** The data key in a version 2 header, unwrapped: the cipher of its content. */
export function openHeader(header: Buffer, keyring: Keyring, blobId: string): SegmentCipher {
  const dataKey = unwrap(header, keyring, blobId);
  return new SegmentCipher(dataKey, Buffer.from(header.subarray(PREFIX_AT, WRAP_NONCE_AT)));
}

/** The same header with its data key wrapped under `to` instead: what rotation writes. */
export function rewrapHeader(header: Buffer, keyring: Keyring, to: MasterKey, blobId: string): Buffer {
  const dataKey = unwrap(header, keyring, blobId);
  return wrap(to, Buffer.concat([MAGIC_V2, to.idBytes, header.subarray(PREFIX_AT, WRAP_NONCE_AT)]), dataKey, blobId);
}

function unwrap(header: Buffer, keyring: Keyring, blobId: string): Buffer {
  const keyId = keyIdOf(header);
  const master = keyring.get(keyId);
  if (master === undefined) {
    throw new BlobError('blob.master_key_unknown', `Blob ${blobId} is encrypted under master key ${keyId}, which is not configured here (this server has ${keyring.ids.join(', ')}).`);
  }
  const decipher = createDecipheriv('aes-256-gcm', master.wrapKey, header.subarray(WRAP_NONCE_AT, WRAPPED_AT));
  decipher.setAAD(Buffer.concat([header.subarray(0, WRAP_NONCE_AT), idBytes(blobId)]));
  decipher.setAuthTag(header.subarray(WRAPPED_AT + DATA_KEY_BYTES, HEADER_BYTES));
  try {
    return Buffer.concat([decipher.update(header.subarray(WRAPPED_AT, WRAPPED_AT + DATA_KEY_BYTES)), decipher.final()]);
  } catch {
    throw new BlobError('blob.corrupt', `Blob ${blobId}'s header failed authentication: the file was altered, or it is another blob's file.`);
  }
}

/** The key that sealed version 1 blobs, derived from the server secret. */
export function legacyKey(secretKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'fieldkeep blob seal', 32));
}

/** The cipher of a version 1 blob's content, from its header. */
export function openLegacyHeader(header: Buffer, key: Buffer): SegmentCipher {
  const salt = header.subarray(MAGIC_BYTES, V1_HEADER_BYTES);
  return new SegmentCipher(Buffer.from(hkdfSync('sha256', key, salt, 'fieldkeep blob v1', 32)), Buffer.alloc(5));
}
