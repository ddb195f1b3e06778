/*
 * Offline decryption of downloaded ODK envelopes: a directory tree is searched for encryption
 * manifests (an XML file whose root says encrypted="yes", e.g. Briefcase's
 * `instances/<instance>/submission.xml`), and each is decrypted with the `.enc` files beside it
 * into `<out>/<instanceID>/`: `submission.xml` and the attachments under their own names. Files
 * stream through the decryptor, so memory stays flat whatever their size. A submission that
 * cannot be decrypted (wrong key, missing or damaged file) is reported and the rest go on.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CryptoError, SubmissionDecryptor, cipherChunks, parseEncryptedManifest, type OdkPrivateKey, type SignatureVerdict } from '../crypto/index.js';

export interface DecryptOutcome {
  /** The manifest's path, relative to the input directory. */
  manifest: string;
  instanceId: string | null;
  signature: SignatureVerdict | null;
  /** Why the submission could not be decrypted; null when it was. */
  error: string | null;
  outDir: string | null;
}

const HEAD_BYTES = 4096;
const MAX_MANIFEST_BYTES = 1024 * 1024;

/** Every encryption manifest under `root`, depth first, in name order. */
export async function findManifests(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith('.xml') && (await looksEncrypted(full))) found.push(full);
    }
  };
  await walk(root);
  return found;
}

async function looksEncrypted(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    return /\sencrypted\s*=\s*["']yes["']/.test(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

/** A directory name for an instanceID: `uuid:6f1b…` becomes `uuid-6f1b…`. */
export function instanceDirName(instanceId: string): string {
  return instanceId.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^\.+/, '_');
}

export async function decryptManifest(manifestPath: string, keys: readonly OdkPrivateKey[], inRoot: string, outRoot: string): Promise<DecryptOutcome> {
  const relative = path.relative(inRoot, manifestPath);
  let instanceId: string | null = null;
  let staging: string | null = null;
  try {
    const xml = await readFile(manifestPath);
    if (xml.length > MAX_MANIFEST_BYTES) throw new CryptoError('crypto.bad_manifest', 'The manifest is larger than 1 MiB.');
    const manifest = parseEncryptedManifest(xml);
    instanceId = manifest.instanceId;
    const decryptor = await SubmissionDecryptor.open(manifest, keys);
    const target = path.join(outRoot, instanceDirName(manifest.instanceId));
    staging = `${target}.partial`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const sources = decryptor.files.map((name) => ({ name, path: path.join(path.dirname(manifestPath), name) }));
    for (const source of sources) {
      await access(source.path).catch(() => {
        throw new CryptoError('crypto.missing_file', `${source.name} is missing beside the manifest; every file the manifest lists is needed.`);
      });
    }
    const md5s = new Map<string, string>();
    for (const source of sources) {
      const fileDecryptor = decryptor.fileDecryptor(source.name);
      const plain = path.join(staging, source.name.slice(0, -'.enc'.length));
      await pipeline(createReadStream(source.path), (chunks: AsyncIterable<Uint8Array>) => cipherChunks(fileDecryptor, chunks), createWriteStream(plain));
      md5s.set(source.name, fileDecryptor.md5Hex);
    }
    const signature = await decryptor.signature(md5s);
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
    return { manifest: relative, instanceId, signature, error: null, outDir: target };
  } catch (err) {
    if (staging) await rm(staging, { recursive: true, force: true });
    return { manifest: relative, instanceId, signature: null, error: reasonOf(err), outDir: null };
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
