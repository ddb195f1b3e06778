/*
 * A recovery file: a project's private key wrapped (key-wrap.ts) by a recovery passphrase that
 * the owner keeps apart from every other, written by the browser and read by the browser or by
 * `fieldkeep decrypt --recovery-file` offline. It never goes to the server. Losing every
 * passphrase and every recovery file means the project's encrypted data is lost.
 */
import { CryptoError } from './errors.js';
import { readWrappedPrivateKey, unwrapPrivateKey, wrapPrivateKey } from './key-wrap.js';
import type { ScryptParameters, WrappedPrivateKey } from './key-wrap.js';
import type { OdkPrivateKey } from './keys.js';

export const RECOVERY_FILE_FORMAT = 'fieldkeep.recovery-file';

export interface RecoveryFile {
  format: typeof RECOVERY_FILE_FORMAT;
  version: 1;
  /** What the key belongs to, so a person with several files picks the right one. */
  label: string;
  createdAt: string;
  wrappedPrivateKey: WrappedPrivateKey;
}

export async function createRecoveryFile(privateKey: OdkPrivateKey, recoveryPassphrase: string, label: string, parameters?: ScryptParameters): Promise<string> {
  const file: RecoveryFile = {
    format: RECOVERY_FILE_FORMAT,
    version: 1,
    label,
    createdAt: new Date().toISOString(),
    wrappedPrivateKey: await wrapPrivateKey(privateKey, recoveryPassphrase, parameters),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

export async function openRecoveryFile(text: string, recoveryPassphrase: string): Promise<OdkPrivateKey> {
  return unwrapPrivateKey(readRecoveryFile(text).wrappedPrivateKey, recoveryPassphrase);
}

export function readRecoveryFile(text: string): RecoveryFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw notRecoveryFile();
  }
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (record.format !== RECOVERY_FILE_FORMAT || record.version !== 1 || typeof record.label !== 'string') throw notRecoveryFile();
  return { ...(record as unknown as RecoveryFile), wrappedPrivateKey: readWrappedPrivateKey(record.wrappedPrivateKey) };
}

function notRecoveryFile(): CryptoError {
  return new CryptoError('crypto.bad_wrapped_key', `This is not a ${RECOVERY_FILE_FORMAT} (version 1) file.`);
}
