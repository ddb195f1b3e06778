/**
 * Verification: the archive is restored into a scratch database (a temporary SQLite file, or a
 * temporary schema of a PostgreSQL database), which proves every entry decrypts, every checksum
 * matches, every file the rows refer to is there and the rows load under the schema's constraints;
 * then the scratch database is migrated, checked (SQLite integrity and foreign keys, the audit
 * chain) and its row counts compared with the manifest. The scratch database is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { verifyAuditChain } from '../audit/index.js';
import { openDatabase, type Database } from '../db/database.js';
import type { DecryptWith } from './encryption.js';
import { openArchive, type ArchiveSource } from './archive-file.js';
import { BackupError } from './errors.js';
import type { Manifest } from './manifest.js';
import * as q from './queries.js';
import { restoreArchive } from './restore.js';

export type Scratch = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

export interface VerifyReport {
  manifest: Manifest;
  rows: number;
  blobs: number;
  blobBytes: number;
  auditEntries: number;
}

export async function verifyArchive(source: ArchiveSource, keys: DecryptWith, scratch: Scratch = { kind: 'sqlite' }, progress?: (done: number, total: number) => void): Promise<VerifyReport> {
  return withScratchDatabase(scratch, async (database) => {
    const plain = await openArchive(source, keys);
    const restored = await restoreArchive(plain, { database, blobs: null, secretKey: randomBytes(32).toString('base64url') }, { auditLabel: null, ...(progress ? { progress } : {}) });
    const problems = database.dialect === 'sqlite' ? await q.sqliteIntegrity(database.db) : [];
    if (problems.length > 0) throw new BackupError('backup.integrity_failed', `The restored database fails its integrity check: ${problems.slice(0, 5).join('; ')}.`);
    for (const table of restored.manifest.tables) {
      const rows = await q.countRows(database.db, table.name);
      if (rows !== table.rows) throw new BackupError('backup.count_mismatch', `Table ${table.name} has ${rows} rows after the restore; the manifest says ${table.rows}.`);
    }
    const chain = await verifyAuditChain(database.db);
    if (!chain.intact) throw new BackupError('backup.integrity_failed', `The audit log in the backup does not verify: ${chain.problem.message}.`);
    return {
      manifest: restored.manifest,
      rows: Object.values(restored.rows).reduce((a, b) => a + b, 0),
      blobs: restored.blobs,
      blobBytes: restored.blobBytes,
      auditEntries: chain.entries,
    };
  });
}

async function withScratchDatabase<T>(scratch: Scratch, work: (database: Database) => Promise<T>): Promise<T> {
  if (scratch.kind === 'sqlite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-verify-'));
    const database = openDatabase({ database: { kind: 'sqlite', path: path.join(dir, 'scratch.sqlite') }, sqliteSynchronous: 'NORMAL', dbPoolSize: 1 });
    try {
      return await work(database);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const schema = `fieldkeep_verify_${randomBytes(6).toString('hex')}`;
  const admin = openDatabase({ database: { kind: 'postgres', url: scratch.url }, sqliteSynchronous: 'NORMAL', dbPoolSize: 1 });
  try {
    await q.createSchema(admin.db, schema);
    const url = new URL(scratch.url);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const database = openDatabase({ database: { kind: 'postgres', url: url.toString() }, sqliteSynchronous: 'NORMAL', dbPoolSize: 2 });
    try {
      return await work(database);
    } finally {
      await database.close();
    }
  } finally {
    await q.dropSchema(admin.db, schema);
    await admin.close();
  }
}
