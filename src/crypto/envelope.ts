/*
 * ODK encrypted submissions ("envelopes"), both directions, exactly as ODK Collect builds them:
 * a random AES-256 key wrapped with RSA-OAEP under the form's public key; each media file and then
 * submission.xml enciphered with AES-256-CFB under its own IV (see iv.ts); a manifest naming the
 * files in that order; an element signature over the whole (see signature.ts).
 *
 * `SubmissionDecryptor` is the streaming path (one incremental decryptor per file, any size);
 * `decryptSubmission` is the convenience for envelopes already in memory.
 */
import { md5 } from './md5.js';
import { AES_KEY_LENGTH, FileDecryptor, FileEncryptor, cipherAll } from './aes-cfb.js';
import { fromBase64, randomBytes, toBase64, toHex } from './bytes.js';
import { CryptoError } from './errors.js';
import type { OdkPrivateKey, OdkPublicKey } from './keys.js';
import { submissionIvs } from './iv.js';
import { checkFileName, serializeEncryptedManifest } from './manifest.js';
import type { EncryptedManifest } from './manifest.js';
import { rsaOaepDecrypt, rsaOaepEncrypt } from './rsa-oaep.js';
import { checkSignature, encryptSignature, signatureSource } from './signature.js';
import type { SignatureVerdict } from './signature.js';

export interface PlainFile {
  name: string;
  data: Uint8Array;
}

export interface EncryptSubmissionInput {
  formId: string;
  version?: string | null;
  /** Must be the instance's meta/instanceID, e.g. `uuid:…`; it feeds the IVs. */
  instanceId: string;
  publicKey: OdkPublicKey;
  submissionXml: Uint8Array;
  /** Attachments in the order to encrypt them (Collect: the instance folder's listing order). */
  media?: readonly PlainFile[];
  /** Fixed AES key, for reproducible output in tests; random otherwise. */
  aesKey?: Uint8Array;
  /** Fixed 32-byte OAEP seed (used for the key and the signature, as in the test vectors); random otherwise. */
  oaepSeed?: Uint8Array;
}

export interface EncryptedSubmission {
  manifest: EncryptedManifest;
  /** The bytes to post as `xml_submission_file`. */
  manifestXml: string;
  /** `<name>.enc` files: media in order, then `submission.xml.enc`. */
  files: PlainFile[];
}

export interface DecryptedSubmission {
  submissionXml: Uint8Array;
  /** Media with their original names (`.enc` removed), in manifest order. */
  media: PlainFile[];
  signature: SignatureVerdict;
}

const SUBMISSION_FILE = 'submission.xml';
const ENCRYPTED_SUFFIX = '.enc';

export async function encryptSubmission(input: EncryptSubmissionInput): Promise<EncryptedSubmission> {
  const aesKey = input.aesKey ?? randomBytes(AES_KEY_LENGTH);
  if (aesKey.length !== AES_KEY_LENGTH) throw new CryptoError('crypto.bad_input', `The AES key must be ${AES_KEY_LENGTH} bytes.`);
  const plainFiles = [...(input.media ?? []), { name: SUBMISSION_FILE, data: input.submissionXml }];
  checkPlainNames(plainFiles.map((file) => file.name));
  const base64EncryptedKey = toBase64(await rsaOaepEncrypt(input.publicKey, aesKey, input.oaepSeed));
  const ivs = submissionIvs(input.instanceId, aesKey, plainFiles.length);
  const files = plainFiles.map((file, index) => ({
    name: file.name + ENCRYPTED_SUFFIX,
    data: cipherAll(new FileEncryptor(aesKey, ivs[index] as Uint8Array), file.data),
  }));
  const version = input.version ?? null;
  const source = signatureSource({
    formId: input.formId,
    version,
    base64EncryptedKey,
    instanceId: input.instanceId,
    files: plainFiles.map((file) => ({ name: file.name, md5Hex: toHex(md5(file.data)) })),
  });
  const manifest: EncryptedManifest = {
    formId: input.formId,
    version,
    instanceId: input.instanceId,
    base64EncryptedKey,
    mediaFiles: files.slice(0, -1).map((file) => file.name),
    encryptedXmlFile: SUBMISSION_FILE + ENCRYPTED_SUFFIX,
    base64EncryptedElementSignature: await encryptSignature(input.publicKey, source, input.oaepSeed),
  };
  return { manifest, manifestXml: serializeEncryptedManifest(manifest), files };
}

export class SubmissionDecryptor {
  /** Encrypted file names in encryption order: media, then the submission. */
  readonly files: readonly string[];
  readonly #manifest: EncryptedManifest;
  readonly #privateKey: OdkPrivateKey;
  readonly #aesKey: Uint8Array;
  readonly #ivs: Uint8Array[];

  private constructor(manifest: EncryptedManifest, privateKey: OdkPrivateKey, aesKey: Uint8Array) {
    this.#manifest = manifest;
    this.#privateKey = privateKey;
    this.#aesKey = aesKey;
    this.files = [...manifest.mediaFiles, manifest.encryptedXmlFile];
    this.#ivs = submissionIvs(manifest.instanceId, aesKey, this.files.length);
  }

  /** Unwraps the submission's AES key; `crypto.bad_key` when this private key cannot. */
  /**
   * Unwraps the submission's AES key with the first of the keys that can (a project that rotated
   * its key has data under each); `crypto.bad_key` when none can.
   */
  static async open(manifest: EncryptedManifest, privateKeys: OdkPrivateKey | readonly OdkPrivateKey[]): Promise<SubmissionDecryptor> {
    const wrappedKey = fromBase64(manifest.base64EncryptedKey);
    for (const privateKey of Array.isArray(privateKeys) ? privateKeys : [privateKeys]) {
      const aesKey = await rsaOaepDecrypt(privateKey, wrappedKey);
      if (aesKey !== null && aesKey.length === AES_KEY_LENGTH) return new SubmissionDecryptor(manifest, privateKey, aesKey);
    }
    throw new CryptoError(
        'crypto.bad_key',
      `The key of submission ${manifest.instanceId} cannot be decrypted with this private key: it was encrypted for another key, or the manifest was altered.`,
    );
  }

  get manifest(): EncryptedManifest {
    return this.#manifest;
  }

  /** An incremental decryptor for one of `files`; its `md5Hex` after `final` feeds `signature`. */
  fileDecryptor(encryptedName: string): FileDecryptor {
    const index = this.files.indexOf(encryptedName);
    const iv = this.#ivs[index];
    if (iv === undefined) {
      throw new CryptoError('crypto.unknown_file', `${encryptedName} is not listed in the manifest of submission ${this.#manifest.instanceId}.`);
    }
    return new FileDecryptor(this.#aesKey, iv, encryptedName);
  }

  /** Checks the element signature given the plaintext MD5 (hex) of every file, keyed by encrypted name. */
  async signature(md5HexByFile: ReadonlyMap<string, string>): Promise<SignatureVerdict> {
    const files = this.files.map((name) => {
      const md5Hex = md5HexByFile.get(name);
      if (md5Hex === undefined) throw missingFile(name, this.#manifest.instanceId);
      return { name: name.slice(0, -ENCRYPTED_SUFFIX.length), md5Hex };
    });
    const { formId, version, base64EncryptedKey, instanceId, base64EncryptedElementSignature } = this.#manifest;
    const source = signatureSource({ formId, version, base64EncryptedKey, instanceId, files });
    return checkSignature(this.#privateKey, base64EncryptedElementSignature, source);
  }
}

export interface DecryptOptions {
  /** Throw `crypto.signature_mismatch` / `crypto.signature_missing` instead of reporting the verdict. */
  requireValidSignature?: boolean;
}

export async function decryptSubmission(
  manifest: EncryptedManifest,
  privateKeys: OdkPrivateKey | readonly OdkPrivateKey[],
  encryptedFiles: ReadonlyMap<string, Uint8Array>,
  options: DecryptOptions = {},
): Promise<DecryptedSubmission> {
  const decryptor = await SubmissionDecryptor.open(manifest, privateKeys);
  const md5s = new Map<string, string>();
  const plain = decryptor.files.map((name) => {
    const data = encryptedFiles.get(name);
    if (data === undefined) throw missingFile(name, manifest.instanceId);
    const fileDecryptor = decryptor.fileDecryptor(name);
    const decrypted = cipherAll(fileDecryptor, data);
    md5s.set(name, fileDecryptor.md5Hex);
    return { name: name.slice(0, -ENCRYPTED_SUFFIX.length), data: decrypted };
  });
  const signature = await decryptor.signature(md5s);
  if (options.requireValidSignature) requireValid(signature, manifest.instanceId);
  const submission = plain.pop();
  return { submissionXml: submission?.data ?? new Uint8Array(0), media: plain, signature };
}

function requireValid(signature: SignatureVerdict, instanceId: string): void {
  if (signature === 'invalid') {
    throw new CryptoError(
      'crypto.signature_mismatch',
      `The signature of submission ${instanceId} does not match its contents: a file or the manifest was altered, swapped or truncated.`,
    );
  }
  if (signature === 'absent') {
    throw new CryptoError('crypto.signature_missing', `Submission ${instanceId} carries no element signature, so its integrity cannot be checked.`);
  }
}

function checkPlainNames(names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    checkFileName(name, 'attachment name');
    if (seen.has(name)) throw new CryptoError('crypto.bad_input', `The attachment ${name} is given twice (or clashes with submission.xml).`);
    seen.add(name);
  }
}

function missingFile(name: string, instanceId: string): CryptoError {
  return new CryptoError('crypto.missing_file', `${name} of submission ${instanceId} is missing; every file the manifest lists is needed to decrypt and check it.`);
}
