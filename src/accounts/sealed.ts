/**
 * TOTP secrets must be readable by the server (to compute codes) but are worthless to anyone who
 * copies the database: they are sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
 * server secret, which is never stored in the database. Rotating the server secret therefore turns
 * every authenticator off; people then sign in with a recovery code and enrol again.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function sealingKey(serverSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', serverSecret, 'fieldkeep', 'totp-secret-sealing', 32));
}

export function sealSecret(serverSecret: string, plaintext: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(serverSecret), iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${FORMAT}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')}`;
}

/** The sealed text, or null if it was sealed under another server secret or altered. */
export function unsealSecret(serverSecret: string, sealed: string): string | null {
  if (!sealed.startsWith(`${FORMAT}:`)) return null;
  const bytes = Buffer.from(sealed.slice(FORMAT.length + 1), 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(serverSecret), bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
