/**
 * Where archives live: a directory, or a bucket and prefix of S3-compatible storage. Either holds
 * archives named by their creation time, each with a small JSON sidecar of what can be known
 * without decrypting it (when, how big, its SHA-256, who can decrypt it), which `backup list`, the
 * admin API and retention read. Creating, listing, pruning, verifying and restoring all go through
 * this interface, so every one of them works on both kinds.
 */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { BackupS3Settings } from '../config/config.js';
import { BackupError } from './errors.js';
import { retained, type RetentionPolicy } from './retention.js';
import { DirectoryLocation } from './directory.js';
import { S3Location } from './s3.js';

export interface ArchiveInfo {
  file: string;
  createdAt: string;
  bytes: number;
  sha256: string;
  encrypted: boolean;
  recipients: string[];
  passphrase: boolean;
  instanceId: string | null;
  fieldkeepVersion: string;
  sourceDialect: string;
  rows: number;
  blobs: number;
}

export interface BackupLocation {
  /** As an operator writes it: the directory's absolute path, or `s3://bucket/prefix`. */
  readonly name: string;
  /**
   * Lets `write` fill the sink and makes the archive appear under `file` only once all of it is
   * stored; when `write` or the storage fails, nothing is left under that name. Returns what
   * `write` returned.
   */
  writeArchive<T>(file: string, write: (sink: Writable) => Promise<T>): Promise<T>;
  /** Writes `<file>.json` (small: written whole). */
  writeSidecar(file: string, text: string): Promise<void>;
  /** The names of everything directly in the location (archives, sidecars and whatever else). */
  names(): Promise<string[]>;
  /** A sidecar's text, or undefined when it is gone or unreadable. */
  readSidecar(file: string): Promise<string | undefined>;
  /** The archive's bytes; `backup.not_an_archive` when there is no such archive. */
  read(file: string): Promise<Readable>;
  /** Deletes an archive and its sidecar (the archive first: a sidecar alone is never listed). */
  remove(file: string): Promise<void>;
  /** Where `file` is, for messages. */
  describe(file: string): string;
  /** Releases connections (S3); the location is not used afterwards. */
  close(): void;
}

const ARCHIVE = /^fieldkeep-\d{8}T\d{9}Z\.fkb(\.age)?$/;
const SIDECAR_MAX_CHARS = 64 * 1024;

/** `fieldkeep-20260501T023000123Z.fkb.age`: sorts by time, and says whether it is encrypted. */
export function archiveName(createdAt: Date, encrypted: boolean): string {
  const stamp = createdAt.toISOString().replace(/[-:.]/g, '');
  return `fieldkeep-${stamp}.fkb${encrypted ? '.age' : ''}`;
}

/** `s3://bucket/prefix` (prefix optional) or a directory, relative to `baseDir`. */
export function openLocation(text: string, s3: BackupS3Settings, baseDir: string = process.cwd()): BackupLocation {
  if (!/^s3:\/\//i.test(text)) {
    if (text.trim() === '') throw new BackupError('backup.bad_location', 'The backup location is empty: give a directory or s3://bucket/prefix.');
    return new DirectoryLocation(path.resolve(baseDir, text));
  }
  const { bucket, key } = splitS3Url(text);
  return new S3Location(s3, bucket, key);
}

/**
 * An archive named by a path or an `s3://bucket/prefix/file` URL, as `verify` and `restore` take
 * it: the location it is in, and its name there. The S3 settings are asked for only for an
 * `s3://` reference.
 */
export function openArchiveLocation(reference: string, s3: () => BackupS3Settings, baseDir: string = process.cwd()): { location: BackupLocation; file: string } {
  if (!/^s3:\/\//i.test(reference)) {
    const resolved = path.resolve(baseDir, reference);
    return { location: new DirectoryLocation(path.dirname(resolved)), file: path.basename(resolved) };
  }
  const { bucket, key } = splitS3Url(reference);
  const slash = key.lastIndexOf('/');
  const file = key.slice(slash + 1);
  if (file === '' || reference.endsWith('/')) throw new BackupError('backup.bad_location', `${reference} names a prefix, not an archive: give s3://bucket/prefix/fieldkeep-….fkb.age.`);
  return { location: new S3Location(s3(), bucket, slash < 0 ? '' : key.slice(0, slash)), file };
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function splitS3Url(text: string): { bucket: string; key: string } {
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const key = (slash < 0 ? '' : rest.slice(slash + 1)).replace(/\/+$/, '');
  if (!BUCKET.test(bucket)) throw new BackupError('backup.bad_location', `${JSON.stringify(text.slice(0, 200))}: ${JSON.stringify(bucket.slice(0, 80))} is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens).`);
  if (key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new BackupError('backup.bad_location', `${JSON.stringify(text.slice(0, 200))}: the prefix has an empty, "." or ".." part.`);
  }
  return { bucket, key };
}

/** The archives in `location` with their sidecars, newest first; archives without a readable sidecar are left out. */
export async function listArchives(location: BackupLocation): Promise<ArchiveInfo[]> {
  const names = await location.names();
  const present = new Set(names);
  const infos: ArchiveInfo[] = [];
  for (const name of names.filter((n) => ARCHIVE.test(n) && present.has(`${n}.json`))) {
    const info = parseSidecar(name, await location.readSidecar(name));
    if (info !== undefined) infos.push(info);
  }
  return infos.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** A sidecar that parses and describes the archive it sits beside; anything else is not listed. */
function parseSidecar(file: string, text: string | undefined): ArchiveInfo | undefined {
  if (text === undefined || text.length > SIDECAR_MAX_CHARS) return undefined;
  try {
    const info = JSON.parse(text) as ArchiveInfo;
    return info.file === file && typeof info.createdAt === 'string' && !Number.isNaN(Date.parse(info.createdAt)) ? info : undefined;
  } catch {
    return undefined;
  }
}

export async function saveSidecar(location: BackupLocation, info: ArchiveInfo): Promise<void> {
  await location.writeSidecar(info.file, `${JSON.stringify(info, null, 2)}\n`);
}

/** Deletes the archives (and sidecars) the retention policy does not keep, except those in `spare`; returns their names. */
export async function pruneArchives(location: BackupLocation, policy: RetentionPolicy, spare: ReadonlySet<string> = new Set()): Promise<string[]> {
  const archives = await listArchives(location);
  const keep = retained(archives.map((a) => new Date(a.createdAt)), policy);
  const removed: string[] = [];
  for (const [i, archive] of archives.entries()) {
    if (keep.has(i) || spare.has(archive.file)) continue;
    await location.remove(archive.file);
    removed.push(archive.file);
  }
  return removed;
}
