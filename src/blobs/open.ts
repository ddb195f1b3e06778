import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { FsBlobStore } from './fs-store.js';
import { applyPendingJournals } from './journal.js';
import { loadKeyring } from './keys.js';

/** Where the blob store keeps its files. */
export function blobDirectory(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'blobs');
}

/**
 * The configured blob store: `<data dir>/blobs`, its ids keyed by the server secret, its files
 * under the master keys (keys.ts). Fails, with a `blob.master_key_*` code, when a key its files
 * need is missing: the server then refuses to start. Finishes a rotation batch a crash cut short.
 */
export function openBlobStore(config: Config): FsBlobStore {
  if (config.secretKey === undefined) throw new Error('the server secret is not loaded (ensureSecretKey runs first)');
  const root = blobDirectory(config);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const keyring = loadKeyring(config, root);
  applyPendingJournals(root);
  return new FsBlobStore(root, config.secretKey, keyring);
}
