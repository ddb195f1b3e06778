/**
 * Which projects are unlocked in this browser tab, for every screen's padlock. Small on purpose:
 * the keys themselves, and the crypto code that uses them, are in keys.ts, loaded only when a
 * screen needs them (they are large: RSA, AES, scrypt and the passphrase checker's dictionaries).
 */
import { reactive } from 'vue';
import type { EncryptionView } from '../../../src/crypto/browser/api-client.js';
import { ApiError, get } from '../api.js';
import { projectPath } from '../project.js';

export type { EncryptionView };

/** How many keys this tab holds per project: screens redo their decryption when it changes. */
const held = reactive(new Map<number, number>());

export function keyCount(projectId: number): number {
  return held.get(projectId) ?? 0;
}

export function isUnlocked(projectId: number): boolean {
  return keyCount(projectId) > 0;
}

/** Called by keys.ts as keys are added to or dropped from this tab's key ring. */
export function setKeyCount(projectId: number, count: number): void {
  if (count > 0) held.set(projectId, count);
  else held.delete(projectId);
}

export const loadKeys = () => import('./keys.js');

/** The project's encryption as the server describes it; null when the reader may not see it (a data collector). */
export async function encryptionOf(projectId: number): Promise<EncryptionView | null> {
  try {
    return await get<EncryptionView>(`${projectPath(String(projectId))}/encryption`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 403) return null;
    throw err;
  }
}
