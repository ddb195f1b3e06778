/**
 * What the fault suites check after every fault: the database's own integrity, the references
 * between rows and stored files, the audit chain, and, submission by submission, that what a phone
 * sent is stored whole and byte for byte.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { sql } from 'kysely';
import { verifyAuditChain } from '../../../src/audit/index.js';
import type { BlobStore } from '../../../src/blobs/index.js';
import type { Database } from '../../../src/db/database.js';
import type { Sent } from './instance.js';

const CHUNK = 500;

/**
 * Problems with the stored data as a whole; an empty list when it is consistent:
 * - SQLite: `PRAGMA integrity_check` and `PRAGMA foreign_key_check`;
 * - both: every submission has a current version that is its own, no version or attachment row
 *   without its parent, every blob a row names exists, and the audit hash chain is intact.
 */
export async function integrityProblems(database: Database, blobs: BlobStore): Promise<string[]> {
  const problems: string[] = [];
  const db = database.db;
  if (database.dialect === 'sqlite') {
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db);
    const verdict = integrity.rows.map((r) => r.integrity_check).join('; ');
    if (verdict !== 'ok') problems.push(`integrity_check: ${verdict}`);
    const foreign = await sql<Record<string, unknown>>`pragma foreign_key_check`.execute(db);
    if (foreign.rows.length > 0) problems.push(`foreign_key_check: ${JSON.stringify(foreign.rows.slice(0, 5))}`);
  }
  const withoutCurrent = await db
    .selectFrom('submissions as s')
    .leftJoin('submission_versions as v', 'v.id', 's.current_version_id')
    .select(['s.instance_id', 's.current_version_id', 'v.submission_id'])
    .where((eb) => eb.or([eb('s.current_version_id', 'is', null), eb('v.id', 'is', null), eb('v.submission_id', '!=', eb.ref('s.id'))]))
    .execute();
  for (const row of withoutCurrent) problems.push(`submission ${row.instance_id} has no current version of its own (current_version_id ${row.current_version_id})`);
  const orphanVersions = await db
    .selectFrom('submission_versions as v')
    .leftJoin('submissions as s', 's.id', 'v.submission_id')
    .select('v.id')
    .where('s.id', 'is', null)
    .execute();
  for (const row of orphanVersions) problems.push(`version ${row.id} has no submission`);
  const orphanAttachments = await db
    .selectFrom('submission_attachments as a')
    .leftJoin('submission_versions as v', 'v.id', 'a.version_id')
    .select('a.id')
    .where('v.id', 'is', null)
    .execute();
  for (const row of orphanAttachments) problems.push(`attachment ${row.id} has no version`);
  const named = [
    ...(await db.selectFrom('submission_versions').select('xml_blob as blob').execute()),
    ...(await db.selectFrom('submission_attachments').select('blob_id as blob').where('blob_id', 'is not', null).execute()),
  ];
  for (const { blob } of named) if (blob !== null && !(await blobs.has(blob))) problems.push(`blob ${blob} is named by a row but missing`);
  const chain = await verifyAuditChain(db);
  if (!chain.intact) problems.push(`audit chain: ${chain.problem.message}`);
  return problems;
}

export interface Stored {
  /** instanceIDs of the given submissions that are visible. */
  visible: Set<string>;
  /** Visible submissions whose XML or an attachment is missing or differs from what was sent. */
  incomplete: string[];
}

/** For each given submission: is it visible, and if so, is it exactly what was sent, files included? */
export async function storedSubmissions(database: Database, blobs: BlobStore, sent: readonly Sent[]): Promise<Stored> {
  const visible = new Set<string>();
  const incomplete: string[] = [];
  const read = async (id: string) => buffer(await blobs.get(id));
  for (let start = 0; start < sent.length; start += CHUNK) {
    const chunk = sent.slice(start, start + CHUNK);
    const versions = await database.db
      .selectFrom('submissions as s')
      .innerJoin('submission_versions as v', 'v.id', 's.current_version_id')
      .select(['s.instance_id', 'v.id as version_id', 'v.xml_blob'])
      .where('s.instance_id', 'in', chunk.map((s) => s.instanceId))
      .execute();
    const attachments = versions.length === 0 ? [] : await database.db
      .selectFrom('submission_attachments')
      .select(['version_id', 'name', 'blob_id'])
      .where('version_id', 'in', versions.map((v) => v.version_id))
      .execute();
    const bySent = new Map(chunk.map((s) => [s.instanceId, s]));
    for (const version of versions) {
      const expected = bySent.get(version.instance_id)!;
      visible.add(version.instance_id);
      const problems: string[] = [];
      if (!(await read(version.xml_blob)).equals(expected.xml)) problems.push('XML differs');
      const rows = attachments.filter((a) => a.version_id === version.version_id);
      if (rows.length !== expected.files.length) problems.push(`${rows.length} attachment rows for ${expected.files.length} files`);
      for (const file of expected.files) {
        const row = rows.find((r) => r.name === file.name);
        if (row?.blob_id == null) problems.push(`${file.name} missing`);
        else if (!(await read(row.blob_id)).equals(file.bytes)) problems.push(`${file.name} differs`);
      }
      if (problems.length > 0) incomplete.push(`${version.instance_id}: ${problems.join(', ')}`);
    }
  }
  return { visible, incomplete };
}

/**
 * Every stored file written since `since` (ms since the epoch) reads back whole: the store's own
 * authentication fails on a file cut short, so a file a crash left half-written would show here.
 * Files still being written (the store's `tmp/`) are not stored files and are skipped.
 */
export async function unreadableBlobsSince(root: string, blobs: BlobStore, since: number): Promise<string[]> {
  const unreadable: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (dir !== root || /^[0-9a-f]{2}$/.test(entry.name)) await walk(full);
      } else if (/^[0-9a-f]{64}$/.test(entry.name) && (await stat(full)).mtimeMs >= since) {
        try {
          await buffer(await blobs.get(entry.name));
        } catch (err) {
          unreadable.push(`${entry.name}: ${(err as Error).message}`);
        }
      }
    }
  };
  await walk(root);
  return unreadable;
}
