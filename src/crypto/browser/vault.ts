/*
 * The browser side of end-to-end encrypted projects: key set-up, unlocking, sharing and
 * decryption, as the web UI calls them. Keys are made and unwrapped here; the server (through
 * api-client.ts) only ever receives public keys and private keys wrapped by a passphrase-derived
 * key or sealed to a member's own public key. Unlocked keys live in this tab's memory only
 * (`KeyRing`): a reload or another tab asks for the passphrase again.
 */
import { checkPasswordPolicy, type PasswordIdentity, type PasswordProblem } from '../../accounts/password-policy.js';
import { FileDecryptor } from '../aes-cfb.js';
import { concatBytes, fromUtf8 } from '../bytes.js';
import { SubmissionDecryptor } from '../envelope.js';
import { CryptoError } from '../errors.js';
import { unwrapPrivateKey, wrapPrivateKey, type ScryptParameters } from '../key-wrap.js';
import { generatePrivateKey, loadPublicKey, publicKeyToBase64Spki, type OdkPrivateKey } from '../keys.js';
import { parseEncryptedManifest } from '../manifest.js';
import { openSealedPrivateKey, sealPrivateKey } from '../sealed-key.js';
import type { SignatureVerdict } from '../signature.js';
import type { FieldkeepClient, SubmissionSummary } from './api-client.js';

export class WeakPassphraseError extends Error {
  constructor(readonly problems: PasswordProblem[]) {
    super(problems.map((p) => p.message).join(' '));
  }
}

export interface KeySetupOptions {
  modulusBits?: 2048 | 3072;
  hint?: string;
  /** The person's username and email: the passphrase must not resemble them. */
  identity?: PasswordIdentity;
  /** Only tests lower these; the floor (key-wrap.ts) still applies. */
  scrypt?: ScryptParameters;
}

/** The same rules as account passwords (length, zxcvbn score 3+, not the person's name). */
export function checkPassphrase(passphrase: string, identity: PasswordIdentity = {}): Promise<PasswordProblem[]> {
  return checkPasswordPolicy(passphrase, identity);
}

async function newWrappedKey(passphrase: string, options: KeySetupOptions) {
  const problems = await checkPassphrase(passphrase, options.identity);
  if (problems.length > 0) throw new WeakPassphraseError(problems);
  const privateKey = await generatePrivateKey(options.modulusBits ?? 2048);
  const wrappedPrivateKey = await wrapPrivateKey(privateKey, passphrase, options.scrypt);
  return { privateKey, request: { publicKey: publicKeyToBase64Spki(privateKey), wrappedPrivateKey, ...(options.hint ? { hint: options.hint } : {}) } };
}

/**
 * Turns on encryption with a key pair made here; returns the unlocked key (keep it for this tab).
 * `allowServerDecryption: false` forbids exports that carry the passphrase to the server (allowed
 * unless forbidden).
 */
export async function setUpProjectEncryption(
  client: FieldkeepClient,
  projectId: number,
  passphrase: string,
  options: KeySetupOptions & { allowServerDecryption?: boolean } = {},
): Promise<{ keyId: number; privateKey: OdkPrivateKey }> {
  const { privateKey, request } = await newWrappedKey(passphrase, options);
  const { keyId } = await client.enableEncryption(projectId, { ...request, ...(options.allowServerDecryption === undefined ? {} : { allowServerDecryption: options.allowServerDecryption }) });
  return { keyId, privateKey };
}

/** Turns on encryption with a public key made elsewhere (`openssl rsa -pubout`); its private key never comes near Fieldkeep. */
export async function useSelfManagedKey(client: FieldkeepClient, projectId: number, publicKeyPem: string): Promise<{ keyId: number }> {
  const publicKey = publicKeyToBase64Spki(await loadPublicKey(publicKeyPem));
  return client.enableEncryption(projectId, { publicKey });
}

/** A new key pair for new data; the old one keeps decrypting what was sent before. */
export async function rotateProjectKey(client: FieldkeepClient, projectId: number, passphrase: string, options: KeySetupOptions = {}): Promise<{ keyId: number; privateKey: OdkPrivateKey }> {
  const { privateKey, request } = await newWrappedKey(passphrase, options);
  const { keyId } = await client.rotateKey(projectId, request);
  return { keyId, privateKey };
}

/** The person's own key pair, which project keys are sealed to when an owner shares them. */
export async function setUpOwnKey(client: FieldkeepClient, passphrase: string, options: KeySetupOptions = {}): Promise<OdkPrivateKey> {
  const { privateKey, request } = await newWrappedKey(passphrase, options);
  await client.setOwnKey({ publicKey: request.publicKey, wrappedPrivateKey: request.wrappedPrivateKey });
  return privateKey;
}

/**
 * Every project key this passphrase opens: the project's own wrapped keys (owner), else the
 * person's own key and the copies sealed for them (member).
 */
export async function unlockProject(client: FieldkeepClient, projectId: number, passphrase: string): Promise<OdkPrivateKey[]> {
  const view = await client.encryption(projectId);
  const keys: OdkPrivateKey[] = [];
  for (const key of view.keys) {
    if (key.wrappedPrivateKey) {
      const unlocked = await unwrapOrNull(() => unwrapPrivateKey(key.wrappedPrivateKey!, passphrase));
      if (unlocked) keys.push(unlocked);
    }
  }
  if (keys.length === 0 && view.yourCopies.length > 0) {
    const own = (await client.ownKey()).key;
    const ownKey = own ? await unwrapOrNull(() => unwrapPrivateKey(own.wrappedPrivateKey, passphrase)) : null;
    if (ownKey) for (const copy of view.yourCopies) keys.push(await openSealedPrivateKey(copy.sealedPrivateKey, ownKey));
  }
  if (keys.length === 0) throw new CryptoError('crypto.wrong_passphrase', 'The passphrase opens none of this project\'s keys (nor your own key).');
  return keys;
}

async function unwrapOrNull(unwrap: () => Promise<OdkPrivateKey>): Promise<OdkPrivateKey | null> {
  try {
    return await unwrap();
  } catch (err) {
    if (err instanceof CryptoError && err.code === 'crypto.wrong_passphrase') return null;
    throw err;
  }
}

/** Seals every unlocked project key to the member's own public key and stores the copies. */
export async function shareWithMember(client: FieldkeepClient, projectId: number, unlocked: readonly OdkPrivateKey[], userId: number): Promise<number[]> {
  const member = (await client.sharing(projectId)).find((person) => person.userId === userId);
  if (!member?.publicKey) throw new CryptoError('crypto.bad_public_key', 'That member has not set up their own key yet.');
  const recipient = await loadPublicKey(member.publicKey);
  const byPublicKey = new Map(unlocked.map((key) => [publicKeyToBase64Spki(key), key]));
  const shared: number[] = [];
  for (const key of (await client.encryption(projectId)).keys) {
    const privateKey = byPublicKey.get(key.publicKey);
    if (!privateKey) continue;
    await client.share(projectId, userId, key.id, await sealPrivateKey(privateKey, recipient));
    shared.push(key.id);
  }
  return shared;
}

/** Unlocked keys per project, for this tab only. */
export class KeyRing {
  readonly #keys = new Map<number, OdkPrivateKey[]>();

  async unlock(client: FieldkeepClient, projectId: number, passphrase: string): Promise<OdkPrivateKey[]> {
    const keys = await unlockProject(client, projectId, passphrase);
    this.#keys.set(projectId, keys);
    return keys;
  }

  /** Adds keys held apart from the server (self-managed keys loaded from a file, recovery files). */
  add(projectId: number, keys: readonly OdkPrivateKey[]): void {
    this.#keys.set(projectId, [...(this.#keys.get(projectId) ?? []), ...keys]);
  }

  keysOf(projectId: number): OdkPrivateKey[] | undefined {
    return this.#keys.get(projectId);
  }

  lock(projectId?: number): void {
    if (projectId === undefined) this.#keys.clear();
    else this.#keys.delete(projectId);
  }
}

export interface DecryptedFile {
  name: string;
  data: Uint8Array;
  md5Hex: string;
}

export type DecryptedRecord =
  | { instanceId: string; summary: SubmissionSummary; encrypted: false }
  | { instanceId: string; summary: SubmissionSummary; encrypted: true; submissionXml: string; media: DecryptedFile[]; signature: SignatureVerdict };

/** A form's submissions decrypted here, one at a time, pages fetched as needed. */
export async function* decryptFormSubmissions(client: FieldkeepClient, projectId: number, formId: string, keys: readonly OdkPrivateKey[]): AsyncGenerator<DecryptedRecord> {
  let cursor: string | null = null;
  do {
    const page = await client.submissions(projectId, formId, cursor);
    for (const summary of page.results) {
      const instanceId = summary['meta/rootUuid'];
      if (!summary._encrypted) {
        yield { instanceId, summary, encrypted: false };
        continue;
      }
      yield { instanceId, summary, encrypted: true, ...(await decryptStoredSubmission(client, projectId, formId, instanceId, keys)) };
    }
    cursor = page.next;
  } while (cursor !== null);
}

/** One stored submission decrypted here: its XML, every media file, and the signature verdict (a submission's own view). */
export async function decryptStoredSubmission(
  client: FieldkeepClient,
  projectId: number,
  formId: string,
  instanceId: string,
  keys: readonly OdkPrivateKey[],
): Promise<{ submissionXml: string; media: DecryptedFile[]; signature: SignatureVerdict }> {
  const manifest = parseEncryptedManifest(await client.manifest(projectId, formId, instanceId));
  const decryptor = await SubmissionDecryptor.open(manifest, keys);
  const md5s = new Map<string, string>();
  const files: DecryptedFile[] = [];
  for (const name of decryptor.files) {
    const fileDecryptor = decryptor.fileDecryptor(name);
    const data = await decryptStream(fileDecryptor, await client.attachment(projectId, formId, instanceId, name));
    md5s.set(name, fileDecryptor.md5Hex);
    files.push({ name: name.slice(0, -'.enc'.length), data, md5Hex: fileDecryptor.md5Hex });
  }
  const submission = files.pop();
  return { submissionXml: fromUtf8(submission?.data ?? new Uint8Array(0)), media: files, signature: await decryptor.signature(md5s) };
}

/**
 * Only the XML of a stored submission, its media neither fetched nor decrypted: for a table of
 * many submissions, where photos would cost far more than the answers. No signature verdict,
 * which needs every file.
 */
export async function decryptStoredAnswers(client: FieldkeepClient, projectId: number, formId: string, instanceId: string, keys: readonly OdkPrivateKey[]): Promise<string> {
  const manifest = parseEncryptedManifest(await client.manifest(projectId, formId, instanceId));
  const decryptor = await SubmissionDecryptor.open(manifest, keys);
  const name = manifest.encryptedXmlFile;
  return fromUtf8(await decryptStream(decryptor.fileDecryptor(name), await client.attachment(projectId, formId, instanceId, name)));
}

async function decryptStream(decryptor: FileDecryptor, stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(decryptor.update(value));
  }
  parts.push(decryptor.final());
  return concatBytes(parts);
}
