/*
 * Decryption on the server, for deployments that want ODK Central's way (an export request that
 * carries the passphrase). Off unless the project allows it. The passphrase arrives in a request
 * body, is used here to unwrap the project's keys (or the caller's own key and the copies sealed
 * for them) in memory, and goes no further: it is not stored, logged or put in an error. Each use
 * is audited as `key.unlock_on_server`.
 *
 * Submissions come out one at a time, in `_id` order, as the caller may see them (row filters
 * apply): the decrypted submission XML, the element-signature verdict, and for each attachment a
 * function that streams its plaintext. The verdict is computed by streaming every attachment
 * once (hash only), so memory stays flat however large the media; reading media to export it
 * decrypts it again.
 */
import type { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  CryptoError,
  SubmissionDecryptor,
  cipherChunks,
  openSealedPrivateKey,
  parseEncryptedManifest,
  unwrapPrivateKey,
  type FileDecryptor,
  type OdkPrivateKey,
  type SignatureVerdict,
} from '../crypto/index.js';
import { recordAudit } from '../audit/index.js';
import { AppError } from '../server/errors.js';
import { attachmentsByVersion, listSubmissions, openFormData, type FormData } from '../submissions/index.js';
import * as q from './queries.js';
import type { KeyScope } from './service.js';

export interface ServerDecryptedSubmission {
  /** The submission's `_id` and instanceID (of its first version, which names it). */
  id: number;
  instanceId: string;
  encrypted: boolean;
  /** The plaintext submission XML (as received, for a submission that was not encrypted). */
  submissionXml: Uint8Array;
  /** null for a submission that was not encrypted. */
  signature: SignatureVerdict | null;
  /** Attachments by original name (`.enc` removed), each read as a stream of plaintext. */
  media: Array<{ name: string; read: () => AsyncIterable<Uint8Array> }>;
}

const PAGE = 100;

export async function* decryptSubmissionsOnServer(scope: KeyScope, xmlFormId: string, passphrase: string): AsyncGenerator<ServerDecryptedSubmission> {
  const keys = await unlockOnServer(scope, xmlFormId, passphrase);
  const data = await openFormData(scope, xmlFormId);
  let cursor: string | undefined;
  do {
    const page = await listSubmissions(data, { limit: PAGE, cursor });
    const files = await attachmentsByVersion(data, page.rows.map((r) => r.version_id));
    for (const row of page.rows) {
      const blobs = new Map((files.get(row.version_id) ?? []).flatMap((f) => (f.blob_id === null ? [] : [[f.name, f.blob_id] as const])));
      const xml = await buffer(await scope.ctx.blobs.get(row.xml_blob));
      if (row.encrypted !== 1) {
        yield { id: row.id, instanceId: row.root_instance_id, encrypted: false, submissionXml: xml, signature: null, media: [...blobs].map(([name, blob]) => ({ name, read: () => streamBlob(data, blob) })) };
        continue;
      }
      yield await decryptOne(data, row.id, row.root_instance_id, xml, blobs, keys);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

async function decryptOne(data: FormData, id: number, instanceId: string, manifestXml: Uint8Array, blobs: ReadonlyMap<string, string>, keys: readonly OdkPrivateKey[]): Promise<ServerDecryptedSubmission> {
  try {
    const manifest = parseEncryptedManifest(manifestXml);
    const decryptor = await SubmissionDecryptor.open(manifest, keys);
    const open = (name: string): Promise<Readable> => {
      const blob = blobs.get(name);
      if (blob === undefined) throw new CryptoError('crypto.missing_file', `${name} of submission ${instanceId} has not been received.`);
      return data.scope.ctx.blobs.get(blob);
    };
    const md5s = new Map<string, string>();
    const drain = async (name: string): Promise<Uint8Array[]> => {
      const fileDecryptor = decryptor.fileDecryptor(name);
      const kept: Uint8Array[] = [];
      for await (const chunk of cipherChunks(fileDecryptor, await open(name))) if (name === manifest.encryptedXmlFile) kept.push(chunk);
      md5s.set(name, fileDecryptor.md5Hex);
      return kept;
    };
    for (const name of manifest.mediaFiles) await drain(name);
    const submissionXml = Buffer.concat(await drain(manifest.encryptedXmlFile));
    const signature = await decryptor.signature(md5s);
    const media = manifest.mediaFiles.map((name) => ({
      name: name.slice(0, -'.enc'.length),
      read: async function* (): AsyncGenerator<Uint8Array> {
        const fileDecryptor: FileDecryptor = decryptor.fileDecryptor(name);
        yield* cipherChunks(fileDecryptor, await open(name));
      },
    }));
    return { id, instanceId, encrypted: true, submissionXml, signature, media };
  } catch (err) {
    if (err instanceof CryptoError) throw new AppError('key.undecryptable_submission', `Submission ${instanceId}: ${err.message}`);
    throw err;
  }
}

async function* streamBlob(data: FormData, blobId: string): AsyncGenerator<Uint8Array> {
  yield* await data.scope.ctx.blobs.get(blobId);
}

/** Every project key the passphrase opens: the project's wrapped keys, or the caller's own key and their copies. */
async function unlockOnServer(scope: KeyScope, xmlFormId: string, passphrase: string): Promise<OdkPrivateKey[]> {
  const db = scope.ctx.database.db;
  const settings = await q.findEncryption(db, scope.access);
  if (!settings) throw new AppError('key.not_enabled');
  if (settings.allow_server_decryption !== 1) throw new AppError('key.server_decryption_forbidden');
  const projectKeys = await q.listKeys(db, scope.access);
  const wrapped = projectKeys.flatMap((k) => (k.wrapped_private_key === null ? [] : [{ id: k.id, blob: k.wrapped_private_key }]));
  const userId = scope.source.actor?.kind === 'user' ? scope.source.actor.userId : null;
  const ownKey = userId === null ? undefined : await q.findUserKey(db, userId);
  if (wrapped.length === 0 && !ownKey) throw new AppError('key.self_managed');

  const unlocked: Array<{ id: number; key: OdkPrivateKey }> = [];
  for (const { id, blob } of wrapped) {
    const key = await unwrapOrNull(blob, passphrase);
    if (key) unlocked.push({ id, key });
  }
  if (unlocked.length === 0 && ownKey && userId !== null) {
    const own = await unwrapOrNull(ownKey.wrapped_private_key, passphrase);
    if (own) {
      for (const copy of await q.grantsOfUser(db, scope.access, userId)) {
        unlocked.push({ id: copy.project_key_id, key: await openSealedPrivateKey(copy.sealed_private_key, own) });
      }
    }
  }
  if (unlocked.length === 0) throw new AppError('key.wrong_passphrase');
  await recordAudit(db, {
    ...scope.source,
    action: 'key.unlock_on_server',
    projectId: scope.access.projectId,
    resource: { type: 'form', id: xmlFormId },
    details: { keyIds: unlocked.map((u) => u.id) },
  });
  return unlocked.map((u) => u.key);
}

async function unwrapOrNull(blob: string, passphrase: string): Promise<OdkPrivateKey | null> {
  try {
    return await unwrapPrivateKey(blob, passphrase);
  } catch (err) {
    if (err instanceof CryptoError && err.code === 'crypto.wrong_passphrase') return null;
    throw err;
  }
}
