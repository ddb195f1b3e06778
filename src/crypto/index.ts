/*
 * ODK envelope encryption and Fieldkeep key wrapping. Pure and platform-neutral: WebCrypto
 * (globalThis.crypto) for RSA-OAEP and AES-GCM, @noble for AES-CFB, SHA-256 and scrypt, md5.ts
 * for MD5; no Node built-ins, so the server, the CLI and the browser bundle run the same code.
 */
export { CryptoError } from './errors.js';
export type { CryptoErrorCode } from './errors.js';
export { constantTimeEqual, fromBase64, fromUtf8, toBase64, toHex, utf8 } from './bytes.js';
export {
  RSA_KEY_SIZES,
  generatePrivateKey,
  loadPrivateKey,
  loadPublicKey,
  privateKeyToPem,
  privateKeyToPkcs8,
  publicKeyToBase64Spki,
  publicKeyToPem,
  sameKeyPair,
} from './keys.js';
export type { OdkPrivateKey, OdkPublicKey } from './keys.js';
export { rsaOaepDecrypt, rsaOaepEncrypt } from './rsa-oaep.js';
export { AES_KEY_LENGTH, BLOCK_LENGTH, FileDecryptor, FileEncryptor, cipherAll, cipherChunks } from './aes-cfb.js';
export type { IncrementalCipher } from './aes-cfb.js';
export { ivSeed, submissionIvs } from './iv.js';
export { md5 } from './md5.js';
export type { Md5 } from './md5.js';
export { ENCRYPTED_NAMESPACE, checkFileName, parseEncryptedManifest, serializeEncryptedManifest } from './manifest.js';
export type { EncryptedManifest } from './manifest.js';
export { checkSignature, encryptSignature, signatureSource } from './signature.js';
export type { SignatureInput, SignatureVerdict } from './signature.js';
export { SubmissionDecryptor, decryptSubmission, encryptSubmission } from './envelope.js';
export type { DecryptOptions, DecryptedSubmission, EncryptSubmissionInput, EncryptedSubmission, PlainFile } from './envelope.js';
export {
  DEFAULT_SCRYPT_PARAMETERS,
  MIN_SCRYPT_PARAMETERS,
  WRAPPED_KEY_FORMAT,
  WRAPPED_KEY_VERSION,
  readWrappedPrivateKey,
  unwrapPrivateKey,
  wrapPrivateKey,
} from './key-wrap.js';
export type { ScryptParameters, WrappedPrivateKey } from './key-wrap.js';
export { SEALED_KEY_FORMAT, openSealedPrivateKey, readSealedPrivateKey, sealPrivateKey } from './sealed-key.js';
export type { SealedPrivateKey } from './sealed-key.js';
export { RECOVERY_FILE_FORMAT, createRecoveryFile, openRecoveryFile, readRecoveryFile } from './recovery-file.js';
export type { RecoveryFile } from './recovery-file.js';
