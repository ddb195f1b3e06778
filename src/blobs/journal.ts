/**
 * Rotation re-wraps a blob by writing its header over the old one, in place: the sealed content is
 * not touched. A write of a few dozen bytes is not promised to reach the disk whole, so each batch
 * of new headers is first made durable in a journal (`<blob dir>/rewrap-<random>.journal`, complete
 * or absent: written aside, then renamed); a crash in the middle of a batch is repaired by applying
 * the journal again, at the next rotation run or the next time the store is opened. A journal is
 * removed only by whoever has just applied all of it, and each has a name of its own, so a process
 * opening the store during a rotation never removes the journal of a batch still being written.
 *
 * Applying a change writes the new header only over the old one or a mix of the two (a torn
 * write); a file whose header is neither was replaced since (the same content stored again, with
 * a data key of its own) and is left as it is.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { BlobError } from './errors.js';
import { HEADER_BYTES } from './format.js';
import { fsyncDirSync } from './keys.js';

export interface HeaderChange {
  /** The blob's file, relative to the store's root. */
  file: string;
  before: Buffer;
  after: Buffer;
}

interface JournalEntry {
  file: string;
  before: string;
  after: string;
}

const JOURNAL = /^rewrap-[0-9a-f]{12}\.journal$/;
const BLOB_FILE = /^(?:[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}|deleting\/[0-9a-f]{64}\.[A-Za-z0-9_-]+)$/;

/** The journals of batches not known to be complete: a rotation under way or cut short. */
export function pendingJournals(root: string): string[] {
  try {
    return readdirSync(root).filter((name) => JOURNAL.test(name)).map((name) => path.join(root, name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

const checksum = (entries: JournalEntry[]) => createHash('sha256').update(JSON.stringify(entries)).digest('hex');

/** Makes the batch durable as a journal, whose path it returns; only then may its headers be written. */
export function writeJournal(root: string, changes: readonly HeaderChange[]): string {
  const entries = changes.map((c) => ({ file: c.file, before: c.before.toString('hex'), after: c.after.toString('hex') }));
  const tmpDir = path.join(root, 'tmp');
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = path.join(tmpDir, `journal-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify({ entries, sha256: checksum(entries) }));
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const file = path.join(root, `rewrap-${randomBytes(6).toString('hex')}.journal`);
  renameSync(tmp, file);
  fsyncDirSync(root);
  return file;
}

/**
 * Applies the journal `file`, then removes it. Returns how many headers are now written; none when
 * the journal is gone (another process applied all of it).
 */
export function applyJournal(root: string, file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  let applied = 0;
  for (const change of parseJournal(text, file)) if (applyChange(root, change)) applied += 1;
  rmSync(file, { force: true });
  fsyncDirSync(root);
  return applied;
}

/** Applies every journal a crash left behind. */
export function applyPendingJournals(root: string): void {
  for (const file of pendingJournals(root)) applyJournal(root, file);
}

function parseJournal(text: string, file: string): HeaderChange[] {
  const damaged = () => new BlobError('blob.corrupt', `The rotation journal ${file} is damaged; restore the blob directory from a backup if rotated files fail to read.`);
  let parsed: { entries?: unknown; sha256?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw damaged();
  }
  const entries = parsed.entries as JournalEntry[];
  if (!Array.isArray(entries) || parsed.sha256 !== checksum(entries)) throw damaged();
  return entries.map((e) => {
    const change = { file: e.file, before: Buffer.from(e.before, 'hex'), after: Buffer.from(e.after, 'hex') };
    if (!BLOB_FILE.test(change.file) || change.before.length !== HEADER_BYTES || change.after.length !== HEADER_BYTES) throw damaged();
    return change;
  });
}

/** Writes one new header (see above); true when the file now has it, durably. */
function applyChange(root: string, change: HeaderChange): boolean {
  let fd: number;
  try {
    fd = openSync(path.join(root, change.file), 'r+');
  } catch (err) {
    // Deleted, or moved aside by a purge, since its header was read: rotation looks for it again.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    const read = readSync(fd, head, 0, HEADER_BYTES, 0);
    if (read !== HEADER_BYTES) return false;
    if (!head.equals(change.after)) {
      if (!head.every((b, i) => b === change.before[i] || b === change.after[i])) return false;
      writeSync(fd, change.after, 0, HEADER_BYTES, 0);
    }
    // Also when it already reads the new header: it may be in the page cache only.
    fdatasyncSync(fd);
    return true;
  } finally {
    closeSync(fd);
  }
}
