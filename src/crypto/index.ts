export { CryptoError } from './errors.js';
export type { CryptoErrorCode } from './errors.js';
export { loadPrivateKey, loadPublicKey, publicKeyToBase64Spki } from './keys.js';
export { rsaOaepDecrypt, rsaOaepEncrypt } from './rsa-oaep.js';
export { AES_KEY_LENGTH, BLOCK_LENGTH, FileDecryptor, FileEncryptor, cipherStream } from './aes-cfb.js';
export type { IncrementalCipher } from './aes-cfb.js';
export { ivSeed, submissionIvs } from './iv.js';
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
  unwrapPrivateKey,
  wrapPrivateKey,
} from './key-wrap.js';
export type { ScryptParameters, WrappedPrivateKey } from './key-wrap.js';
