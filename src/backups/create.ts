/**
 * Writing an archive: one consistent snapshot of the database (SQLite: a read transaction on a
 * connection of its own, so the server keeps writing; PostgreSQL: a REPEATABLE READ READ ONLY
 * transaction), every blob the snapshot refers to, then the tables in restore order, a page at a
 * time. Everything streams: memory holds a page of rows or a frame of a blob, whatever the size.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { unsealSecret } from '../accounts/sealed.js';
import { BlobError, type BlobStore } from '../blobs/index.js';
import type { Database } from '../db/database.js';
import { cachingStatements } from '../db/statement-cache.js';
import { batched, containerBytes, type EntryDigest } from './container.js';
import { encryptStream, type EncryptTo } from './encryption.js';
import { BackupError } from './errors.js';
import { blobEntry, encodeManifest, entryNames, FORMAT_VERSION, tableEntry, type ColumnType, type Manifest, type ManifestTable } from './manifest.js';
import { isBlobColumn, restoreOrder, SEALED_COLUMNS } from './plan.js';
import * as q from './queries.js';
import { openScratchIndex, type ScratchIndex } from './scratch.js';

const PAGE_ROWS = 1000;
const BLOBS_AHEAD = 8;

export interface BackupSource {
  database: Database;
  blobs: BlobStore;
  /** The server secret, to unseal what is sealed with it (the archive must not depend on it). */
  secretKey: string;
}

export type Encryption = { kind: 'age'; to: EncryptTo } | { kind: 'none' };

export interface Progress {
  /** Rows and blobs written so far, out of `total`. */
  (done: number, total: number): void;
}

export interface WrittenBackup {
  manifest: Manifest;
  /** Bytes written to the sink (after encryption) and their SHA-256. */
  bytes: number;
  sha256: string;
  rows: number;
}

export const fieldkeepVersion = (): string => process.env.npm_package_version ?? '0.1.0';

/** Writes one archive of `source` into `sink` (a file, usually) and resolves once it is flushed. */
export async function writeBackup(source: BackupSource, sink: Writable, encryption: Encryption, progress: Progress = () => {}, signal?: AbortSignal): Promise<WrittenBackup> {
  const index = await openScratchIndex();
  try {
    return await withSnapshot(source.database, async (db) => {
      const shapes = await Promise.all((await q.tableNames(db, source.database.dialect)).map((t) => q.describeTable(db, source.database.dialect, t)));
      const tables = await manifestTables(db, source.database.dialect, restoreOrder(shapes));
      const blobCount = await collectBlobIds(db, tables, index);
      const manifest: Manifest = {
        format: FORMAT_VERSION,
        fieldkeepVersion: fieldkeepVersion(),
        createdAt: new Date().toISOString(),
        instanceId: (await q.instanceId(db)) ?? null,
        sourceDialect: source.database.dialect,
        migrations: await q.appliedMigrations(db),
        tables,
        blobs: { count: blobCount },
      };
      const rows = tables.reduce((n, t) => n + t.rows, 0);
      const total = rows + blobCount;
      let done = 0;
      const step = (n: number) => {
        done += n;
        progress(done, total);
      };
      progress(0, total);
      const entries = archiveEntries(db, source, manifest, index, step);
      const plain = Readable.from(containerBytes(entries, (digest) => index.addDigest(digest)));
      const measured = new Measure();
      const stages = encryption.kind === 'age' ? [await encryptStream(plain, encryption.to), measured] : [plain, measured];
      await pipeline([...stages, sink] as unknown as [Readable, Transform, Writable], signal ? { signal } : {});
      return { manifest, bytes: measured.bytes, sha256: measured.hash.digest('hex'), rows };
    });
  } finally {
    await index.close();
  }
}

/** Counts and hashes what goes into the file, as it passes. */
class Measure extends Transform {
  bytes = 0;
  readonly hash = createHash('sha256');

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }
}

/**
 * SQLite: a second connection to the same file, whose read transaction sees one moment of the
 * database while the server's connection goes on writing (WAL). PostgreSQL: one pooled connection
 * held for the whole read.
 */
async function withSnapshot<T>(database: Database, work: (db: q.AnyDb) => Promise<T>): Promise<T> {
  const run = async (db: q.AnyDb) => {
    await q.beginSnapshot(db, database.dialect);
    try {
      return await work(db);
    } finally {
      await q.endSnapshot(db);
    }
  };
  if (database.dialect === 'postgres') return database.db.connection().execute((connection) => run(connection));
  if (database.sqlitePath === undefined) throw new Error('a SQLite database without a file cannot be backed up');
  const handle = new SQLite(database.sqlitePath, { fileMustExist: true });
  handle.pragma('busy_timeout = 5000');
  const reader = new Kysely<unknown>({ dialect: new SqliteDialect({ database: cachingStatements(handle) }) });
  try {
    return await run(reader);
  } finally {
    await reader.destroy();
  }
}

async function manifestTables(db: q.AnyDb, dialect: Database['dialect'], shapes: Awaited<ReturnType<typeof q.describeTable>>[]): Promise<ManifestTable[]> {
  const tables: ManifestTable[] = [];
  for (const shape of shapes) {
    const sealed = SEALED_COLUMNS[shape.name] ?? [];
    tables.push({
      name: shape.name,
      columns: shape.columns,
      primaryKey: shape.primaryKey,
      rows: await q.countRows(db, shape.name),
      sequence: shape.sequenceColumn === null ? null : { column: shape.sequenceColumn, last: await q.sequenceLast(db, dialect, shape.name, shape.sequenceColumn) },
      blobColumns: shape.columns.filter((c) => c.type === 'text' && isBlobColumn(c.name)).map((c) => c.name),
      sealedColumns: shape.columns.filter((c) => sealed.includes(c.name)).map((c) => c.name),
    });
  }
  return tables;
}

/** Every row of `table`, a page at a time in primary-key order, with only `columns` read. */
async function* pages(db: q.AnyDb, table: ManifestTable, columns: readonly string[]): AsyncGenerator<q.Row[]> {
  let after: unknown[] | null = null;
  for (;;) {
    const rows = await q.rowsAfter(db, { table: table.name, primaryKey: table.primaryKey, columns, after, limit: PAGE_ROWS });
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < PAGE_ROWS) return;
    const last = rows[rows.length - 1]!;
    after = table.primaryKey.map((c) => last[c]);
  }
}

/** Puts every distinct blob id the snapshot refers to into the index; returns how many. */
async function collectBlobIds(db: q.AnyDb, tables: readonly ManifestTable[], index: ScratchIndex): Promise<number> {
  let count = 0;
  for (const table of tables) {
    if (table.blobColumns.length === 0) continue;
    for await (const rows of pages(db, table, [...new Set([...table.primaryKey, ...table.blobColumns])])) {
      const ids = rows.flatMap((row) => table.blobColumns.map((c) => row[c]).filter((v): v is string => typeof v === 'string'));
      count += await q.addBlobIds(index.db, ids);
    }
  }
  return count;
}

async function* archiveEntries(db: q.AnyDb, source: BackupSource, manifest: Manifest, index: ScratchIndex, step: (n: number) => void) {
  yield { name: entryNames.manifest, content: once(encodeManifest(manifest)) };
  // The next few blobs are opened while one is written, so their reads overlap (each holds at most
  // its stream's buffers until its turn).
  const ahead: Array<{ id: string; opened: Promise<Readable> }> = [];
  const open = (id: string) => {
    const opened = source.blobs.get(id);
    // Until its turn nobody listens: a failure is kept for the reader (the iterator reports it), not thrown.
    opened.then((stream) => stream.on('error', () => {})).catch(() => {});
    ahead.push({ id, opened });
  };
  for (let after = ''; ; ) {
    const ids = await q.blobIdsAfter(index.db, after, PAGE_ROWS);
    for (const id of ids) {
      open(id);
      if (ahead.length < BLOBS_AHEAD) continue;
      const next = ahead.shift()!;
      yield { name: blobEntry(next.id), content: blobContent(next.id, next.opened) };
      step(1);
    }
    if (ids.length < PAGE_ROWS) break;
    after = ids[ids.length - 1]!;
  }
  for (const next of ahead.splice(0)) {
    yield { name: blobEntry(next.id), content: blobContent(next.id, next.opened) };
    step(1);
  }
  for (const table of manifest.tables) {
    yield { name: tableEntry(table.name), content: batched(tableLines(db, table, source.secretKey, step)) };
  }
  yield { name: entryNames.checksums, content: batched(checksumLines(index)) };
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

async function* blobContent(id: string, opened: Promise<Readable>): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of await opened) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof BlobError && err.code === 'blob.not_found') {
      throw new BackupError('backup.blob_missing', `Blob ${id} is referred to by the database but is missing from the blob store; nothing was backed up.`);
    }
    if (err instanceof BlobError && err.code === 'blob.corrupt') {
      throw new BackupError('backup.corrupt', `Blob ${id} in the blob store is damaged (it fails authentication); nothing was backed up.`);
    }
    throw err;
  }
}

async function* tableLines(db: q.AnyDb, table: ManifestTable, secretKey: string, step: (n: number) => void): AsyncGenerator<string> {
  const columns = table.columns.map((c) => c.name);
  const encoders = table.columns.map((c) => (table.sealedColumns.includes(c.name) ? encodeSealed(secretKey) : encoderFor(c.type)));
  for await (const rows of pages(db, table, columns)) {
    let text = '';
    for (const row of rows) text += `${JSON.stringify(columns.map((c, i) => encoders[i]!(row[c])))}\n`;
    yield text;
    step(rows.length);
  }
}

type Encoder = (value: unknown) => unknown;

/** Values as JSON: numbers and text as they are, jsonb as its text, bytes as base64. */
function encoderFor(type: ColumnType): Encoder {
  switch (type) {
    case 'bytes':
      return (v) => (v === null || v === undefined ? null : Buffer.from(v as Uint8Array).toString('base64'));
    case 'json':
      return (v) => (v === null || v === undefined || typeof v === 'string' ? (v ?? null) : JSON.stringify(v));
    case 'integer':
    case 'real':
      return (v) => (v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : v);
    case 'text':
      return (v) => v ?? null;
  }
}

/**
 * A sealed value goes into the (encrypted) archive opened, `{"plain": …}`, so a restore under a
 * different server secret seals it again; one that no longer opens (sealed under an older secret)
 * is kept as it is, `{"sealed": …}`, rather than silently dropped.
 */
function encodeSealed(secretKey: string): Encoder {
  return (v) => {
    if (typeof v !== 'string') return null;
    const plain = unsealSecret(secretKey, v);
    return plain === null ? { sealed: v } : { plain };
  };
}

async function* checksumLines(index: ScratchIndex): AsyncGenerator<string> {
  await index.flushDigests();
  for (let after = 0; ; ) {
    const rows = await q.digestsAfter(index.db, after, PAGE_ROWS);
    for (const row of rows) yield `${JSON.stringify({ name: row.name, size: row.size, sha256: row.sha256 } satisfies EntryDigest)}\n`;
    if (rows.length < PAGE_ROWS) return;
    after = rows[rows.length - 1]!.seq;
  }
}
