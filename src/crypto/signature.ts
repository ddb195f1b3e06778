/*
 * The ODK "element signature": MD5 of a text listing the form, the wrapped key, the instance and
 * each file's plaintext MD5, RSA-OAEP-encrypted with the form's *public* key. Only the private-key
 * holder can check it, so it is tamper evidence for whoever decrypts, not a signature others verify.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { rsaOaepDecrypt, rsaOaepEncrypt } from './rsa-oaep.js';

export interface SignatureInput {
  formId: string;
  /** Left out of the text when null (the form has no version); an empty string is kept, as Collect does. */
  version: string | null;
  base64EncryptedKey: string;
  instanceId: string;
  /** Plaintext name (without `.enc`) and lowercase hex MD5 of each file: media in order, then submission.xml. */
  files: ReadonlyArray<{ name: string; md5Hex: string }>;
}

export type SignatureVerdict = 'valid' | 'invalid' | 'absent';

/** The exact text Collect hashes: each part followed by a newline. */
export function signatureSource(input: SignatureInput): string {
  const parts = [input.formId, ...(input.version === null ? [] : [input.version]), input.base64EncryptedKey, input.instanceId];
  for (const file of input.files) parts.push(`${file.name}::${file.md5Hex}`);
  return parts.map((part) => `${part}\n`).join('');
}

export function encryptSignature(publicKey: KeyObject, source: string, oaepSeed?: Uint8Array): string {
  return rsaOaepEncrypt(publicKey, md5(source), oaepSeed).toString('base64');
}

export function checkSignature(privateKey: KeyObject, base64Signature: string | null, source: string): SignatureVerdict {
  if (base64Signature === null) return 'absent';
  const decrypted = rsaOaepDecrypt(privateKey, Buffer.from(base64Signature, 'base64'));
  const expected = md5(source);
  return decrypted !== null && decrypted.length === expected.length && timingSafeEqual(decrypted, expected) ? 'valid' : 'invalid';
}

function md5(text: string): Buffer {
  return createHash('md5').update(text, 'utf8').digest();
}
