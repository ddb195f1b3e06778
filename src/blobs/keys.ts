/**
 * Where the blob store's master keys come from, and the store's record of which keys its files need.
 *
 * The current key is FIELDKEEP_MASTER_KEY (or its _FILE) when set; otherwise `<data dir>/master.key`,
 * generated on first use (mode 0600). The key being rotated away from is FIELDKEEP_MASTER_KEY_PREVIOUS,
 * or `<data dir>/master.key.previous` while a rotation of the generated key is unfinished.
 *
 * `<blob dir>/keys/` holds one empty file named by the id of every master key that wraps a file in
 * the store (written before the first such file is). It is what lets a start refuse to go on with
 * a missing or different key instead of generating a new one and leaving every file unreadable.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config.js';
import { BlobError } from './errors.js';
import { Keyring, MasterKey, newMasterKeyText, parseMasterKey } from './master-key.js';

export type KeyConfig = Pick<Config, 'dataDir' | 'masterKey' | 'masterKeyPrevious'>;

const KEY_ID = /^[0-9a-f]{16}$/;

export function keyFiles(dataDir: string) {
  return {
    current: path.join(dataDir, 'master.key'),
    previous: path.join(dataDir, 'master.key.previous'),
    next: path.join(dataDir, 'master.key.new'),
  };
}

/** Whether the keys come from settings (the operator's) or from the data directory's key files. */
export const keySource = (config: KeyConfig): 'setting' | 'file' => (config.masterKey === undefined ? 'file' : 'setting');

export function keysInUseDir(root: string): string {
  return path.join(root, 'keys');
}

/** Ids of the master keys that wrap files in the store at `root`. */
export function keysInUse(root: string): string[] {
  try {
    return readdirSync(keysInUseDir(root)).filter((name) => KEY_ID.test(name)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

export function forgetKeyInUse(root: string, id: string): void {
  rmSync(path.join(keysInUseDir(root), id), { force: true });
  fsyncDirSync(keysInUseDir(root));
}

/**
 * The keyring for the store at `root`. Generates the key file only when the store has no file
 * under any master key; refuses (with a code saying which) when a key it needs is missing.
 */
export function loadKeyring(config: KeyConfig, root: string): Keyring {
  const inUse = keysInUse(root);
  const keyring = keySource(config) === 'setting' ? fromSettings(config) : fromFiles(config.dataDir, root, inUse);
  const unknown = inUse.filter((id) => keyring.get(id) === undefined);
  if (unknown.length > 0) {
    throw new BlobError(
      'blob.master_key_unknown',
      `blob.master_key_unknown: the blob store ${root} holds files encrypted under master key ${unknown.join(', ')}, which is not among the configured keys (${keyring.ids.join(', ')}). ` +
        'Configure that key (to change keys, give the old one as FIELDKEEP_MASTER_KEY_PREVIOUS and run `fieldkeep master-key rotate`); `fieldkeep master-key status` shows where each key comes from.',
    );
  }
  return keyring;
}

function fromSettings(config: KeyConfig): Keyring {
  const current = keyOf(config.masterKey!, 'FIELDKEEP_MASTER_KEY');
  const previous = config.masterKeyPrevious === undefined ? [] : [keyOf(config.masterKeyPrevious, 'FIELDKEEP_MASTER_KEY_PREVIOUS')];
  return new Keyring(current, previous);
}

function fromFiles(dataDir: string, root: string, inUse: string[]): Keyring {
  const files = keyFiles(dataDir);
  let text = readKeyFile(files.current);
  if (text === null) {
    if (inUse.length > 0) {
      throw new BlobError(
        'blob.master_key_missing',
        `blob.master_key_missing: the blob store ${root} holds files encrypted under master key ${inUse.join(', ')}, but no master key is available: FIELDKEEP_MASTER_KEY (or FIELDKEEP_MASTER_KEY_FILE) is unset and ${files.current} does not exist. ` +
          'Put the key file back from your copy, or point FIELDKEEP_MASTER_KEY_FILE at it. No new key is generated: it could not read those files.',
      );
    }
    text = createKeyFile(files.current);
  }
  const previous = readKeyFile(files.previous);
  return new Keyring(keyOf(text, files.current), previous === null ? [] : [keyOf(previous, files.previous)]);
}

function keyOf(text: string, where: string): MasterKey {
  const raw = parseMasterKey(text);
  if (raw === null) throw new BlobError('blob.master_key_invalid', `blob.master_key_invalid: ${where} is not a 32-byte key in base64url, base64 or hex.`);
  return new MasterKey(raw);
}

/** The file's text, or null when it does not exist; any other failure to read it is a missing key. */
export function readKeyFile(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new BlobError('blob.master_key_missing', `blob.master_key_missing: the master key file ${file} cannot be read (${code ?? 'error'}); make it readable by the server's user (and no one else).`);
  }
}

/** Generates the key file; if another process made it first, theirs is used so every process agrees. */
function createKeyFile(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const text = newMasterKeyText();
  try {
    writeNewFileSync(file, text);
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8');
    throw err;
  }
}

/**
 * Starts (or resumes) a rotation of the generated key: a new `master.key`, the old one kept as
 * `master.key.previous` until every file is re-wrapped. Each step is durable before the next, and
 * at every point both keys are on disk under a name the loader reads. Returns the new key's id.
 */
export function installNewKeyFile(dataDir: string): string {
  const files = keyFiles(dataDir);
  const current = readKeyFile(files.current);
  if (current === null) throw new BlobError('blob.master_key_missing', `blob.master_key_missing: ${files.current} does not exist; there is no key to rotate from.`);
  const currentKey = keyOf(current, files.current);
  const previous = readKeyFile(files.previous);
  // A previous key other than the current one: a rotation is under way, and resuming it needs no new key.
  if (previous !== null && keyOf(previous, files.previous).id !== currentKey.id) return currentKey.id;
  rmSync(files.next, { force: true });
  const text = newMasterKeyText();
  writeNewFileSync(files.next, text);
  // A crash between the link and the rename leaves previous = current: the next run starts here again.
  if (previous === null) {
    linkSync(files.current, files.previous);
    fsyncDirSync(dataDir);
  }
  renameSync(files.next, files.current);
  fsyncDirSync(dataDir);
  return keyOf(text, files.current).id;
}

/** Ends a rotation of the generated key: the old key is no longer needed by any file. */
export function removePreviousKeyFile(dataDir: string): void {
  rmSync(keyFiles(dataDir).previous, { force: true });
  fsyncDirSync(dataDir);
}

function writeNewFileSync(file: string, text: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDirSync(path.dirname(file));
}

export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
