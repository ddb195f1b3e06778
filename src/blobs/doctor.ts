import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Config, ConfigSources } from '../config/config.js';
import type { Check } from '../config/doctor.js';
import { BlobError } from './errors.js';
import { pendingJournals } from './journal.js';
import { keyFiles, keySource, keysInUse, loadKeyring } from './keys.js';
import { blobDirectory } from './open.js';

/**
 * `fieldkeep doctor`'s master key line. Fails what stops the server (a key its files need is missing,
 * unreadable or wrong); warns about a key not made yet, a key file others may read, an unfinished
 * rotation, and a production key kept beside the data it protects. Never creates the key.
 */
export function masterKeyDoctorCheck(config: Config, sources: ConfigSources): Check {
  try {
    return checkMasterKey(config, sources);
  } catch (err) {
    return {
      name: 'master key',
      ok: false,
      detail: `cannot be checked (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      fix: 'make the data directory and the key file readable by the server\'s user',
    };
  }
}

function checkMasterKey(config: Config, sources: ConfigSources): Check {
  const name = 'master key';
  const root = blobDirectory(config);
  const files = keyFiles(config.dataDir);
  const source = keySource(config);
  if (source === 'file' && !existsSync(files.current)) {
    const inUse = keysInUse(root);
    if (inUse.length > 0) {
      return {
        name,
        ok: false,
        detail: `${files.current} is missing, but the blob store holds files under master key ${inUse.join(', ')}: the server will not start`,
        fix: 'put the key file back from your copy (mode 0600), or set FIELDKEEP_MASTER_KEY_FILE to it',
      };
    }
    return {
      name,
      ok: true,
      warning: true,
      detail: `not created yet: generated into ${files.current} at the first start`,
      fix: 'after the first start, keep a copy of that file apart from the data: without it no attachment can be read',
    };
  }
  let keyring;
  try {
    keyring = loadKeyring(config, root);
  } catch (err) {
    if (!(err instanceof BlobError)) throw err;
    return { name, ok: false, detail: err.message, fix: 'configure the key the blob store needs (`fieldkeep blobs status` shows which keys wrap its files)' };
  }
  const keyFileSettings = ['FIELDKEEP_MASTER_KEY_FILE', 'FIELDKEEP_MASTER_KEY_PREVIOUS_FILE'].map((s) => sources.env[s]).filter((f): f is string => f !== undefined && f !== '');
  const keyPaths = source === 'file' ? [files.current, files.previous] : keyFileSettings.map((f) => path.resolve(sources.cwd, f));
  const warnings: string[] = [];
  const fixes: string[] = [];
  const loose = keyPaths.filter((file) => existsSync(file) && (statSync(file).mode & 0o077) !== 0);
  if (loose.length > 0) {
    warnings.push(`${loose.join(', ')} can be read by other users`);
    fixes.push(`chmod 600 ${loose.join(' ')}`);
  }
  if (keyring.previous.length > 0 || pendingJournals(root).length > 0) {
    warnings.push(`a rotation is unfinished (previous key ${keyring.previous.map((k) => k.id).join(', ') || 'unknown'})`);
    fixes.push('run `fieldkeep master-key rotate` to finish it');
  }
  if (source === 'file' && config.env === 'production') {
    warnings.push('the key is kept in the data directory, so a copy of that directory carries its key');
    fixes.push('move it to another volume or a secret store and set FIELDKEEP_MASTER_KEY_FILE to it');
  }
  const where = source === 'file' ? files.current : 'FIELDKEEP_MASTER_KEY';
  const detail = `master key ${keyring.current.id} from ${where}`;
  if (warnings.length === 0) return { name, ok: true, detail };
  return { name, ok: true, warning: true, detail: `${detail}; ${warnings.join('; ')}`, fix: fixes.join('; ') };
}
