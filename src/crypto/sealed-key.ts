/*
 * A project's private key sealed for one member: each member has their own key pair (wrapped by
 * their own passphrase, key-wrap.ts), and whoever holds the project key seals a copy of it to the
 * member's public key, so access is shared without telling anyone a passphrase. Revoking deletes
 * the copy.
 *
 * Format `fieldkeep.sealed-private-key`, version 1 — JSON, binary values standard base64:
 *
 *   {
 *     "format": "fieldkeep.sealed-private-key", "version": 1,
 *     "recipient": "<SPKI DER of the member's public key>",
 *     "encryptedKey": "<RSA-OAEP (SHA-256, MGF1-SHA-256) of a fresh 32-byte AES key, to the recipient>",
 *     "cipher": { "name": "AES-256-GCM", "iv": "<12 random bytes>" },
 *     "publicKey": "<SPKI DER of the sealed key's public half>",
 *     "ciphertext": "<AES-256-GCM of the PKCS#8 DER private key, then the 16-byte tag>"
 *   }
 *
 * additional data = UTF-8 of JSON.stringify([format, version, recipient, encryptedKey, cipher.name,
 * iv, publicKey]), so no header field can be swapped without failing the tag.
 */
import { fromBase64, isBase64Sized, randomBytes, toBase64, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { matchingPrivateKey } from './key-wrap.js';
import { privateKeyToPkcs8, publicKeyToBase64Spki } from './keys.js';
import type { OdkPrivateKey, OdkPublicKey } from './keys.js';
import { rsaOaepDecrypt, rsaOaepEncrypt } from './rsa-oaep.js';

export const SEALED_KEY_FORMAT = 'fieldkeep.sealed-private-key';
export const SEALED_KEY_VERSION = 1;

export interface SealedPrivateKey {
  format: typeof SEALED_KEY_FORMAT;
  version: typeof SEALED_KEY_VERSION;
  recipient: string;
  encryptedKey: string;
  cipher: { name: 'AES-256-GCM'; iv: string };
  publicKey: string;
  ciphertext: string;
}

const AES_KEY_LENGTH = 32;
const IV_LENGTH = 12;

export async function sealPrivateKey(privateKey: OdkPrivateKey, recipient: OdkPublicKey): Promise<SealedPrivateKey> {
  const aesKey = randomBytes(AES_KEY_LENGTH);
  const sealed: SealedPrivateKey = {
    format: SEALED_KEY_FORMAT,
    version: SEALED_KEY_VERSION,
    recipient: publicKeyToBase64Spki(recipient),
    encryptedKey: toBase64(await rsaOaepEncrypt(recipient, aesKey)),
    cipher: { name: 'AES-256-GCM', iv: toBase64(randomBytes(IV_LENGTH)) },
    publicKey: publicKeyToBase64Spki(privateKey),
    ciphertext: '',
  };
  const key = await importAesKey(aesKey);
  aesKey.fill(0);
  sealed.ciphertext = toBase64(new Uint8Array(await crypto.subtle.encrypt(gcmParameters(sealed), key, new Uint8Array(await privateKeyToPkcs8(privateKey)))));
  return sealed;
}

export async function openSealedPrivateKey(input: SealedPrivateKey | string, recipientKey: OdkPrivateKey): Promise<OdkPrivateKey> {
  const sealed = readSealedPrivateKey(input);
  if (sealed.recipient !== publicKeyToBase64Spki(recipientKey)) {
    throw new CryptoError('crypto.bad_key', 'This copy of the key was sealed for another member\'s key.');
  }
  const aesKey = await rsaOaepDecrypt(recipientKey, fromBase64(sealed.encryptedKey));
  if (aesKey === null || aesKey.length !== AES_KEY_LENGTH) throw badSealed('its key does not decrypt with the member\'s private key');
  let der: Uint8Array;
  try {
    der = new Uint8Array(await crypto.subtle.decrypt(gcmParameters(sealed), await importAesKey(aesKey), new Uint8Array(fromBase64(sealed.ciphertext))));
  } catch {
    throw badSealed('it was altered');
  } finally {
    aesKey.fill(0);
  }
  return matchingPrivateKey(der, sealed.publicKey);
}

/** Checks the shape (JSON text or object), as the server does before storing a copy. */
export function readSealedPrivateKey(input: unknown): SealedPrivateKey {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      throw badSealed('it is not JSON');
    }
  }
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const cipher = (typeof record.cipher === 'object' && record.cipher !== null ? record.cipher : {}) as Record<string, unknown>;
  const valid =
    record.format === SEALED_KEY_FORMAT &&
    record.version === SEALED_KEY_VERSION &&
    isBase64Sized(record.recipient, 1, 4096) &&
    isBase64Sized(record.encryptedKey, 1, 1024) &&
    cipher.name === 'AES-256-GCM' &&
    isBase64Sized(cipher.iv, IV_LENGTH, IV_LENGTH) &&
    isBase64Sized(record.publicKey, 1, 4096) &&
    isBase64Sized(record.ciphertext, 1, 16384);
  if (!valid) throw badSealed(`it is not a ${SEALED_KEY_FORMAT} version ${SEALED_KEY_VERSION} object`);
  return record as unknown as SealedPrivateKey;
}

function gcmParameters(sealed: SealedPrivateKey) {
  const fields = [sealed.format, sealed.version, sealed.recipient, sealed.encryptedKey, sealed.cipher.name, sealed.cipher.iv, sealed.publicKey];
  return { name: 'AES-GCM', iv: new Uint8Array(fromBase64(sealed.cipher.iv)), additionalData: new Uint8Array(utf8(JSON.stringify(fields))), tagLength: 128 };
}

function importAesKey(raw: Uint8Array) {
  return crypto.subtle.importKey('raw', new Uint8Array(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

function badSealed(reason: string): CryptoError {
  return new CryptoError('crypto.bad_sealed_key', `The member's copy of the key is unusable: ${reason}.`);
}
