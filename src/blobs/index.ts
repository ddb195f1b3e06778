export type { BlobStore, DeleteCheck, DeleteOutcome, PutOptions, StoredBlob } from './store.js';
export { FsBlobStore } from './fs-store.js';
export { blobDirectory, openBlobStore } from './open.js';
export { registerServer } from './servers.js';
export { BlobError, type BlobErrorCode } from './errors.js';
export { blobsCommand, masterKeyCommand } from './commands.js';
