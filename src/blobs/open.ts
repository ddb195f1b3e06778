import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { FsBlobStore } from './fs-store.js';

/** Where the blob store keeps its files. */
export function blobDirectory(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'blobs');
}

/** The configured blob store: `<data dir>/blobs`, keyed by the server secret. */
export function openBlobStore(config: Config): FsBlobStore {
  if (config.secretKey === undefined) throw new Error('the server secret is not loaded (ensureSecretKey runs first)');
  const root = blobDirectory(config);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  return new FsBlobStore(root, config.secretKey);
}
