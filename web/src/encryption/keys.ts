/**
 * Encrypted projects in this browser tab: the key ring, and every operation the screens need from
 * the browser crypto module (src/crypto/browser). Passphrases are used here and dropped; what goes
 * to the server is public keys and private keys wrapped by a passphrase-derived key or sealed to a
 * member's own public key (the module's api-client sends nothing else). Unlocked keys live in this
 * module's memory: a reload or another tab is locked again. Loaded only when a screen needs it.
 */
import type { PasswordProblem } from '../../../src/accounts/password-policy.js';
import {
  CryptoError,
  FieldkeepClient,
  KeyRing,
  WeakPassphraseError,
  checkPassphrase,
  createRecoveryFile,
  decryptStoredAnswers,
  decryptStoredSubmission,
  exportCsvInWorker,
  exportXlsxInWorker,
  loadPrivateKey,
  openRecoveryFile,
  publicKeyToBase64Spki,
  readRecoveryFile,
  rotateProjectKey,
  setUpOwnKey,
  setUpProjectEncryption,
  shareWithMember,
  unlockProject,
  useSelfManagedKey,
  type OdkPrivateKey,
  type SignatureVerdict,
} from '../../../src/crypto/browser/index.js';
import { parseSubmission, parseXForm, type FormSchema, type SubmissionFields } from '../../../src/xform/index.js';
import { t } from '../i18n.js';
import { session } from '../session.js';
import { setKeyCount } from './state.js';

export type { PasswordProblem, SignatureVerdict, SubmissionFields };

const ring = new KeyRing();
/** Decrypted answers by project, then submission, so paging back and forth decrypts each once. */
const answersCache = new Map<number, Map<string, Promise<SubmissionFields>>>();
const schemas = new Map<string, Promise<FormSchema>>();

function client(): FieldkeepClient {
  return new FieldkeepClient({ baseUrl: location.origin, headers: { 'x-csrf-token': session.csrfToken } });
}

function identity() {
  return { ...(session.user?.username ? { username: session.user.username } : {}), ...(session.user?.email ? { email: session.user.email } : {}) };
}

/** Everything wrong with a new passphrase (the account password rules: length, zxcvbn 3+, not your name); empty when it may be used. */
export function passphraseProblems(passphrase: string): Promise<PasswordProblem[]> {
  return checkPassphrase(passphrase, identity());
}

/** The messages of errors people can act on, in the application's words; others as they are. */
export function explain(err: unknown): unknown {
  if (err instanceof CryptoError) {
    if (err.code === 'crypto.wrong_passphrase') return new Error(t('encryption.error.wrongPassphrase'));
    if (err.code === 'crypto.bad_key') return new Error(t('encryption.error.noKeyFor'));
    if (err.code === 'crypto.bad_private_key' || err.code === 'crypto.bad_wrapped_key') return new Error(t('encryption.error.badFile'));
  }
  if (err instanceof WeakPassphraseError) return new Error(t('encryption.error.weak'));
  return err;
}

function keep(projectId: number, keys: readonly OdkPrivateKey[]): void {
  const held = new Set((ring.keysOf(projectId) ?? []).map(publicKeyToBase64Spki));
  const fresh = keys.filter((key) => {
    const spki = publicKeyToBase64Spki(key);
    if (held.has(spki)) return false;
    held.add(spki);
    return true;
  });
  ring.add(projectId, fresh);
  // A key just added may open submissions that failed before.
  answersCache.delete(projectId);
  setKeyCount(projectId, ring.keysOf(projectId)?.length ?? 0);
}

/** The public keys (base64 SubjectPublicKeyInfo, as the server lists them) this tab holds for the project. */
export function unlockedPublicKeys(projectId: number): Set<string> {
  return new Set((ring.keysOf(projectId) ?? []).map(publicKeyToBase64Spki));
}

export async function unlock(projectId: number, passphrase: string): Promise<void> {
  keep(projectId, await unlockProject(client(), projectId, passphrase));
}

/** Whether a chosen file is a recovery file (it then needs its recovery passphrase) rather than a private key. */
export function isRecoveryFile(text: string): boolean {
  try {
    readRecoveryFile(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Unlocks with a recovery file and its passphrase, or with a private key file (PEM) of a
 * self-managed key. The key is not matched against the project's: a form may bring a key of its
 * own (an XLSForm's public_key); a key that fits nothing just opens nothing.
 */
export async function unlockWithFile(projectId: number, text: string, recoveryPassphrase: string): Promise<void> {
  keep(projectId, [isRecoveryFile(text) ? await openRecoveryFile(text, recoveryPassphrase) : await loadPrivateKey(text)]);
}

export function lock(projectId: number): void {
  ring.lock(projectId);
  answersCache.delete(projectId);
  setKeyCount(projectId, 0);
}

function keysOf(projectId: number): OdkPrivateKey[] {
  const keys = ring.keysOf(projectId);
  if (keys === undefined || keys.length === 0) throw new Error(t('encryption.error.locked'));
  return keys;
}

export interface TurnOnOptions {
  hint: string;
  modulusBits: 2048 | 3072;
  allowServerDecryption: boolean;
}

/** A key pair made here; the project stays unlocked in this tab with it. */
export async function turnOn(projectId: number, passphrase: string, options: TurnOnOptions): Promise<void> {
  const { privateKey } = await setUpProjectEncryption(client(), projectId, passphrase, { ...options, identity: identity() });
  keep(projectId, [privateKey]);
}

/** A public key made elsewhere (`openssl rsa -pubout`): the private key never comes near Fieldkeep. */
export async function turnOnWithPublicKey(projectId: number, publicKeyPem: string): Promise<void> {
  await useSelfManagedKey(client(), projectId, publicKeyPem);
}

export async function rotate(projectId: number, passphrase: string, options: { hint: string; modulusBits: 2048 | 3072 }): Promise<void> {
  const { privateKey } = await rotateProjectKey(client(), projectId, passphrase, { ...options, identity: identity() });
  keep(projectId, [privateKey]);
}

/** The recovery file of the project's active key, made here: it never goes to the server. */
export async function recoveryFile(projectId: number, recoveryPassphrase: string, label: string): Promise<Blob> {
  const problems = await passphraseProblems(recoveryPassphrase);
  if (problems.length > 0) throw new WeakPassphraseError(problems);
  const active = (await client().encryption(projectId)).keys.find((key) => key.state === 'active');
  const key = keysOf(projectId).find((held) => publicKeyToBase64Spki(held) === active?.publicKey);
  if (key === undefined) throw new Error(t('encryption.error.activeLocked'));
  return new Blob([await createRecoveryFile(key, recoveryPassphrase, label)], { type: 'application/json' });
}

export function members(projectId: number) {
  return client().sharing(projectId);
}

/** Seals every key this tab holds for the project to the member's own public key. */
export function share(projectId: number, userId: number): Promise<number[]> {
  return shareWithMember(client(), projectId, keysOf(projectId), userId);
}

export function revoke(projectId: number, userId: number) {
  return client().revoke(projectId, userId);
}

export async function ownKey() {
  return (await client().ownKey()).key;
}

export async function setOwnKey(passphrase: string): Promise<void> {
  await setUpOwnKey(client(), passphrase, { identity: identity() });
}

function schemaOf(projectId: number, formId: string, version: string): Promise<FormSchema> {
  const id = `${projectId}/${formId}/${version}`;
  let schema = schemas.get(id);
  if (schema === undefined) {
    schema = client().xform(projectId, formId).then(parseXForm);
    schemas.set(id, schema);
    schema.catch(() => schemas.delete(id));
  }
  return schema;
}

/** A submission's answers (its media left on the server), in the data API's shape: `group/question` keys. */
export function decryptAnswers(projectId: number, formId: string, version: string, instanceId: string): Promise<SubmissionFields> {
  const keys = keysOf(projectId);
  const cache = answersCache.get(projectId) ?? new Map<string, Promise<SubmissionFields>>();
  answersCache.set(projectId, cache);
  const id = `${formId}/${instanceId}`;
  let answers = cache.get(id);
  if (answers === undefined) {
    answers = Promise.all([decryptStoredAnswers(client(), projectId, formId, instanceId, keys), schemaOf(projectId, formId, version)]).then(([xml, schema]) => parseSubmission(xml, schema).fields);
    cache.set(id, answers);
    answers.catch(() => cache.delete(id));
  }
  return answers;
}

export interface DecryptedMedia {
  name: string;
  type: string;
  blob: Blob;
}

const MEDIA_TYPES: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
  mp3: 'audio/mpeg', m4a: 'audio/mp4', aac: 'audio/aac', ogg: 'audio/ogg', oga: 'audio/ogg', wav: 'audio/wav', amr: 'audio/amr',
  mp4: 'video/mp4', webm: 'video/webm', '3gp': 'video/3gpp', mov: 'video/quicktime',
  csv: 'text/csv', pdf: 'application/pdf',
};

/** The whole submission: answers, every file (to show as `blob:` addresses) and the signature verdict. */
export async function decryptSubmission(projectId: number, formId: string, version: string, instanceId: string): Promise<{ fields: SubmissionFields; media: DecryptedMedia[]; signature: SignatureVerdict }> {
  const [decrypted, schema] = await Promise.all([decryptStoredSubmission(client(), projectId, formId, instanceId, keysOf(projectId)), schemaOf(projectId, formId, version)]);
  const media = decrypted.media.map((file) => {
    const type = MEDIA_TYPES[file.name.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';
    return { name: file.name, type, blob: new Blob([file.data as Uint8Array<ArrayBuffer>], { type }) };
  });
  return { fields: parseSubmission(decrypted.submissionXml, schema).fields, media, signature: decrypted.signature };
}

export class ExportCancelled extends Error {}

/**
 * A CSV or XLSX of every submission of the form, decrypted in a Web Worker (the page stays
 * responsive), handed back as one file; `cancel` stops the worker.
 */
export function exportDecrypted(projectId: number, formId: string, format: 'csv' | 'xlsx', onProgress: (submissions: number) => void): { file: Promise<Blob>; cancel: () => void } {
  const keys = keysOf(projectId);
  const worker = new Worker(new URL('../../../src/crypto/browser/export-worker.ts', import.meta.url), { type: 'module' });
  let cancel = () => {};
  const stopped = new Promise<never>((_, reject) => {
    cancel = () => reject(new ExportCancelled());
    // A worker that cannot start or dies says so only here; the export would wait for it forever.
    worker.addEventListener('error', (event) => reject(new Error(event.message || t('decryptedExport.failed'))));
  });
  // Settled after the export when nobody cancels: nothing waits for it then.
  stopped.catch(() => {});
  const request = { baseUrl: location.origin, projectId, formId, keys };
  // The module types its worker loosely (anything with onmessage and postMessage); a DOM Worker is one.
  const port = worker as unknown as Parameters<typeof exportCsvInWorker>[0];
  const run = format === 'xlsx' ? exportXlsxInWorker(port, request, onProgress) : exportCsvInWorker(port, request, onProgress);
  return { file: Promise.race([run, stopped]).finally(() => worker.terminate()), cancel };
}
