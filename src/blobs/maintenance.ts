/**
 * Whole-store work on the blob directory: counting files by format and master key, re-wrapping
 * every data key under a new master key (rotation), and re-sealing files written before master
 * keys (version 1). Each walks every blob file, in place and set aside by a deletion in progress,
 * and is safe to run while the server runs and to run again after a crash: both only change a file
 * that still needs it.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BlobError } from './errors.js';
import { formatOf, HEADER_BYTES, keyIdOf, rewrapHeader } from './format.js';
import type { FsBlobStore } from './fs-store.js';
import { applyJournal, applyPendingJournals, writeJournal, type HeaderChange } from './journal.js';
import { forgetKeyInUse, keysInUse } from './keys.js';

const HEX2 = /^[0-9a-f]{2}$/;
const ID = /^[0-9a-f]{64}$/;
const SET_ASIDE = /^([0-9a-f]{64})\.[A-Za-z0-9_-]+$/;
const BATCH = 256;
/** Passes over the store a rotation makes at most while files it could not re-wrap turn up again. */
const MAX_PASSES = 3;

export interface BlobFile {
  id: string;
  /** Relative to the store's root. */
  file: string;
}

export type Progress = (done: number, total: number) => void;

export interface Unreadable {
  file: string;
  reason: string;
}

/** Every blob file: `xx/yy/<id>`, and `deleting/<id>.<suffix>` (set aside by a purge, possibly put back). */
export function* blobFiles(root: string): Generator<BlobFile> {
  for (const top of listDir(root).filter((n) => HEX2.test(n)).sort()) {
    for (const sub of listDir(path.join(root, top)).filter((n) => HEX2.test(n)).sort()) {
      for (const name of listDir(path.join(root, top, sub))) {
        if (ID.test(name) && name.startsWith(top + sub)) yield { id: name, file: `${top}/${sub}/${name}` };
      }
    }
  }
  for (const name of listDir(path.join(root, 'deleting'))) {
    const match = SET_ASIDE.exec(name);
    if (match) yield { id: match[1]!, file: `deleting/${name}` };
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

function countFiles(root: string): number {
  let n = 0;
  for (const _ of blobFiles(root)) n += 1;
  return n;
}

/** The first bytes of a file (up to a version 2 header), or null when it is gone. */
function readHead(root: string, file: string): Buffer | null {
  let fd: number;
  try {
    fd = openSync(path.join(root, file), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    return head.subarray(0, readSync(fd, head, 0, HEADER_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}

export interface StoreStatus {
  /** Version 2 files per master key id. */
  byKey: Record<string, number>;
  /** Version 1 files (sealed under the server secret, before master keys). */
  legacy: number;
  unrecognised: Unreadable[];
  /** Ids recorded in `keys/` as wrapping files. */
  keysInUse: string[];
}

export function storeStatus(store: FsBlobStore, progress: Progress = () => {}): StoreStatus {
  const status: StoreStatus = { byKey: {}, legacy: 0, unrecognised: [], keysInUse: keysInUse(store.root) };
  const total = countFiles(store.root);
  let done = 0;
  for (const blob of blobFiles(store.root)) {
    progress(++done, total);
    const head = readHead(store.root, blob.file);
    if (head === null) continue;
    const format = formatOf(head);
    if (format === 'v1') status.legacy += 1;
    else if (format === 'v2') status.byKey[keyIdOf(head)] = (status.byKey[keyIdOf(head)] ?? 0) + 1;
    else status.unrecognised.push({ file: blob.file, reason: 'not a Fieldkeep blob file' });
  }
  return status;
}

export interface RewrapReport {
  keyId: string;
  rewrapped: number;
  /** Files under another master key that could not be re-wrapped (a wrong or damaged header). */
  unreadable: Unreadable[];
  /** Files still under another key: gone or replaced while being re-wrapped, and seen again on every pass. */
  remaining: number;
  /** Version 1 files, which do not depend on any master key (`fieldkeep blobs encrypt` turns them into version 2). */
  legacy: number;
  /** Every readable file is under the current key: the other keys are no longer needed. */
  complete: boolean;
}

/**
 * Re-wraps the data key of every file under a key other than the keyring's current one, rewriting
 * only headers, through the journal (journal.ts). On completion, the store's record of keys in use
 * names only the current key.
 */
export function rewrapAll(store: FsBlobStore, progress: Progress = () => {}): Promise<RewrapReport> {
  return withMaintenanceLock(store.root, async () => {
    applyPendingJournals(store.root);
    await store.recordKeyInUse(store.keyring.current);
    let report: RewrapReport | undefined;
    let rewrapped = 0;
    for (let pass = 1; pass <= MAX_PASSES; pass++) {
      report = rewrapPass(store, progress);
      rewrapped += report.rewrapped;
      if (report.remaining === 0) break;
    }
    const final = { ...report!, rewrapped };
    if (final.complete) for (const id of keysInUse(store.root)) if (id !== store.keyring.current.id) forgetKeyInUse(store.root, id);
    return final;
  });
}

function rewrapPass(store: FsBlobStore, progress: Progress): RewrapReport {
  const { root, keyring } = store;
  const current = keyring.current;
  const report: RewrapReport = { keyId: current.id, rewrapped: 0, unreadable: [], remaining: 0, legacy: 0, complete: false };
  let batch: HeaderChange[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const applied = applyJournal(root, writeJournal(root, batch));
    report.rewrapped += applied;
    report.remaining += batch.length - applied;
    batch = [];
  };
  const total = countFiles(root);
  let done = 0;
  for (const blob of blobFiles(root)) {
    progress(++done, total);
    const head = readHead(root, blob.file);
    if (head === null) continue;
    const format = formatOf(head);
    if (format === 'v1') {
      report.legacy += 1;
      continue;
    }
    if (format === null) {
      report.unreadable.push({ file: blob.file, reason: 'not a Fieldkeep blob file' });
      continue;
    }
    if (keyIdOf(head) === current.id) continue;
    try {
      batch.push({ file: blob.file, before: head, after: rewrapHeader(head, keyring, current, blob.id) });
    } catch (err) {
      if (!(err instanceof BlobError)) throw err;
      report.unreadable.push({ file: blob.file, reason: err.message });
      continue;
    }
    if (batch.length >= BATCH) flush();
  }
  flush();
  report.complete = report.remaining === 0;
  return report;
}

export interface EncryptReport {
  encrypted: number;
  failed: Unreadable[];
}

/** Re-seals every version 1 file under the current master key (a new file renamed over the old). */
export function encryptLegacyAll(store: FsBlobStore, progress: Progress = () => {}): Promise<EncryptReport> {
  return withMaintenanceLock(store.root, async () => {
    const report: EncryptReport = { encrypted: 0, failed: [] };
    const total = countFiles(store.root);
    let done = 0;
    for (const blob of blobFiles(store.root)) {
      progress(++done, total);
      const head = readHead(store.root, blob.file);
      if (head === null || formatOf(head) !== 'v1') continue;
      try {
        if (await store.encryptLegacy(blob.file, blob.id)) report.encrypted += 1;
      } catch (err) {
        if (!(err instanceof BlobError)) throw err;
        report.failed.push({ file: blob.file, reason: err.message });
      }
    }
    return report;
  });
}

/**
 * One whole-store job at a time: two rotations writing different (each valid) headers over the
 * same file could tear it into neither. The lock names its process; one left by a process that
 * is gone is taken over.
 */
async function withMaintenanceLock<T>(root: string, work: () => Promise<T>): Promise<T> {
  const lock = path.join(root, 'maintenance.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const pid = Number(readFileSync(lock, 'utf8'));
      if (isRunning(pid)) {
        throw new BlobError('blob.maintenance_running', `Process ${pid} is rotating the master key or encrypting files in ${root}; wait for it to finish (or remove ${lock} if no such process runs).`);
      }
      rmSync(lock, { force: true });
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

export function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
