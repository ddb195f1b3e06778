/**
 * Public API of end-to-end encrypted projects: the routes, the hook that gives uploaded forms the
 * project's key, and decryption on the server for exports that carry the passphrase.
 */
export { projectKeyRoutes } from './routes.js';
export { encryptionStatus, withProjectKey } from './service.js';
export type { KeyScope, KeySetup } from './service.js';
export { unlockOnServer } from './server-decrypt.js';
export type { DecryptedEnvelope, DecryptedMedia, ServerDecryptor, StoredEnvelope } from './server-decrypt.js';
