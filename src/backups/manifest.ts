/**
 * The archive's first entry, `manifest.json`: what the archive holds and how to read it, written
 * before any data (counts come from the same snapshot as the rows), so a restore knows the schema
 * version and every table's shape before it touches the target.
 */
import { BackupError } from './errors.js';

export const FORMAT_VERSION = 1;

/** How a column's values are written: portable between SQLite and PostgreSQL. */
export type ColumnType = 'integer' | 'real' | 'text' | 'json' | 'bytes';

export interface TableShape {
  name: string;
  columns: Array<{ name: string; type: ColumnType }>;
  primaryKey: string[];
  /** Tables this one has foreign keys to (it is restored after them). */
  references: string[];
  /** The column an id sequence (identity / AUTOINCREMENT) fills, if any. */
  sequenceColumn: string | null;
}

export interface ManifestTable {
  name: string;
  columns: Array<{ name: string; type: ColumnType }>;
  primaryKey: string[];
  rows: number;
  /** The largest id the table's sequence had handed out, so a restore never reuses one. */
  sequence: { column: string; last: number } | null;
  /** Columns holding blob ids: rewritten to the target store's ids on restore. */
  blobColumns: string[];
  /** Columns sealed with the server secret: carried in the clear inside the archive, sealed again on restore. */
  sealedColumns: string[];
}

export interface Manifest {
  format: typeof FORMAT_VERSION;
  fieldkeepVersion: string;
  createdAt: string;
  instanceId: string | null;
  sourceDialect: 'sqlite' | 'postgres';
  /** Every migration applied to the source, in order: the schema version of the rows. */
  migrations: string[];
  /** In restore order: a table comes after every table it references. */
  tables: ManifestTable[];
  blobs: { count: number };
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function encodeManifest(manifest: Manifest): Buffer {
  return Buffer.from(JSON.stringify(manifest, null, 2), 'utf8');
}

function fail(detail: string): never {
  throw new BackupError('backup.corrupt', `The archive's manifest is invalid: ${detail}.`);
}

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const COLUMN_TYPES: readonly ColumnType[] = ['integer', 'real', 'text', 'json', 'bytes'];

/** Parses and checks a manifest; anything that would steer the restore is validated here. */
export function parseManifest(bytes: Buffer): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES) fail('it is larger than 4 MiB');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail('it is not JSON');
  }
  const m = value as Partial<Manifest>;
  if (typeof m !== 'object' || m === null) fail('it is not an object');
  if (m.format !== FORMAT_VERSION) {
    throw new BackupError('backup.schema_newer', `The archive is in backup format ${String(m.format)}; this Fieldkeep reads format ${FORMAT_VERSION}.`);
  }
  if (typeof m.createdAt !== 'string' || typeof m.fieldkeepVersion !== 'string') fail('createdAt or fieldkeepVersion is missing');
  if (m.sourceDialect !== 'sqlite' && m.sourceDialect !== 'postgres') fail('sourceDialect is missing');
  if (!Array.isArray(m.migrations) || !m.migrations.every((n) => typeof n === 'string')) fail('migrations is not a list of names');
  if (!Array.isArray(m.tables)) fail('tables is not a list');
  if (typeof m.blobs?.count !== 'number') fail('blobs.count is missing');
  const seen = new Set<string>();
  for (const t of m.tables) {
    if (typeof t?.name !== 'string' || !NAME.test(t.name) || seen.has(t.name)) fail(`a table name is invalid or repeated (${String(t?.name)})`);
    seen.add(t.name);
    if (!Array.isArray(t.columns) || t.columns.length === 0) fail(`table ${t.name} has no columns`);
    const columns = new Set<string>();
    for (const c of t.columns) {
      if (typeof c?.name !== 'string' || !NAME.test(c.name) || !COLUMN_TYPES.includes(c.type)) fail(`table ${t.name} has an invalid column`);
      columns.add(c.name);
    }
    const known = (names: unknown) => Array.isArray(names) && names.every((n) => typeof n === 'string' && columns.has(n));
    if (!known(t.primaryKey) || !known(t.blobColumns) || !known(t.sealedColumns)) fail(`table ${t.name} names columns it does not have`);
    if (!Number.isSafeInteger(t.rows) || t.rows < 0) fail(`table ${t.name} has an invalid row count`);
    if (t.sequence !== null && (typeof t.sequence !== 'object' || !columns.has(t.sequence.column) || !Number.isSafeInteger(t.sequence.last))) {
      fail(`table ${t.name} has an invalid sequence`);
    }
  }
  return m as Manifest;
}

/** Entry names inside the container. */
export const entryNames = {
  manifest: 'manifest.json',
  blobPrefix: 'blobs/',
  tablePrefix: 'tables/',
  checksums: 'checksums.jsonl',
} as const;

export const tableEntry = (table: string) => `${entryNames.tablePrefix}${table}.jsonl`;
export const blobEntry = (id: string) => `${entryNames.blobPrefix}${id}`;
