/**
 * The backup directory: archives named by their creation time, each with a small JSON sidecar of
 * what can be known without decrypting it (when, how big, its SHA-256, who can decrypt it), which
 * `backup list`, the admin API and retention read.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { retained, type RetentionPolicy } from './retention.js';

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

const ARCHIVE = /^fieldkeep-\d{8}T\d{9}Z\.fkb(\.age)?$/;

/** `fieldkeep-20260501T023000123Z.fkb.age`: sorts by time, and says whether it is encrypted. */
export function archiveName(createdAt: Date, encrypted: boolean): string {
  const stamp = createdAt.toISOString().replace(/[-:.]/g, '');
  return `fieldkeep-${stamp}.fkb${encrypted ? '.age' : ''}`;
}

export async function ensureDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

export async function writeSidecar(dir: string, info: ArchiveInfo): Promise<void> {
  await writeFile(path.join(dir, `${info.file}.json`), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** The archives in `dir` with their sidecars, newest first; archives without a readable sidecar are left out. */
export async function listArchives(dir: string): Promise<ArchiveInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    // Not there (yet), or not a directory: no archives to show; writing to it reports the problem.
    if (['ENOENT', 'ENOTDIR'].includes((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
  const present = new Set(names);
  const infos: ArchiveInfo[] = [];
  for (const name of names.filter((n) => ARCHIVE.test(n))) {
    if (!present.has(`${name}.json`)) continue;
    try {
      infos.push(JSON.parse(await readFile(path.join(dir, `${name}.json`), 'utf8')) as ArchiveInfo);
    } catch {
      continue;
    }
  }
  return infos.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Deletes the archives (and sidecars) the retention policy does not keep; returns their names. */
export async function pruneArchives(dir: string, policy: RetentionPolicy): Promise<string[]> {
  const archives = await listArchives(dir);
  const keep = retained(archives.map((a) => new Date(a.createdAt)), policy);
  const removed: string[] = [];
  for (const [i, archive] of archives.entries()) {
    if (keep.has(i)) continue;
    await rm(path.join(dir, archive.file), { force: true });
    await rm(path.join(dir, `${archive.file}.json`), { force: true });
    removed.push(archive.file);
  }
  return removed;
}
