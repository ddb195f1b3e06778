/** Loading RSA keys in the encodings people and forms actually have them. */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { CryptoError } from './errors.js';

/** A PEM string (PKCS#8 or PKCS#1), or DER bytes (PKCS#8, then PKCS#1 is tried). */
export function loadPrivateKey(input: string | Uint8Array): KeyObject {
  const attempts: Array<() => KeyObject> =
    typeof input === 'string'
      ? [() => createPrivateKey(input)]
      : [
          () => createPrivateKey({ key: Buffer.from(input), format: 'der', type: 'pkcs8' }),
          () => createPrivateKey({ key: Buffer.from(input), format: 'der', type: 'pkcs1' }),
        ];
  return requireRsa(firstSuccess(attempts), 'private', 'crypto.bad_private_key');
}

/**
 * A PEM string, the one-line base64 SubjectPublicKeyInfo a form carries in
 * `<submission base64RsaPublicKey>`, or SPKI DER bytes.
 */
export function loadPublicKey(input: string | Uint8Array): KeyObject {
  const attempt = (): KeyObject => {
    if (typeof input !== 'string') return createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
    if (input.includes('-----BEGIN')) return createPublicKey(input);
    const base64 = input.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new Error('not base64');
    return createPublicKey({ key: Buffer.from(base64, 'base64'), format: 'der', type: 'spki' });
  };
  return requireRsa(firstSuccess([attempt]), 'public', 'crypto.bad_public_key');
}

/** The one-line base64 SPKI form, as ODK forms and XLSForm `public_key` carry it. */
export function publicKeyToBase64Spki(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
}

function firstSuccess(attempts: Array<() => KeyObject>): KeyObject | undefined {
  for (const attempt of attempts) {
    try {
      return attempt();
    } catch {
      // try the next encoding
    }
  }
  return undefined;
}

function requireRsa(
  key: KeyObject | undefined,
  kind: 'private' | 'public',
  code: 'crypto.bad_private_key' | 'crypto.bad_public_key',
): KeyObject {
  if (!key) throw new CryptoError(code, `The ${kind} key could not be read; give an RSA key as PEM or DER.`);
  if (key.asymmetricKeyType !== 'rsa') {
    throw new CryptoError(code, `The ${kind} key is ${key.asymmetricKeyType ?? 'not asymmetric'}; ODK encryption needs an RSA key.`);
  }
  return key;
}
