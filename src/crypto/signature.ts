/*
 * The ODK "element signature": MD5 of a text listing the form, the wrapped key, the instance and
 * each file's plaintext MD5, RSA-OAEP-encrypted with the form's *public* key. Only the private-key
 * holder can check it, so it is tamper evidence for whoever decrypts, not a signature others verify.
 */
import { md5 } from './md5.js';
import { constantTimeEqual, fromBase64, toBase64, utf8 } from './bytes.js';
import type { OdkPrivateKey, OdkPublicKey } from './keys.js';
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

export async function encryptSignature(publicKey: OdkPublicKey, source: string, oaepSeed?: Uint8Array): Promise<string> {
  return toBase64(await rsaOaepEncrypt(publicKey, md5(utf8(source)), oaepSeed));
}

export async function checkSignature(privateKey: OdkPrivateKey, base64Signature: string | null, source: string): Promise<SignatureVerdict> {
  if (base64Signature === null) return 'absent';
  const decrypted = await rsaOaepDecrypt(privateKey, fromBase64(base64Signature));
  return decrypted !== null && constantTimeEqual(decrypted, md5(utf8(source))) ? 'valid' : 'invalid';
}
