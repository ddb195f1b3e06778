import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { cachingStatements } from '../db/statement-cache.js';
import type { EntryDigest } from './container.js';
import { createScratchTables, recordDigests, type ScratchTables } from './queries.js';

export interface ScratchIndex {
  readonly db: Kysely<ScratchTables>;
  /** Notes an entry's digest; written in batches (call `flushDigests` before reading them). */
  addDigest(digest: EntryDigest): Promise<void>;
  flushDigests(): Promise<void>;
  close(): Promise<void>;
}

const DIGEST_BATCH = 500;

/**
 * A throwaway SQLite file for what a backup or restore must remember per blob and per entry (ids
 * seen, old id → new id, digests): on disk rather than in memory, which would grow with the data.
 * Durability is irrelevant, so journaling and syncing are off.
 */
export async function openScratchIndex(): Promise<ScratchIndex> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-backup-index-'));
  const handle = new SQLite(path.join(dir, 'index.sqlite'));
  handle.pragma('journal_mode = OFF');
  handle.pragma('synchronous = OFF');
  // Cached statements: a restore asks the index one question per blob and per entry, and each
  // statement prepared anew holds native memory the garbage collector does not see until later.
  const db = new Kysely<ScratchTables>({ dialect: new SqliteDialect({ database: cachingStatements(handle) }) });
  await createScratchTables(db);
  let pending: EntryDigest[] = [];
  const flushDigests = async () => {
    const batch = pending;
    pending = [];
    await recordDigests(db, batch);
  };
  return {
    db,
    addDigest: async (digest) => {
      pending.push(digest);
      if (pending.length >= DIGEST_BATCH) await flushDigests();
    },
    flushDigests,
    close: async () => {
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
