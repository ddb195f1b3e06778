/*
 * Decryption on the server, for deployments that want ODK Central's way: an export request that
 * carries the passphrase in its POST body (src/exports). Allowed unless the project forbids it.
 * `unlockOnServer` uses the passphrase to unwrap keys in memory and lets it go no further: it is
 * not stored, logged, audited or put in an error, and what it returns holds only the unwrapped
 * keys, for the one export that asked. Every attempt is audited: `key.unlock_on_server`, or
 * `key.unlock_on_server_failed` with the reason.
 *
 * Which keys a passphrase may open follows what each person could open in their browser: the
 * project's passphrase-wrapped keys for the owner (who alone is given them), and otherwise the
 * person's own key and the copies of project keys sealed to it. So the export route is no
 * oracle for guessing the owner's passphrase for someone who could not fetch the wrapped key.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { can } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import type { BlobStore } from '../blobs/index.js';
import {
  CryptoError,
  SubmissionDecryptor,
  cipherChunks,
  openSealedPrivateKey,
  parseEncryptedManifest,
  unwrapPrivateKey,
  type OdkPrivateKey,
  type SignatureVerdict,
} from '../crypto/index.js';
import { AppError } from '../server/errors.js';
import { DEFAULT_XML_LIMITS } from '../xform/index.js';
import * as q from './queries.js';
import type { KeyScope } from './service.js';

/** An encrypted submission as stored: its manifest and the files that came with it. */
export interface StoredEnvelope {
  instanceId: string;
  /** Blob of the manifest (the submission version's XML). */
  manifestBlob: string;
  /** Received files by name (`photo.jpg.enc`, `submission.xml.enc`) to their blob ids. */
  files: ReadonlyMap<string, string>;
}

export interface DecryptedEnvelope {
  /** The plaintext submission XML. */
  submissionXml: Uint8Array;
  signature: SignatureVerdict;
}

export interface DecryptedMedia {
  /** The file's name as the phone had it (`.enc` removed). */
  name: string;
  read(): Readable;
}

/**
 * The decrypted submission XML is held in memory to be parsed, so it gets the bound the XML
 * parser puts on it anyway; media files are streamed and need none.
 */
const MAX_SUBMISSION_XML_BYTES = DEFAULT_XML_LIMITS.maxBytes;

/** Keys unlocked on the server for one export; they live as long as it does, in memory only. */
export class ServerDecryptor {
  readonly #keys: readonly OdkPrivateKey[];
  readonly #blobs: BlobStore;

  constructor(keys: readonly OdkPrivateKey[], blobs: BlobStore) {
    this.#keys = keys;
    this.#blobs = blobs;
  }

  /**
   * The submission XML and the signature verdict. The verdict needs every file's plaintext MD5,
   * so each media file is streamed through once (hashed, not kept): memory stays flat however
   * large the media. `key.undecryptable_submission` (with the reason) when it cannot be done.
   */
  async decrypt(envelope: StoredEnvelope): Promise<DecryptedEnvelope> {
    return undecryptableOn(envelope, async () => {
      const decryptor = await this.#open(envelope);
      const { manifest } = decryptor;
      const md5s = new Map<string, string>();
      const xml: Uint8Array[] = [];
      for (const name of decryptor.files) {
        const isXml = name === manifest.encryptedXmlFile;
        const fileDecryptor = decryptor.fileDecryptor(name);
        let size = 0;
        for await (const chunk of cipherChunks(fileDecryptor, await this.#file(envelope, name))) {
          if (!isXml) continue;
          size += chunk.length;
          if (size > MAX_SUBMISSION_XML_BYTES) throw new CryptoError('crypto.bad_input', `its submission XML is larger than ${MAX_SUBMISSION_XML_BYTES} bytes.`);
          xml.push(chunk);
        }
        md5s.set(name, fileDecryptor.md5Hex);
      }
      return { submissionXml: Buffer.concat(xml), signature: await decryptor.signature(md5s) };
    });
  }

  /** The submission's media files, each decrypted as it is read. */
  async media(envelope: StoredEnvelope): Promise<DecryptedMedia[]> {
    return undecryptableOn(envelope, async () => {
      const decryptor = await this.#open(envelope);
      for (const name of decryptor.manifest.mediaFiles) if (!envelope.files.has(name)) throw missing(name);
      return decryptor.manifest.mediaFiles.map((name) => ({
        name: name.slice(0, -'.enc'.length),
        read: () => Readable.from(this.#plaintext(decryptor, envelope, name)),
      }));
    });
  }

  async *#plaintext(decryptor: SubmissionDecryptor, envelope: StoredEnvelope, name: string): AsyncGenerator<Uint8Array> {
    yield* cipherChunks(decryptor.fileDecryptor(name), await this.#file(envelope, name));
  }

  async #open(envelope: StoredEnvelope): Promise<SubmissionDecryptor> {
    const manifest = parseEncryptedManifest(await buffer(await this.#blobs.get(envelope.manifestBlob)));
    return SubmissionDecryptor.open(manifest, this.#keys);
  }

  #file(envelope: StoredEnvelope, name: string): Promise<Readable> {
    const blob = envelope.files.get(name);
    if (blob === undefined) throw missing(name);
    return this.#blobs.get(blob);
  }
}

function missing(name: string): CryptoError {
  return new CryptoError('crypto.missing_file', `${name} has not been received.`);
}

async function undecryptableOn<T>(envelope: StoredEnvelope, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof CryptoError) throw new AppError('key.undecryptable_submission', `Submission ${envelope.instanceId}: ${err.message}`);
    throw err;
  }
}

/**
 * One unwrap at a time in this process: each scrypt run holds 128 MiB and takes seconds of CPU,
 * so a burst of export requests queues here rather than exhausting the server's memory.
 */
let unwrapping: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = unwrapping.then(work, work);
  unwrapping = run.catch(() => undefined);
  return run;
}

/**
 * Every project key the passphrase opens, for an export of `xmlFormId`. Refused, before any
 * key is tried, when the project is not encrypted, forbids decryption on the server, or holds no
 * key the caller could open.
 */
export async function unlockOnServer(scope: KeyScope, xmlFormId: string, passphrase: string): Promise<ServerDecryptor> {
  const db = scope.ctx.database.db;
  const event = { ...scope.source, projectId: scope.access.projectId, resource: { type: 'form', id: xmlFormId } };
  try {
    const keys = await oneAtATime(() => openableKeys(scope, passphrase));
    await recordAudit(db, { ...event, action: 'key.unlock_on_server', details: { keyIds: keys.map((k) => k.id) } });
    return new ServerDecryptor(keys.map((k) => k.key), scope.ctx.blobs);
  } catch (err) {
    if (err instanceof AppError) await recordAudit(db, { ...event, action: 'key.unlock_on_server_failed', details: { reason: err.code } });
    throw err;
  }
}

async function openableKeys(scope: KeyScope, passphrase: string): Promise<Array<{ id: number; key: OdkPrivateKey }>> {
  const db = scope.ctx.database.db;
  const settings = await q.findEncryption(db, scope.access);
  if (!settings) throw new AppError('key.not_enabled');
  if (settings.allow_server_decryption !== 1) throw new AppError('key.server_decryption_forbidden');
  const projectKeys = await q.listKeys(db, scope.access);
  if (projectKeys.every((k) => k.wrapped_private_key === null)) throw new AppError('key.self_managed');

  const actor = scope.source.actor;
  const userId = actor?.kind === 'user' ? actor.userId : null;
  const owner = actor !== undefined && can(actor, 'project.transfer', { project: scope.access });
  const wrapped = owner ? projectKeys.flatMap((k) => (k.wrapped_private_key === null ? [] : [{ id: k.id, blob: k.wrapped_private_key }])) : [];
  const copies = userId === null ? [] : await q.grantsOfUser(db, scope.access, userId);
  const ownKey = copies.length === 0 || userId === null ? undefined : await q.findUserKey(db, userId);
  if (wrapped.length === 0 && !ownKey) throw new AppError('key.no_key_copy');

  const unlocked: Array<{ id: number; key: OdkPrivateKey }> = [];
  for (const { id, blob } of wrapped) {
    const key = await unwrapOrNull(blob, passphrase);
    if (key) unlocked.push({ id, key });
  }
  if (unlocked.length === 0 && ownKey) {
    const own = await unwrapOrNull(ownKey.wrapped_private_key, passphrase);
    if (own) {
      for (const copy of copies) unlocked.push({ id: copy.project_key_id, key: await keyOrRefusal(() => openSealedPrivateKey(copy.sealed_private_key, own), 'key.bad_sealed_key') });
    }
  }
  if (unlocked.length === 0) throw new AppError('key.wrong_passphrase');
  return unlocked;
}

async function unwrapOrNull(blob: string, passphrase: string): Promise<OdkPrivateKey | null> {
  try {
    return await keyOrRefusal(() => unwrapPrivateKey(blob, passphrase), 'key.bad_wrapped_key');
  } catch (err) {
    if (err instanceof AppError && err.code === 'key.wrong_passphrase') return null;
    throw err;
  }
}

/** Key material the server checked when it was stored, and which is refused all the same if it no longer reads. */
async function keyOrRefusal(open: () => Promise<OdkPrivateKey>, code: 'key.bad_wrapped_key' | 'key.bad_sealed_key'): Promise<OdkPrivateKey> {
  try {
    return await open();
  } catch (err) {
    if (err instanceof CryptoError) throw new AppError(err.code === 'crypto.wrong_passphrase' ? 'key.wrong_passphrase' : code, err.message);
    throw err;
  }
}
