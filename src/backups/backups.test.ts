import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unsealSecret } from '../accounts/sealed.js';
import { verifyAuditChain } from '../audit/index.js';
import { migrateToLatest } from '../db/database.js';
import { describeEachDatabase } from '../../test/support/databases.js';
import { useTestServer } from '../../test/support/server.js';
import { testUserSettings } from '../../test/support/test-users.js';
import type { ArchiveSource } from './archive-file.js';
import { containerBytes, readContainer } from './container.js';
import type { DecryptWith } from './encryption.js';
import { emptyInstance, expectSameData, fillSource, sourceContext, TOTP_PLAIN, type Instance } from './backups.test-support.js';
import { DirectoryLocation } from './directory.js';
import { createBackupFile, restoreBackupFile } from './service.js';
import { verifyArchive } from './verify.js';

let identity: string;
let recipient: string;
const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-backups-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  identity = await generateX25519Identity();
  recipient = await identityToRecipient(identity);
});
const keys = (): DecryptWith => ({ identities: [identity], passphrases: [] });
/** An archive file on disk, as the service reads it. */
const at = (file: string): ArchiveSource => ({ location: new DirectoryLocation(path.dirname(file)), file: path.basename(file) });

/** A copy of `file` under a new name, changed by `change`. */
function variant(file: string, name: string, change: (bytes: Buffer) => Buffer): string {
  const out = path.join(path.dirname(file), name);
  writeFileSync(out, change(readFileSync(file)));
  return out;
}

describeEachDatabase('backups', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  let encrypted: string;
  let plain: string;
  const out = path.join(dir, kind);

  beforeAll(async () => {
    await fillSource(env());
    const ctx = sourceContext(env());
    encrypted = path.join(out, (await createBackupFile(ctx, { location: new DirectoryLocation(out), encryption: { kind: 'age', to: { recipients: [recipient] } }, trigger: 'cli', actorLabel: 'test' })).file);
    plain = path.join(out, (await createBackupFile(ctx, { location: new DirectoryLocation(out), encryption: { kind: 'none' }, trigger: 'cli', actorLabel: 'test' })).file);
  });

  it('verifies a fresh backup by restoring it into a scratch database', async () => {
    const report = await verifyArchive(at(encrypted), keys());
    expect(report.blobs).toBeGreaterThanOrEqual(6 + 1);
    expect(report.manifest.sourceDialect).toBe(kind);
    expect(report.auditEntries).toBeGreaterThan(5);
    expect(report.manifest.tables.find((t) => t.name === 'submissions')?.rows).toBe(6);
    const viaPostgres = kind === 'postgres' ? await verifyArchive(at(encrypted), keys(), { kind: 'postgres', url: env().storage.env.DATABASE_URL! }) : report;
    expect(viaPostgres.rows).toBe(report.rows);
  });

  it('reports progress as rows and files are written and restored, ending at the total', async () => {
    const reports = { create: [] as Array<[number, number]>, restore: [] as Array<[number, number]> };
    const info = await createBackupFile(sourceContext(env()), { location: new DirectoryLocation(out), encryption: { kind: 'none' }, trigger: 'cli', actorLabel: 'test', progress: (done, total) => void reports.create.push([done, total]) });
    const target = await emptyInstance(kind);
    try {
      await restoreBackupFile({ database: target.database, blobs: target.blobs, secretKey: target.config.secretKey! }, at(path.join(out, info.file)), keys(), { force: false, progress: (done, total) => void reports.restore.push([done, total]) });
    } finally {
      await target.close();
    }
    for (const [what, steps] of Object.entries(reports)) {
      expect(steps.length, what).toBeGreaterThan(3);
      expect(steps[0], what).toEqual([0, info.rows + info.blobs]);
      expect(steps.at(-1), what).toEqual([info.rows + info.blobs, info.rows + info.blobs]);
      expect(steps.every(([done], i) => i === 0 || done >= steps[i - 1]![0]), what).toBe(true);
    }
  });

  it('restores into an empty instance with a different server secret: every row, file and audit entry is back', async () => {
    const target = await emptyInstance(kind);
    try {
      const report = await restoreBackupFile({ database: target.database, blobs: target.blobs, secretKey: target.config.secretKey! }, at(encrypted), keys(), { force: false });
      expect(report.blobs).toBeGreaterThan(0);
      const source = sourceContext(env());
      await expectSameDataExceptNewerAudit(source, target);
      const chain = await verifyAuditChain(target.database.db);
      expect(chain.intact).toBe(true);
      const restoreEntry = await sql<{ action: string }>`select action from audit_log order by id desc limit 1`.execute(target.database.db);
      expect(restoreEntry.rows[0]?.action).toBe('backup.restore');
      // The TOTP secret is sealed again under the target's secret.
      const sealed = await sql<{ totp_secret: string }>`select totp_secret from users where username = 'backup_owner'`.execute(target.database.db);
      expect(unsealSecret(target.config.secretKey!, sealed.rows[0]!.totp_secret)).toBe(TOTP_PLAIN);
      // Sequences continue after the restored ids.
      const maxUser = Number((await sql<{ n: number }>`select max(id) as n from users`.execute(target.database.db)).rows[0]!.n);
      const inserted = await target.database.db
        .insertInto('users')
        .values({ username: 'after', username_key: 'after', email: null, email_key: null, password_hash: 'x', is_admin: 0, disabled_at: null, totp_secret: null, totp_pending_secret: null, totp_last_step: null, created_at: 'now', updated_at: 'now' })
        .returning('id')
        .executeTakeFirstOrThrow();
      expect(Number(inserted.id)).toBeGreaterThan(maxUser);
    } finally {
      await target.close();
    }
  });

  it('refuses to restore into an instance that holds data, and replaces it with --force', async () => {
    const target = await emptyInstance(kind);
    try {
      const restore = (force: boolean) => restoreBackupFile({ database: target.database, blobs: target.blobs, secretKey: target.config.secretKey! }, at(plain), keys(), { force });
      await restore(false);
      await expect(restore(false)).rejects.toMatchObject({ code: 'backup.target_not_empty' });
      await restore(true);
      expect((await verifyAuditChain(target.database.db)).intact).toBe(true);
    } finally {
      await target.close();
    }
  });

  it('restores all or nothing: a truncated archive leaves the empty target empty', async () => {
    const target = await emptyInstance(kind);
    try {
      const cut = variant(plain, `cut-${kind}.fkb`, (b) => b.subarray(0, b.length - 200));
      await expect(restoreBackupFile({ database: target.database, blobs: target.blobs, secretKey: target.config.secretKey! }, at(cut), keys(), { force: false })).rejects.toMatchObject({ code: 'backup.truncated' });
      await migrateToLatest(target.database);
      const users = await sql<{ n: number }>`select count(*) as n from users`.execute(target.database.db);
      expect(Number(users.rows[0]!.n)).toBe(0);
    } finally {
      await target.close();
    }
  });

  it.each([
    ['a flipped byte in the encrypted archive', () => variant(encrypted, 'flip.age', (b) => { b[Math.floor(b.length / 2)]! ^= 1; return b; }), 'backup.corrupt'],
    ['a truncated encrypted archive', () => variant(encrypted, 'short.age', (b) => b.subarray(0, b.length - 1000)), 'backup.corrupt'],
    ['a flipped byte in a plain archive', () => variant(plain, 'flip.fkb', (b) => { b[Math.floor(b.length / 2)]! ^= 1; return b; }), 'backup.corrupt'],
    ['a truncated plain archive', () => variant(plain, 'short.fkb', (b) => b.subarray(0, Math.floor(b.length / 3))), 'backup.truncated'],
    ['an empty file', () => variant(plain, 'empty.fkb', () => Buffer.alloc(0)), 'backup.truncated'],
    ['a file that is not a backup', () => variant(plain, 'other.txt', () => Buffer.from('hello, world\n'.repeat(10))), 'backup.not_an_archive'],
  ])('fails verification with a clear message on %s', async (_label, make, code) => {
    const file = make();
    const failure = await verifyArchive(at(file), keys()).then(() => null, (err: unknown) => err);
    expect(failure).toMatchObject({ code });
    expect((failure as Error).message.length).toBeGreaterThan(20);
  });

  it('finds every blob column of the schema by its name, and carries every table but the job queue', async () => {
    const { manifest } = await verifyArchive(at(plain), keys());
    const blobColumns = manifest.tables.flatMap((t) => t.blobColumns.map((c) => `${t.name}.${c}`)).sort();
    expect(blobColumns).toEqual(expect.arrayContaining(['form_media.blob_id', 'form_versions.source_blob', 'form_versions.xform_blob', 'submission_attachments.blob_id', 'submission_versions.xml_blob']));
    const names = manifest.tables.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['users', 'audit_log', 'audit_head', 'instance', 'submissions', 'submission_versions']));
    expect(names).not.toContain('job');
    expect(names).not.toContain('backup_runs');
    expect(names.indexOf('users')).toBeLessThan(names.indexOf('projects'));
    expect(names.indexOf('submissions')).toBeLessThan(names.indexOf('submission_versions'));
  });

  it('encrypts to a passphrase instead of recipients', async () => {
    const info = await createBackupFile(sourceContext(env()), { location: new DirectoryLocation(out), encryption: { kind: 'age', to: { recipients: [], passphrase: 'correct horse battery staple', scryptWorkFactor: 12 } }, trigger: 'cli', actorLabel: 'test' });
    expect(info).toMatchObject({ passphrase: true, recipients: [] });
    const file = path.join(out, info.file);
    expect((await verifyArchive(at(file), { identities: [], passphrases: ['correct horse battery staple'] })).blobs).toBeGreaterThan(0);
    await expect(verifyArchive(at(file), { identities: [], passphrases: ['wrong'] })).rejects.toMatchObject({ code: 'backup.wrong_key' });
  });

  it('fails verification with the wrong key, or none', async () => {
    const other = await generateX25519Identity();
    await expect(verifyArchive(at(encrypted), { identities: [other], passphrases: [] })).rejects.toMatchObject({ code: 'backup.wrong_key' });
    await expect(verifyArchive(at(encrypted), { identities: [], passphrases: ['not it'] })).rejects.toMatchObject({ code: 'backup.wrong_key' });
    await expect(verifyArchive(at(encrypted), { identities: [], passphrases: [] })).rejects.toMatchObject({ code: 'backup.key_required' });
  });

  it('fails verification when a file the rows refer to is missing from the archive', async () => {
    const source = Readable.from(readFileSync(plain));
    let dropped = '';
    const kept = (async function* () {
      for await (const entry of readContainer(source)) {
        if (dropped === '' && entry.name.startsWith('blobs/')) {
          dropped = entry.name;
          for await (const _ of entry.content);
          continue;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of entry.content) chunks.push(chunk);
        yield { name: entry.name, content: Readable.from(chunks) };
      }
    })();
    const file = path.join(out, 'missing-blob.fkb');
    const parts: Buffer[] = [];
    for await (const part of containerBytes(kept)) parts.push(part);
    writeFileSync(file, Buffer.concat(parts));
    const failure = await verifyArchive(at(file), keys()).then(() => null, (err: unknown) => err);
    expect(failure).toMatchObject({ code: 'backup.blob_missing' });
    expect((failure as Error).message).toMatch(/missing/);
  });

  it('refuses to write a backup when a file the database refers to is missing from the blob store', async () => {
    const ctx = sourceContext(env());
    const blobId = (await sql<{ blob_id: string }>`select blob_id from submission_attachments where blob_id is not null order by id limit 1`.execute(ctx.database.db)).rows[0]!.blob_id;
    const blobFile = path.join(ctx.config.dataDir, 'blobs', blobId.slice(0, 2), blobId.slice(2, 4), blobId);
    const saved = readFileSync(blobFile);
    rmSync(blobFile);
    try {
      const failed = path.join(dir, `failed-${kind}`);
      await expect(createBackupFile(ctx, { location: new DirectoryLocation(failed), encryption: { kind: 'none' }, trigger: 'cli', actorLabel: 'test' })).rejects.toMatchObject({ code: 'backup.blob_missing' });
      const runs = await sql<{ state: string; error_message: string }>`select state, error_message from backup_runs order by id desc limit 1`.execute(ctx.database.db);
      expect(runs.rows[0]).toMatchObject({ state: 'failed' });
      expect(runs.rows[0]!.error_message).toContain(blobId);
    } finally {
      writeFileSync(blobFile, saved);
    }
  });
});

/** The target's audit log is the source's as of the backup, plus its restore entry. */
async function expectSameDataExceptNewerAudit(source: ReturnType<typeof sourceContext>, target: Instance): Promise<void> {
  const restored = await sql<{ id: number }>`select max(id) as id from audit_log`.execute(target.database.db);
  const auditUpTo = Number(restored.rows[0]!.id) - 1;
  await expectSameData({ database: source.database, blobs: source.blobs }, { database: target.database, blobs: target.blobs }, auditUpTo);
}

describe('moving between databases', () => {
  const env = useTestServer('sqlite', testUserSettings);

  it('moves a SQLite instance to PostgreSQL and back by backup and restore', async () => {
    await fillSource(env());
    const out = path.join(dir, 'move');
    const first = await createBackupFile(sourceContext(env()), { location: new DirectoryLocation(out), encryption: { kind: 'age', to: { recipients: [recipient] } }, trigger: 'cli', actorLabel: 'test' });
    const postgres = await emptyInstance('postgres');
    const back = await emptyInstance('sqlite');
    try {
      await restoreBackupFile({ database: postgres.database, blobs: postgres.blobs, secretKey: postgres.config.secretKey! }, at(path.join(out, first.file)), keys(), { force: false });
      const second = await createBackupFile(
        { config: postgres.config, database: postgres.database, blobs: postgres.blobs },
        { location: new DirectoryLocation(out), encryption: { kind: 'age', to: { recipients: [recipient] } }, trigger: 'cli', actorLabel: 'test' },
      );
      expect(second.sourceDialect).toBe('postgres');
      await restoreBackupFile({ database: back.database, blobs: back.blobs, secretKey: back.config.secretKey! }, at(path.join(out, second.file)), keys(), { force: false });
      const restored = await sql<{ id: number }>`select max(id) as id from audit_log where action = 'backup.restore'`.execute(postgres.database.db);
      await expectSameData({ database: env().server.database, blobs: sourceContext(env()).blobs }, { database: back.database, blobs: back.blobs }, Number(restored.rows[0]!.id) - 1);
      await expectSameData({ database: postgres.database, blobs: postgres.blobs }, { database: back.database, blobs: back.blobs }, Number(restored.rows[0]!.id));
      expect((await verifyAuditChain(back.database.db)).intact).toBe(true);
      const typed = await sql<{ data_json: string }>`select data_json from submission_versions order by id limit 1`.execute(back.database.db);
      expect(JSON.parse(typed.rows[0]!.data_json)).toMatchObject({ age: 20 });
    } finally {
      await postgres.close();
      await back.close();
    }
  });
});
