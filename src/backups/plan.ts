/**
 * Which tables a backup carries, in which order, and which of their columns need more than a copy.
 * Pure: takes the shapes the database reports, returns decisions.
 */
import { BackupError } from './errors.js';
import type { TableShape } from './manifest.js';

/**
 * Tables left out: the migration bookkeeping (the manifest records the migrations instead), the
 * job queue (work in progress and generated exports, which expire; a restored instance starts with
 * an empty queue and its schedules are set again at start) and the backup runs (they describe the
 * source's files, not data).
 */
export const EXCLUDED_TABLES: ReadonlySet<string> = new Set(['kysely_migration', 'kysely_migration_lock', 'job', 'job_schedule', 'backup_runs']);

/** Tables a migration fills with one row of its own; an instance holding only those is empty. */
export const SEEDED_TABLES: ReadonlySet<string> = new Set(['instance', 'audit_head']);

/**
 * A column holds a blob id (src/blobs) when it is named `blob_id`, or ends in `_blob` or `_blob_id`:
 * the convention every table follows (`xml_blob`, `xform_blob`, `source_blob`, `blob_id`).
 */
export function isBlobColumn(name: string): boolean {
  return /(^|_)blob(_id)?$/.test(name);
}

/** Columns sealed with the server secret (src/accounts/sealed.ts); a column the schema does not have (yet) is ignored. */
export const SEALED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  users: ['totp_secret', 'totp_pending_secret'],
  devices: ['token_sealed'],
};

/**
 * The included tables ordered so that every table comes after the tables it references (a
 * self-reference does not count); ties broken by name, so the order is stable. A cycle of foreign
 * keys cannot be restored table by table and is refused, naming the tables.
 */
export function restoreOrder(shapes: readonly TableShape[]): TableShape[] {
  const ordered = dependencyOrder(shapes.filter((s) => !EXCLUDED_TABLES.has(s.name)));
  for (const s of ordered) {
    if (s.primaryKey.length === 0) throw new BackupError('backup.integrity_failed', `Table ${s.name} has no primary key, so it cannot be read a page at a time.`);
    const excludedParent = s.references.find((r) => EXCLUDED_TABLES.has(r));
    if (excludedParent !== undefined) throw new BackupError('backup.integrity_failed', `Table ${s.name} refers to ${excludedParent}, which backups leave out.`);
  }
  return ordered;
}

/**
 * Every table (left-out ones included), each before the tables it references: the order in which
 * dropping them never leaves a row referring to a table already gone (SQLite checks foreign keys as
 * it drops).
 */
export function dropOrder(shapes: readonly TableShape[]): TableShape[] {
  return dependencyOrder(shapes).reverse();
}

function dependencyOrder(shapes: readonly TableShape[]): TableShape[] {
  const included = new Map(shapes.map((s) => [s.name, s]));
  const ordered: TableShape[] = [];
  const placed = new Set<string>();
  while (placed.size < included.size) {
    const ready = [...included.values()]
      .filter((s) => !placed.has(s.name) && s.references.every((r) => r === s.name || placed.has(r) || !included.has(r)))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (ready.length === 0) {
      const stuck = [...included.keys()].filter((n) => !placed.has(n)).sort();
      throw new BackupError('backup.integrity_failed', `The tables ${stuck.join(', ')} refer to each other in a cycle; they cannot be restored in order.`);
    }
    for (const s of ready) {
      ordered.push(s);
      placed.add(s.name);
    }
  }
  return ordered;
}
