/** Stable codes for every way encrypted data or key material can be refused. */
export type CryptoErrorCode =
  | 'crypto.bad_manifest'
  | 'crypto.bad_key'
  | 'crypto.bad_padding'
  | 'crypto.truncated'
  | 'crypto.missing_file'
  | 'crypto.unknown_file'
  | 'crypto.signature_mismatch'
  | 'crypto.signature_missing'
  | 'crypto.bad_private_key'
  | 'crypto.bad_public_key'
  | 'crypto.bad_input'
  | 'crypto.wrong_passphrase'
  | 'crypto.weak_passphrase'
  | 'crypto.bad_wrapped_key'
  | 'crypto.weak_kdf_parameters'
  | 'crypto.bad_sealed_key';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
  ) {
    super(message);
  }
}
