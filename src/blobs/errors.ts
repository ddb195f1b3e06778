export type BlobErrorCode = 'blob.too_large' | 'blob.not_found' | 'blob.corrupt' | 'blob.bad_id';

export class BlobError extends Error {
  constructor(
    readonly code: BlobErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BlobError';
  }
}
