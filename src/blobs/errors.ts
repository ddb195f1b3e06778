export type BlobErrorCode =
  | 'blob.too_large'
  | 'blob.not_found'
  | 'blob.corrupt'
  | 'blob.bad_id'
  /** No master key is available (none configured, and no key file), or its file cannot be read. */
  | 'blob.master_key_missing'
  /** A master key (setting or key file) is not 32 bytes in base64, base64url or hex. */
  | 'blob.master_key_invalid'
  /** A blob, or the store's record of keys in use, needs a master key this process does not have. */
  | 'blob.master_key_unknown'
  /** Another process is rotating the master key or encrypting old files in this store. */
  | 'blob.maintenance_running'
  /** `master-key rotate` with FIELDKEEP_MASTER_KEY set but no previous key to rotate from. */
  | 'blob.rotation_needs_previous'
  /** `master-key rotate` with the generated key file while a server uses the store. */
  | 'blob.server_running';

export class BlobError extends Error {
  constructor(
    readonly code: BlobErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BlobError';
  }
}
