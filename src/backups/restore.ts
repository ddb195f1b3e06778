/**
 * Reading an archive back into a database: the target's schema brought to the archive's version,
 * blobs put into the target's store (which encrypts them under the target's own master key and
 * gives them new ids), the tables in order, with blob ids rewritten and sealed columns sealed again
 * for the target, then the remaining migrations; all in one transaction that commits only after
 * the last checksum and the end of the archive have been read and the last migration has run. A
 * cut-off or altered archive, or a migration that fails on the restored rows, therefore leaves the
 * target as it was.
 */
import { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import { sealSecret } from '../accounts/sealed.js';
import { recordAudit } from '../audit/index.js';
import type { BlobStore } from '../blobs/index.js';
import type { Database } from '../db/database.js';
import type { Tables } from '../db/tables.js';
import { lines, readContainer, type ContainerEntry, type EntryDigest } from './container.js';
import { fieldkeepVersion } from './create.js';
import { BackupError } from './errors.js';
import { entryNames, parseManifest, tableEntry, type ColumnType, type Manifest, type ManifestTable } from './manifest.js';
import { knownMigrations, migrateWithin } from './migrate.js';
import { dropOrder, EXCLUDED_TABLES, isBlobColumn, restoreOrder, SEALED_COLUMNS, SEEDED_TABLES } from './plan.js';
import * as q from './queries.js';
import { openScratchIndex, type ScratchIndex } from './scratch.js';

const BLOB_ID = /^[0-9a-f]{64}$/;
const MAX_PARAMETERS = 30_000;
const MAX_BATCH_ROWS = 500;

export interface RestoreTarget {
  database: Database;
  /** Where blobs go; null to check them and let them go (verification into a scratch database). */
  blobs: BlobStore | null;
  /** The target's server secret, which sealed columns are sealed with again. */
  secretKey: string;
}

export interface RestoreOptions {
  /** Replace whatever the target holds; without it a target with data is refused. */
  force?: boolean;
  /** Recorded as the actor of the `backup.restore` audit entry (null: no entry, for scratch verification). */
  auditLabel?: string | null;
  progress?: (done: number, total: number) => void;
}

export interface RestoreReport {
  manifest: Manifest;
  /** Rows restored per table. */
  rows: Record<string, number>;
  blobs: number;
  blobBytes: number;
}

/** Restores the archive read from `plain` (already decrypted) into `target`. */
export async function restoreArchive(plain: AsyncIterable<Buffer | Uint8Array>, target: RestoreTarget, options: RestoreOptions = {}): Promise<RestoreReport> {
  const entries = readContainer(plain)[Symbol.asyncIterator]();
  const index = await openScratchIndex();
  const { dialect } = target.database;
  let wroteBlobsIntoEmptyTarget = false;
  try {
    const first = await nextEntry(entries);
    if (first?.name !== entryNames.manifest) throw new BackupError('backup.corrupt', 'The archive does not start with its manifest.');
    const manifest = parseManifest(await readWhole(first, 4 * 1024 * 1024));
    await recordDigest(index, first);

    // One transaction from the emptiness check to the last migration: whatever fails (the archive,
    // a row, a file, a migration), the target is left exactly as it was, schema included.
    return await target.database.db.transaction().execute(async (trx) => {
      const tables = await q.tableNames(trx, dialect);
      // SQLite needs no lock: its first write fails, changing nothing, if another process wrote since this read.
      if (dialect === 'postgres') await q.lockTables(trx, tables);
      const wasEmpty = await isEmpty(trx, tables);
      if (!wasEmpty && !options.force) {
        throw new BackupError('backup.target_not_empty', 'The target database already holds data: restore only into an empty instance, or pass --force to replace everything in it.');
      }
      await prepareSchema(trx, dialect, tables, manifest);
      const shapes = await checkTables(trx, dialect, manifest);

      const total = manifest.blobs.count + manifest.tables.reduce((n, t) => n + t.rows, 0);
      let done = 0;
      const step = (n: number) => {
        done += n;
        options.progress?.(done, total);
      };
      options.progress?.(0, total);

      wroteBlobsIntoEmptyTarget = wasEmpty && target.blobs !== null;
      const { entry: afterBlobs, blobs, blobBytes } = await restoreBlobs(entries, index, target.blobs, step);
      if (blobs !== manifest.blobs.count) {
        throw new BackupError('backup.blob_missing', `The archive holds ${blobs} files but its manifest lists ${manifest.blobs.count}: ${Math.abs(manifest.blobs.count - blobs)} are missing or extra.`);
      }

      const rows: Record<string, number> = {};
      for (const shape of [...shapes].reverse()) await q.deleteAllRows(trx, shape.name);
      let entry = afterBlobs;
      for (const table of manifest.tables) {
        if (entry?.name !== tableEntry(table.name)) throw new BackupError('backup.corrupt', `The archive lacks the rows of table ${table.name} (found ${entry?.name ?? 'the end'}).`);
        rows[table.name] = await restoreTable(trx, target, table, entry, index, step);
        await recordDigest(index, entry);
        if (rows[table.name] !== table.rows) {
          throw new BackupError('backup.count_mismatch', `Table ${table.name} has ${rows[table.name]} rows in the archive but its manifest says ${table.rows}.`);
        }
        const sequence = shapes.find((s) => s.name === table.name)?.sequenceColumn;
        if (table.sequence !== null && sequence) await q.setSequence(trx, dialect, table.name, sequence, table.sequence.last);
        entry = await nextEntry(entries);
      }
      if (entry?.name !== entryNames.checksums) throw new BackupError('backup.corrupt', `The archive lacks its checksum list (found ${entry?.name ?? 'the end'}).`);
      await checkChecksums(entry, index);
      if (!(await entries.next()).done) throw new BackupError('backup.corrupt', 'The archive has entries after its checksum list.');
      if (options.auditLabel) {
        await recordAudit(trx, {
          actorLabel: options.auditLabel,
          action: 'backup.restore',
          resource: { type: 'instance', id: manifest.instanceId ?? 'unknown' },
          details: { archiveCreatedAt: manifest.createdAt, sourceDialect: manifest.sourceDialect, fieldkeepVersion: manifest.fieldkeepVersion, blobs, rows: Object.values(rows).reduce((a, b) => a + b, 0) },
        });
      }
      await migrateWithin(trx, dialect);
      await checkNothingForeignDropped(trx, dialect, tables);
      return { manifest, rows, blobs, blobBytes };
    });
  } catch (err) {
    if (wroteBlobsIntoEmptyTarget && target.blobs !== null) await removeWrittenBlobs(index, target.blobs);
    throw err;
  } finally {
    await entries.return?.(undefined);
    await index.close();
  }
}

async function nextEntry(entries: AsyncIterator<ContainerEntry>): Promise<ContainerEntry | undefined> {
  const step = await entries.next();
  return step.done ? undefined : step.value;
}

async function recordDigest(index: ScratchIndex, entry: ContainerEntry): Promise<void> {
  await index.addDigest(entry.digest());
}

async function readWhole(entry: ContainerEntry, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of entry.content) {
    size += chunk.length;
    if (size > limit) throw new BackupError('backup.corrupt', `Entry ${entry.name} is larger than ${limit} bytes.`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

/**
 * Empty: no rows in any table except those a new instance fills by itself: the migration
 * bookkeeping, the job queue and schedules and the backup runs (left out of archives; a server's
 * first start sets its schedules there), and the one row each of the tables migrations seed (the
 * instance id and the audit chain's head). A server's first start writes nothing else into the
 * database: its secret and master key are files.
 */
async function isEmpty(db: q.AnyDb, tables: readonly string[]): Promise<boolean> {
  for (const table of tables) {
    if (EXCLUDED_TABLES.has(table) || SEEDED_TABLES.has(table)) continue;
    if (await q.hasRows(db, table)) return false;
  }
  return true;
}

/**
 * Builds the target's schema afresh at the archive's version, so rows are restored into the schema
 * they were read from, refusing an archive from a newer Fieldkeep. The target holds nothing to
 * keep (it is empty, or --force gives it up), so whatever tables it has are dropped first: a new
 * instance that a server has started is already migrated to this version, possibly past the
 * archive, and migrations only go forward.
 */
async function prepareSchema(trx: Transaction<Tables>, dialect: Database['dialect'], tables: readonly string[], manifest: Manifest): Promise<void> {
  const known = knownMigrations();
  const unknown = manifest.migrations.find((name, i) => known[i] !== name);
  if (unknown !== undefined) {
    throw new BackupError(
      'backup.schema_newer',
      `This backup was made by Fieldkeep ${manifest.fieldkeepVersion}; its schema includes migration ${unknown}, which this Fieldkeep (${fieldkeepVersion()}, up to migration ${known[known.length - 1]}) does not have: upgrade Fieldkeep to ${manifest.fieldkeepVersion} or newer, then restore it.`,
    );
  }
  const last = manifest.migrations[manifest.migrations.length - 1];
  if (last === undefined) throw new BackupError('backup.corrupt', 'The archive names no migrations.');
  const shapes = await Promise.all(tables.map((t) => q.describeTable(trx, dialect, t)));
  for (const shape of dropOrder(shapes)) await q.dropTable(trx, shape.name);
  await migrateWithin(trx, dialect, last);
}

/**
 * Every table the target had must exist again once it is migrated: one that does not was not made
 * by Fieldkeep (another application's, in the same database or schema) and must not be dropped.
 */
async function checkNothingForeignDropped(trx: Transaction<Tables>, dialect: Database['dialect'], before: readonly string[]): Promise<void> {
  const now = new Set(await q.tableNames(trx, dialect));
  const foreign = before.filter((t) => !now.has(t));
  if (foreign.length > 0) {
    throw new BackupError('backup.target_not_empty', `The target database has tables this Fieldkeep does not make (${foreign.join(', ')}): restore into a database (or PostgreSQL schema) that only Fieldkeep uses. Nothing was restored.`);
  }
}

/** The target's tables must be exactly the archive's (same names and columns): both are at one schema version. */
async function checkTables(db: q.AnyDb, dialect: Database['dialect'], manifest: Manifest) {
  const shapes = restoreOrder(await Promise.all((await q.tableNames(db, dialect)).map((t) => q.describeTable(db, dialect, t))));
  const byName = new Map(shapes.map((s) => [s.name, s]));
  for (const table of manifest.tables) {
    const shape = byName.get(table.name);
    if (shape === undefined) throw new BackupError('backup.corrupt', `The archive has a table ${table.name} that its schema version does not have.`);
    const columns = new Set(shape.columns.map((c) => c.name));
    const foreign = table.columns.find((c) => !columns.has(c.name));
    if (foreign !== undefined) throw new BackupError('backup.corrupt', `The archive's table ${table.name} has a column ${foreign.name} that its schema version does not have.`);
    // Which columns hold blob ids or sealed values is this code's knowledge, not the archive's word.
    const blobColumns = table.columns.filter((c) => c.type === 'text' && isBlobColumn(c.name)).map((c) => c.name);
    const sealedColumns = table.columns.filter((c) => (SEALED_COLUMNS[table.name] ?? []).includes(c.name)).map((c) => c.name);
    if (blobColumns.join() !== table.blobColumns.join() || sealedColumns.join() !== table.sealedColumns.join()) {
      throw new BackupError('backup.corrupt', `The archive's manifest misdescribes the file or sealed columns of table ${table.name}.`);
    }
  }
  const missing = shapes.find((s) => !manifest.tables.some((t) => t.name === s.name));
  if (missing !== undefined) throw new BackupError('backup.corrupt', `The archive has no entry for table ${missing.name}.`);
  return shapes;
}

/** Small blobs are read whole and stored several at a time (each store waits for its own fsyncs). */
const SMALL_BLOB_BYTES = 1024 * 1024;
const PUTS_IN_FLIGHT = 16;

async function restoreBlobs(entries: AsyncIterator<ContainerEntry>, index: ScratchIndex, store: BlobStore | null, step: (n: number) => void) {
  let blobs = 0;
  let blobBytes = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const settle = async (all: boolean) => {
    while (inFlight.size > (all ? 0 : PUTS_IN_FLIGHT - 1)) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  };
  const record = async (oldId: string, newId: string, digest: EntryDigest) => {
    if (!(await q.recordBlob(index.db, { old_id: oldId, new_id: newId, sha256: digest.sha256, size: digest.size }))) {
      throw new BackupError('backup.corrupt', `The archive holds file ${oldId} twice.`);
    }
    await index.addDigest(digest);
    blobs += 1;
    blobBytes += digest.size;
    step(1);
  };
  try {
    for (;;) {
      const entry = await nextEntry(entries);
      if (entry === undefined || !entry.name.startsWith(entryNames.blobPrefix)) {
        await settle(true);
        return { entry, blobs, blobBytes };
      }
      await restoreBlob(entry);
    }
  } catch (err) {
    // What is still being written must land before the caller removes what this restore wrote.
    await Promise.allSettled(inFlight);
    throw err;
  }

  async function restoreBlob(entry: ContainerEntry): Promise<void> {
    const oldId = entry.name.slice(entryNames.blobPrefix.length);
    if (!BLOB_ID.test(oldId)) throw new BackupError('backup.corrupt', `The archive has a file entry with an invalid name (${entry.name}).`);
    if (store === null) {
      for await (const _ of entry.content);
      await record(oldId, oldId, entry.digest());
      return;
    }
    const chunks = entry.content[Symbol.asyncIterator]();
    const head: Buffer[] = [];
    let headBytes = 0;
    let whole = false;
    while (headBytes <= SMALL_BLOB_BYTES) {
      const next = await chunks.next();
      if (next.done) {
        whole = true;
        break;
      }
      head.push(next.value);
      headBytes += next.value.length;
    }
    if (whole) {
      await settle(false);
      const digest = entry.digest();
      const put = store
        .put(Buffer.concat(head))
        .then((stored) => record(oldId, stored.id, digest))
        .catch((err: unknown) => {
          failure ??= err;
        });
      const tracked = put.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      return;
    }
    await settle(true);
    const rest = async function* () {
      yield* head;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    };
    const stored = await store.put(Readable.from(rest()));
    await record(oldId, stored.id, entry.digest());
  }
}

async function restoreTable(db: q.AnyDb, target: RestoreTarget, table: ManifestTable, entry: ContainerEntry, index: ScratchIndex, step: (n: number) => void): Promise<number> {
  const columns = table.columns.map((c) => c.name);
  const decoders = table.columns.map((c) => (table.sealedColumns.includes(c.name) ? decodeSealed(target.secretKey) : decoderFor(c.type, target.database.dialect)));
  const blobPositions = table.blobColumns.map((c) => columns.indexOf(c));
  const batchRows = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_PARAMETERS / columns.length)));
  const override = table.sequence !== null;
  let batch: unknown[][] = [];
  let count = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await mapBlobIds(batch, blobPositions, table, index);
    await q.insertRows(db, target.database.dialect, table.name, columns, batch, override);
    step(batch.length);
    batch = [];
  };
  for await (const line of lines(entry.content)) {
    let values: unknown;
    try {
      values = JSON.parse(line);
    } catch {
      throw new BackupError('backup.corrupt', `Row ${count + 1} of table ${table.name} is not valid JSON.`);
    }
    if (!Array.isArray(values) || values.length !== columns.length) throw new BackupError('backup.corrupt', `Row ${count + 1} of table ${table.name} does not have ${columns.length} values.`);
    batch.push(values.map((v, i) => decoders[i]!(v, table.name, columns[i]!)));
    count += 1;
    if (batch.length >= batchRows) await flush();
  }
  await flush();
  return count;
}

async function mapBlobIds(batch: unknown[][], positions: readonly number[], table: ManifestTable, index: ScratchIndex): Promise<void> {
  if (positions.length === 0) return;
  const oldIds = batch.flatMap((row) => positions.map((p) => row[p]).filter((v): v is string => typeof v === 'string'));
  const mapping = await q.newBlobIds(index.db, oldIds);
  for (const row of batch) {
    for (const p of positions) {
      const old = row[p];
      if (typeof old !== 'string') continue;
      const mapped = mapping.get(old);
      if (mapped === undefined) {
        const key = table.primaryKey.map((c) => `${c}=${String(row[table.columns.findIndex((x) => x.name === c)])}`).join(', ');
        throw new BackupError('backup.blob_missing', `Table ${table.name} (${key}) refers to file ${old} in column ${table.columns[p]!.name}, which the archive does not hold.`);
      }
      row[p] = mapped;
    }
  }
}

type Decoder = (value: unknown, table: string, column: string) => unknown;

function decoderFor(type: ColumnType, dialect: Database['dialect']): Decoder {
  const wrong = (table: string, column: string): never => {
    throw new BackupError('backup.corrupt', `A value of ${table}.${column} in the archive is not of its type (${type}).`);
  };
  switch (type) {
    case 'bytes':
      return (v, t, c) => (v === null ? null : typeof v === 'string' ? Buffer.from(v, 'base64') : wrong(t, c));
    case 'integer':
    case 'real':
      return (v, t, c) => (v === null || typeof v === 'number' ? v : wrong(t, c));
    case 'json':
    case 'text':
      // PostgreSQL takes JSON text for a jsonb column; SQLite stores it as the text it is.
      return (v, t, c) => (v === null || typeof v === 'string' ? v : dialect === 'postgres' && type === 'json' ? JSON.stringify(v) : wrong(t, c));
  }
}

function decodeSealed(secretKey: string): Decoder {
  return (v, t, c) => {
    if (v === null) return null;
    const sealed = v as { plain?: unknown; sealed?: unknown };
    if (typeof sealed.plain === 'string') return sealSecret(secretKey, sealed.plain);
    if (typeof sealed.sealed === 'string') return sealed.sealed;
    throw new BackupError('backup.corrupt', `A sealed value of ${t}.${c} in the archive is malformed.`);
  };
}

/** The checksum list must name every entry before it, with the size and digest it was read with. */
async function checkChecksums(entry: ContainerEntry, index: ScratchIndex): Promise<void> {
  await index.flushDigests();
  let listed = 0;
  for await (const line of lines(entry.content)) {
    let digest: EntryDigest;
    try {
      digest = JSON.parse(line) as EntryDigest;
    } catch {
      throw new BackupError('backup.corrupt', 'The checksum list is not valid JSON lines.');
    }
    const read = await q.digestOf(index.db, String(digest.name));
    if (read === undefined) throw new BackupError('backup.corrupt', `The checksum list names ${String(digest.name)}, which the archive does not hold.`);
    if (read.sha256 !== digest.sha256 || read.size !== digest.size) throw new BackupError('backup.corrupt', `Entry ${digest.name} does not match the checksum list.`);
    listed += 1;
  }
  const read = await q.countDigests(index.db);
  if (listed !== read) throw new BackupError('backup.corrupt', `The checksum list names ${listed} entries but the archive holds ${read}.`);
}

/** After a failed restore into an empty instance, the files it had written are referred to by nothing. */
async function removeWrittenBlobs(index: ScratchIndex, store: BlobStore): Promise<void> {
  for (let after = ''; ; ) {
    const rows = await q.allNewBlobIdsAfter(index.db, after, 1000);
    for (const row of rows) if (row.new_id !== null) await store.deleteUnlessInUse(row.new_id, { inUse: async () => false, graceMs: 0 });
    if (rows.length < 1000) return;
    after = rows[rows.length - 1]!.old_id;
  }
}
