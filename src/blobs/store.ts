import type { Readable } from 'node:stream';

export interface StoredBlob {
  /** The blob's address: HMAC-SHA256 of its content under a key derived from the server secret, hex. */
  id: string;
  size: number;
  /** Plain digests of the content, for checksums clients compare (OpenRosa `md5:`) and backups. */
  md5: string;
  sha256: string;
}

export interface PutOptions {
  /** Refuse (and store nothing) once the content exceeds this many bytes. */
  maxBytes?: number;
}

/**
 * Where attachments, form files and media live: outside the database, encrypted at rest,
 * addressed by content so a re-sent file is stored once. `put` resolves only once the content is
 * durable, so a caller may acknowledge the upload when it returns.
 */
export interface BlobStore {
  /** A stream source (a Readable, a generator) is destroyed if the put stops reading it early. */
  put(content: AsyncIterable<Buffer> | Buffer, options?: PutOptions): Promise<StoredBlob>;
  /**
   * The content, decrypted and authenticated as it streams: a missing or wrong master key, or a
   * damaged header, rejects; damaged content errors the stream, and no byte of a damaged segment is released.
   */
  get(id: string): Promise<Readable>;
  has(id: string): Promise<boolean>;
  /**
   * Deletes the blob unless `inUse` says a record names it, or it was written within `graceMs`
   * (a request that wrote it may not have committed its record yet). Safe against a concurrent
   * `put` of the same content, in this process or another.
   */
  deleteUnlessInUse(id: string, check: DeleteCheck): Promise<DeleteOutcome>;
}

export interface DeleteCheck {
  inUse(): Promise<boolean>;
  graceMs: number;
}

export type DeleteOutcome = 'deleted' | 'in_use' | 'recent' | 'absent';
