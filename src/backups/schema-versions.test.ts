/**
 * Archives of another schema version: an archive made before later migrations restores into the
 * schema it was read from and is then migrated like any upgrade (here: before 0009, which types
 * every stored answer into `data_json`), also into a new instance that a server has already
 * started (and so migrated past the archive), on the same database or the other one; an archive
 * from a newer Fieldkeep is refused, naming the migration this version lacks; a restore that fails
 * part way, in the rows or in a migration, leaves the target exactly as it was.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { unsealSecret } from '../accounts/sealed.js';
import { loadConfig } from '../config/config.js';
import { verifyAuditChain } from '../audit/index.js';
import { migrationStatus, migrator, openDatabase, type Database } from '../db/database.js';
import { startServer } from '../server/start.js';
import { createScratchStorage, describeEachDatabase, type DatabaseKind, type ScratchStorage } from '../../test/support/databases.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import type { ArchiveSource } from './archive-file.js';
import { emptyInstance, expectSameData, fillSource, sourceContext, startedInstance, TOTP_PLAIN, type Instance } from './backups.test-support.js';
import { containerBytes, readContainer, type EntryDigest } from './container.js';
import { writeBackup } from './create.js';
import { DirectoryLocation } from './directory.js';
import { entryNames, type Manifest } from './manifest.js';
import { knownMigrations } from './migrate.js';
import { EXCLUDED_TABLES, restoreOrder } from './plan.js';
import * as q from './queries.js';
import { restoreBackupFile } from './service.js';
import { verifyArchive } from './verify.js';

/** The last migration before the one that adds typed answers (`submission_versions.data_json`). */
const OLD_SCHEMA = '0008-public-links';
const NO_KEYS = { identities: [], passphrases: [] };
/** Each command starts a process that compiles the sources (tsx): seconds apiece on a shared machine. */
const CLI_TIMEOUT = 300_000;
const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-backup-versions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (file: string): ArchiveSource => ({ location: new DirectoryLocation(path.dirname(file)), file: path.basename(file) });

/**
 * A copy of `source` as an instance of the old schema would hold it: every table that schema has,
 * with the columns it has, rows as they are (the attachments stay in the source's blob store).
 */
async function copyIntoOldSchema(source: Database, old: Database): Promise<void> {
  const { error } = await (await migrator(old)).migrateTo(OLD_SCHEMA);
  if (error) throw error;
  const shapes = restoreOrder(await Promise.all((await q.tableNames(old.db, old.dialect)).filter((t) => !EXCLUDED_TABLES.has(t)).map((t) => q.describeTable(old.db, old.dialect, t))));
  for (const shape of [...shapes].reverse()) await q.deleteAllRows(old.db, shape.name);
  for (const shape of shapes) {
    const columns = shape.columns.map((c) => c.name);
    let after: unknown[] | null = null;
    for (;;) {
      const rows = await q.rowsAfter(source.db, { table: shape.name, primaryKey: shape.primaryKey, columns, after, limit: 500 });
      await q.insertRows(old.db, old.dialect, shape.name, columns, rows.map((r) => columns.map((c) => r[c])), shape.sequenceColumn !== null);
      if (rows.length < 500) break;
      after = shape.primaryKey.map((c) => rows[rows.length - 1]![c]);
    }
    if (shape.sequenceColumn !== null) await q.setSequence(old.db, old.dialect, shape.name, shape.sequenceColumn, await q.sequenceLast(source.db, source.dialect, shape.name, shape.sequenceColumn));
  }
}

/**
 * Rewrites a plain archive entry by entry (`change` sees each entry's name and content, and the
 * manifest as read), with a checksum list that matches again: damage the checksums cannot catch.
 */
async function rewriteArchive(file: string, out: string, change: (name: string, content: Buffer, manifest: Manifest) => Buffer): Promise<void> {
  const digests: EntryDigest[] = [];
  let manifest: Manifest | undefined;
  const entries = (async function* () {
    for await (const entry of readContainer(Readable.from(readFileSync(file)))) {
      const parts: Buffer[] = [];
      for await (const part of entry.content) parts.push(part);
      const content = Buffer.concat(parts);
      manifest ??= JSON.parse(content.toString('utf8')) as Manifest;
      const changed = entry.name === entryNames.checksums ? Buffer.from(digests.map((d) => `${JSON.stringify(d)}\n`).join('')) : change(entry.name, content, manifest);
      yield { name: entry.name, content: Readable.from([changed]) };
    }
  })();
  const bytes: Buffer[] = [];
  for await (const part of containerBytes(entries, (digest) => void digests.push(digest))) bytes.push(part);
  writeFileSync(out, Buffer.concat(bytes));
}

async function withManifest(file: string, out: string, change: (manifest: Manifest) => void): Promise<void> {
  await rewriteArchive(file, out, (name, content) => {
    if (name !== entryNames.manifest) return content;
    const manifest = JSON.parse(content.toString('utf8')) as Manifest;
    change(manifest);
    return Buffer.from(JSON.stringify(manifest));
  });
}

/**
 * Everything a failed restore must leave as it was: every table's columns and rows, the indexes,
 * the id sequences, and every file in the data directory (blobs, keys) but the database's own.
 */
async function snapshot(instance: Instance): Promise<unknown> {
  const { db, dialect } = instance.database;
  const tables: Record<string, unknown> = {};
  for (const name of await q.tableNames(db, dialect)) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.id(name)}`.execute(db)).rows.map((r) => JSON.stringify(r)).sort();
    tables[name] = { shape: await q.describeTable(db, dialect, name), rows };
  }
  const schema =
    dialect === 'sqlite'
      ? [...(await sql`select type, name, tbl_name, sql from sqlite_master order by type, name`.execute(db)).rows, ...(await sql`select name, seq from sqlite_sequence order by name`.execute(db)).rows]
      : [
          ...(await sql`select indexname, indexdef from pg_indexes where schemaname = current_schema() order by indexname`.execute(db)).rows,
          ...(await sql`select sequencename, last_value from pg_sequences where schemaname = current_schema() order by sequencename`.execute(db)).rows,
        ];
  const dir = instance.storage.dataDir;
  // Left out: the database's own files, and the blob store's empty marker saying that its master
  // key has wrapped a file (src/blobs/keys.ts), which stays once a restore has stored one, so that
  // a later start insists on that key.
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => !/^fieldkeep\.sqlite/.test(f) && !f.startsWith(path.join('blobs', 'keys')) && statSync(path.join(dir, f)).isFile())
    .sort()
    .map((f) => `${f} ${createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')}`);
  return { tables, schema, files };
}

const postgresAvailable = 'url' in inject('postgres');

describeEachDatabase('archives of other schema versions', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  let old: ScratchStorage;
  let oldArchive: string;
  let currentArchive: string;
  /** An instance administrator of the source, whose API token the archives carry. */
  let checker: TestUser;
  const restoreInto = (target: Instance, archive: string, force = false) =>
    restoreBackupFile({ database: target.database, blobs: target.blobs, secretKey: target.config.secretKey! }, at(archive), NO_KEYS, { force });

  beforeAll(async () => {
    await fillSource(env());
    checker = await createTestUser(env(), 'backup_checker', { admin: true });
    const source = sourceContext(env());
    old = await createScratchStorage(kind);
    const oldDatabase = openDatabase({ database: old.target, sqliteSynchronous: 'NORMAL', dbPoolSize: 2 });
    try {
      await copyIntoOldSchema(source.database, oldDatabase);
      oldArchive = path.join(dir, `old-${kind}.fkb`);
      const written = await writeBackup({ database: oldDatabase, blobs: source.blobs, secretKey: source.config.secretKey! }, createWriteStream(oldArchive), { kind: 'none' });
      expect(written.manifest.migrations.at(-1)).toBe(OLD_SCHEMA);
      expect(written.manifest.tables.find((t) => t.name === 'submission_versions')?.columns.map((c) => c.name)).not.toContain('data_json');
    } finally {
      await oldDatabase.close();
    }
    currentArchive = path.join(dir, `current-${kind}.fkb`);
    await writeBackup({ database: source.database, blobs: source.blobs, secretKey: source.config.secretKey! }, createWriteStream(currentArchive), { kind: 'none' });
  });
  afterAll(async () => old?.drop());

  /**
   * The target holds the source's data (its audit log has one more entry, the restore), is migrated
   * to this version with the answers typed by migration 0009 exactly as ingest typed them on the
   * source, its audit chain verifies, and its TOTP secret is sealed under its own server secret.
   */
  async function expectRestoredFromSource(target: Instance): Promise<void> {
    const source = sourceContext(env());
    expect((await migrationStatus(target.database)).pending).toEqual([]);
    const restored = await sql<{ id: number }>`select max(id) as id from audit_log`.execute(target.database.db);
    await expectSameData(source, target, Number(restored.rows[0]!.id) - 1);
    const typed = async (database: Database) =>
      (await sql<{ id: number; data_json: unknown }>`select id, data_json from submission_versions order by id`.execute(database.db)).rows.map((r) => ({ id: r.id, data: typeof r.data_json === 'string' ? JSON.parse(r.data_json) : r.data_json }));
    const [fromSource, fromTarget] = [await typed(source.database), await typed(target.database)];
    expect(fromTarget.length).toBeGreaterThan(5);
    expect(fromTarget).toEqual(fromSource);
    expect(fromTarget.every((r) => r.data !== null)).toBe(true);
    expect(await q.instanceId(target.database.db)).toBe(await q.instanceId(source.database.db));
    expect((await verifyAuditChain(target.database.db)).intact).toBe(true);
    const sealed = await sql<{ totp_secret: string }>`select totp_secret from users where username = 'backup_owner'`.execute(target.database.db);
    expect(unsealSecret(target.config.secretKey!, sealed.rows[0]!.totp_secret)).toBe(TOTP_PLAIN);
  }

  it('restores an archive made before later migrations, then migrates it: answers are typed as on ingest', async () => {
    const target = await emptyInstance(kind);
    try {
      const report = await restoreInto(target, oldArchive);
      expect(report.manifest.migrations.at(-1)).toBe(OLD_SCHEMA);
      await expectRestoredFromSource(target);
    } finally {
      await target.close();
    }
  });

  it(
    'restores an older archive into a new instance a server has started (so migrated past it), and the server then starts on it',
    async () => {
      const target = await startedInstance(kind);
      try {
        expect((await migrationStatus(target.database)).applied).toEqual(knownMigrations());
        const restored = await runFieldkeep(['backup', 'restore', oldArchive], target.storage.env);
        expect(restored.code, restored.stderr).toBe(0);
        expect(restored.stdout).toMatch(/restored \d+ rows and \d+ files/);
        await expectRestoredFromSource(target);
        const audit = await runFieldkeep(['audit', 'verify'], target.storage.env);
        expect(audit.code, audit.stdout + audit.stderr).toBe(0);

        const server = await startServer(loadConfig({ cwd: target.storage.dataDir, env: { ...target.storage.env, ...testUserSettings, FIELDKEEP_PORT: '0' } }), { logDestination: new Writable({ write: (_c, _e, done) => done() }) });
        try {
          const projects = await call(`${server.url}/api/v1/admin/projects`, 'GET', checker.headers);
          expect(projects.status).toBe(200);
          expect(projects.body.projects.map((p: { name: string }) => p.name)).toContain('Backed up');
        } finally {
          await server.stop();
        }
      } finally {
        await target.close();
      }
    },
    CLI_TIMEOUT,
  );

  const other: DatabaseKind = kind === 'sqlite' ? 'postgres' : 'sqlite';
  it.skipIf(other === 'postgres' && !postgresAvailable)(`moves to ${other} by restoring an older archive into a new ${other} instance a server has started`, async () => {
    const target = await startedInstance(other);
    try {
      await restoreInto(target, oldArchive);
      await expectRestoredFromSource(target);
    } finally {
      await target.close();
    }
  });

  it('restores an archive of this version into a new instance a server has started', async () => {
    const target = await startedInstance(kind);
    try {
      const report = await restoreInto(target, currentArchive);
      expect(report.manifest.migrations).toEqual(knownMigrations());
      await expectRestoredFromSource(target);
    } finally {
      await target.close();
    }
  });

  it('refuses an instance past the archive that holds data, leaving it as it was, and replaces it with --force', async () => {
    const target = await startedInstance(kind);
    try {
      await target.database.db
        .insertInto('users')
        .values({ username: 'already', username_key: 'already', email: null, email_key: null, password_hash: 'x', is_admin: 0, disabled_at: null, totp_secret: null, totp_pending_secret: null, totp_last_step: null, created_at: 'now', updated_at: 'now' })
        .execute();
      const before = await snapshot(target);
      const failure = await restoreInto(target, oldArchive).then(() => null, (err: unknown) => err);
      expect(failure).toMatchObject({ code: 'backup.target_not_empty' });
      expect((failure as Error).message).toMatch(/already holds data.*--force/);
      expect(await snapshot(target)).toEqual(before);

      await restoreInto(target, oldArchive, true);
      await expectRestoredFromSource(target);
    } finally {
      await target.close();
    }
  });

  it('verifies an archive of an older schema, migrating the scratch database', async () => {
    const report = await verifyArchive(at(oldArchive), NO_KEYS);
    expect(report.manifest.migrations).toEqual(knownMigrations().slice(0, knownMigrations().indexOf(OLD_SCHEMA) + 1));
    expect(report.blobs).toBeGreaterThan(0);
  });

  it('refuses an archive from a newer Fieldkeep, naming the migration this version lacks, and leaves the target untouched', async () => {
    const newer = path.join(dir, `newer-${kind}.fkb`);
    await withManifest(currentArchive, newer, (manifest) => {
      manifest.migrations.push('9999-from-the-future');
      manifest.fieldkeepVersion = '99.0.0';
    });
    const failure = await verifyArchive(at(newer), NO_KEYS).then(() => null, (err: unknown) => err);
    expect(failure).toMatchObject({ code: 'backup.schema_newer' });
    expect((failure as Error).message).toMatch(/made by Fieldkeep 99\.0\.0.*9999-from-the-future.*does not have: upgrade Fieldkeep to 99\.0\.0 or newer/);

    const target = await emptyInstance(kind);
    try {
      await expect(restoreInto(target, newer)).rejects.toMatchObject({ code: 'backup.schema_newer' });
      expect(await q.tableNames(target.database.db, target.database.dialect)).toEqual([]);
    } finally {
      await target.close();
    }
    const started = await startedInstance(kind);
    try {
      const before = await snapshot(started);
      await expect(restoreInto(started, newer)).rejects.toMatchObject({ code: 'backup.schema_newer' });
      expect(await snapshot(started)).toEqual(before);
    } finally {
      await started.close();
    }
    // The same archive with its own migrations restores: the refusal was for the unknown migration alone.
    const same = path.join(dir, `same-${kind}.fkb`);
    await withManifest(currentArchive, same, () => {});
    expect((await verifyArchive(at(same), NO_KEYS)).blobs).toBeGreaterThan(0);
  });

  it.each([
    [
      'the archive ends in the middle of a table, after every file was stored',
      async (out: string) => {
        const bytes = readFileSync(oldArchive);
        const firstFile = bytes.indexOf(entryNames.blobPrefix);
        const cut = bytes.indexOf('tables/submission_versions.jsonl');
        expect(firstFile).toBeGreaterThan(0);
        expect(cut).toBeGreaterThan(firstFile);
        writeFileSync(out, bytes.subarray(0, cut + 400));
      },
      'backup.truncated',
      /ends early \(in entry tables\/submission_versions\.jsonl/,
    ],
    [
      'a migration after the rows fails on them (a form schema damaged before the checksums were made)',
      (out: string) =>
        rewriteArchive(oldArchive, out, (name, content, manifest) => {
          if (name !== 'tables/form_versions.jsonl') return content;
          const column = manifest.tables.find((t) => t.name === 'form_versions')!.columns.findIndex((c) => c.name === 'schema_json');
          expect(column).toBeGreaterThanOrEqual(0);
          const rows = content.toString('utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown[]);
          return Buffer.from(rows.map((row) => `${JSON.stringify(row.map((v, i) => (i === column ? '{' : v)))}\n`).join(''));
        }),
      'backup.integrity_failed',
      /Migration 0009-submission-data failed on the restored data: .*Nothing was restored/,
    ],
    // A statement that fails, not only code: PostgreSQL then refuses every further statement of the
    // transaction, so the migration must give way cleanly for the restore to roll back and report.
    ...(kind === 'postgres'
      ? [
          [
            'a migration statement fails on the rows (PostgreSQL jsonb refuses the NUL character an answer holds)',
            (out: string) =>
              rewriteArchive(oldArchive, out, (name, content, manifest) => {
                if (name !== 'tables/submission_versions.jsonl') return content;
                const column = manifest.tables.find((t) => t.name === 'submission_versions')!.columns.findIndex((c) => c.name === 'fields_json');
                const rows = content.toString('utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown[]);
                const withNul = (fields: unknown) => JSON.stringify({ ...(JSON.parse(String(fields)) as object), note: 'a \u0000 in it' });
                return Buffer.from(rows.map((row) => `${JSON.stringify(row.map((v, i) => (i === column && v !== null ? withNul(v) : v)))}\n`).join(''));
              }),
            'backup.integrity_failed',
            /Migration 0009-submission-data failed on the restored data: .*Unicode.*Nothing was restored/,
          ] as const,
        ]
      : []),
  ] as const)('leaves a started instance exactly as it was when a restore fails part way: %s', async (_label, make, code, message) => {
    const archive = path.join(dir, `failing-${kind}-${code}.fkb`);
    await make(archive);
    const target = await startedInstance(kind);
    try {
      const before = await snapshot(target);
      // On one connection, to see what the failed restore left on it.
      const single = openDatabase({ ...target.config, dbPoolSize: 1 });
      try {
        const failure = await restoreBackupFile({ database: single, blobs: target.blobs, secretKey: target.config.secretKey! }, at(archive), NO_KEYS, { force: false }).then(() => null, (err: unknown) => err);
        expect(failure).toMatchObject({ code });
        expect((failure as Error).message).toMatch(message);
        if (kind === 'postgres') {
          // Kysely's migration lock is held by the session, not the transaction: it must not outlive the restore.
          const locks = await sql<{ n: number }>`select count(*) as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()`.execute(single.db);
          expect(Number(locks.rows[0]!.n)).toBe(0);
        }
      } finally {
        await single.close();
      }
      expect(await snapshot(target)).toEqual(before);
      // The database is usable as it was: the intact archive restores into it afterwards.
      await restoreInto(target, oldArchive);
      await expectRestoredFromSource(target);
    } finally {
      await target.close();
    }
  });
});
