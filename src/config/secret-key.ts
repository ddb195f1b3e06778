import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.js';

/**
 * In development the server secret is generated once and kept in the data directory (mode 0600),
 * so a single machine needs no configuration; production refuses to start without an explicit one
 * (see config.ts), because a key that lives only beside the data is lost or leaked with it.
 */
export function ensureSecretKey(config: Config): Config {
  if (config.secretKey !== undefined) return config;
  const file = path.join(config.dataDir, 'secret.key');
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    return { ...config, secretKey: readFileSync(file, 'utf8').trim() };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32).toString('base64url');
  try {
    const fd = openSync(file, 'wx', 0o600);
    writeSync(fd, `${key}\n`);
    fsyncSync(fd);
    closeSync(fd);
    return { ...config, secretKey: key };
  } catch (err) {
    // Another process created it first: use theirs so every process agrees.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { ...config, secretKey: readFileSync(file, 'utf8').trim() };
    throw err;
  }
}
