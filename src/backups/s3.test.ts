import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../audit/index.js';
import { loadConfig, type BackupS3Settings } from '../config/config.js';
import { describeEachDatabase } from '../../test/support/databases.js';
import { startFakeS3, type FakeS3 } from '../../test/support/s3-fake.js';
import { useTestServer } from '../../test/support/server.js';
import { testUserSettings } from '../../test/support/test-users.js';
import { emptyInstance, expectSameData, fillSource, sourceContext } from './backups.test-support.js';
import { listArchives, openArchiveLocation, openLocation, pruneArchives, saveSidecar, type ArchiveInfo } from './location.js';
import { S3Location } from './s3.js';
import { createBackupFile, restoreBackupFile } from './service.js';
import { verifyArchive } from './verify.js';

const MiB = 1024 * 1024;
/** S3's smallest part, so a few MiB of archive make a multipart upload. */
const SMALL_PARTS = { partBytes: 5 * MiB };

let s3: FakeS3;
let settings: BackupS3Settings;
beforeAll(async () => {
  s3 = await startFakeS3({ buckets: ['backups'], listPageSize: 3 });
  settings = { endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, pathStyle: true };
});
afterAll(async () => s3?.close());

async function* bytes(total: number, chunk = 256 * 1024): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < total; sent += chunk) yield randomBytes(Math.min(chunk, total - sent));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

function info(file: string, createdAt: string): ArchiveInfo {
  return { file, createdAt, bytes: 1, sha256: '0'.repeat(64), encrypted: true, recipients: [], passphrase: true, instanceId: null, fieldkeepVersion: '0.1.0', sourceDialect: 'sqlite', rows: 0, blobs: 0 };
}

describe('an S3 backup location', () => {
  it('uploads a large archive in parts and reads it back byte for byte', async () => {
    const location = new S3Location(settings, 'backups', 'parts', SMALL_PARTS);
    try {
      const sent: Buffer[] = [];
      await location.writeArchive('big.fkb', (sink) => pipeline(Readable.from((async function* () {
        for await (const b of bytes(12 * MiB)) {
          sent.push(b);
          yield b;
        }
      })()), sink));
      const calls = s3.calls.filter((c) => c.endsWith(' parts/big.fkb'));
      expect(calls[0]).toBe('CreateMultipartUpload parts/big.fkb');
      expect(calls.filter((c) => c.startsWith('UploadPart'))).toHaveLength(3);
      expect(calls.at(-1)).toBe('CompleteMultipartUpload parts/big.fkb');
      expect((await readAll(await location.read('big.fkb'))).equals(Buffer.concat(sent))).toBe(true);
    } finally {
      location.close();
    }
  });

  it('puts a small archive in one request', async () => {
    const location = new S3Location(settings, 'backups', 'small', SMALL_PARTS);
    try {
      await location.writeArchive('one.fkb', (sink) => pipeline(Readable.from([Buffer.from('tiny')]), sink));
      expect(s3.calls.filter((c) => c.endsWith(' small/one.fkb'))).toEqual(['PutObject small/one.fkb']);
      expect((await s3.object('backups', 'small/one.fkb')).toString()).toBe('tiny');
    } finally {
      location.close();
    }
  });

  it('streams: the writer is never more than a few parts ahead of what the storage has received', { timeout: 120_000 }, async () => {
    const location = new S3Location(settings, 'backups', 'flat', SMALL_PARTS);
    try {
      const start = s3.bytesReceived();
      let produced = 0;
      let ahead = 0;
      await location.writeArchive('flat.fkb', (sink) =>
        pipeline(Readable.from((async function* () {
          for await (const b of bytes(64 * MiB, MiB)) {
            ahead = Math.max(ahead, produced - (s3.bytesReceived() - start));
            produced += b.length;
            yield b;
          }
        })()), sink),
      );
      expect(s3.bytesReceived() - start).toBe(64 * MiB);
      // What the upload holds: two 5 MiB parts in flight, one filling, and the streams' small buffers.
      // Buffering the archive would put the writer the whole 64 MiB ahead.
      expect(ahead).toBeLessThan(4 * 5 * MiB);
    } finally {
      location.close();
    }
  });

  it('leaves nothing behind when the writer fails half-way, and aborts the multipart upload', async () => {
    const location = new S3Location(settings, 'backups', 'failed', SMALL_PARTS);
    try {
      const failing = (async function* () {
        yield* bytes(7 * MiB);
        throw new Error('the database went away');
      })();
      await expect(location.writeArchive('half.fkb', (sink) => pipeline(Readable.from(failing), sink))).rejects.toThrow('the database went away');
      expect(s3.keys('backups').filter((k) => k.startsWith('failed/'))).toEqual([]);
      expect(s3.calls).toContain('AbortMultipartUpload failed/half.fkb');
      expect(s3.openUploads()).toBe(0);
    } finally {
      location.close();
    }
  });

  it('stops the writer when the storage refuses a part, with a clear error and nothing left', async () => {
    const location = new S3Location(settings, 'backups', 'refused', SMALL_PARTS);
    try {
      s3.failNext('UploadPart', { status: 403, code: 'AccessDenied' });
      const failure = await location.writeArchive('refused.fkb', (sink) => pipeline(Readable.from(bytes(12 * MiB)), sink)).then(() => null, (err: unknown) => err);
      expect(failure).toMatchObject({ code: 'backup.storage_failed' });
      expect((failure as Error).message).toMatch(/s3:\/\/backups\/refused\/refused\.fkb.*AccessDenied.*FIELDKEEP_BACKUP_S3_ACCESS_KEY_ID/);
      expect(s3.keys('backups').filter((k) => k.startsWith('refused/'))).toEqual([]);
      expect(s3.openUploads()).toBe(0);
    } finally {
      location.close();
    }
  });

  it('reports a wrong key and a missing bucket without showing the secret', async () => {
    const wrong = new S3Location({ ...settings, accessKeyId: 'AKIAWRONGKEY', secretAccessKey: 'wrong-secret-never-shown' }, 'backups', 'x');
    const noBucket = new S3Location(settings, 'no-such-bucket', '');
    try {
      const refused = await listArchives(wrong).then(() => null, (err: unknown) => err);
      expect(refused).toMatchObject({ code: 'backup.storage_failed' });
      expect((refused as Error).message).toMatch(/InvalidAccessKeyId.*FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY/);
      expect((refused as Error).message).not.toContain('wrong-secret-never-shown');
      await expect(listArchives(noBucket)).rejects.toThrow(/NoSuchBucket.*create the bucket/);
      await expect(new S3Location(settings, 'backups', 'x').read('fieldkeep-20260101T000000000Z.fkb.age')).rejects.toMatchObject({ code: 'backup.not_an_archive', message: expect.stringContaining('s3://backups/x/fieldkeep-20260101T000000000Z.fkb.age') });
    } finally {
      wrong.close();
      noBucket.close();
    }
  });

  it('lists archives over several pages and prunes by grandfather-father-son, archive and sidecar', async () => {
    const location = openLocation('s3://backups/gfs/', settings);
    try {
      const days = ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04'];
      for (const day of days) {
        const file = `fieldkeep-${day.replace(/-/g, '')}T023000000Z.fkb.age`;
        await location.writeArchive(file, (sink) => pipeline(Readable.from([Buffer.from(day)]), sink));
        await saveSidecar(location, info(file, `${day}T02:30:00.000Z`));
      }
      // Not archives, or not directly under the prefix: never listed, never pruned.
      await location.writeSidecar('notes.txt', 'hello');
      const nested = openLocation('s3://backups/gfs/nested', settings);
      await nested.writeArchive('fieldkeep-20260101T000000000Z.fkb.age', (sink) => pipeline(Readable.from([Buffer.from('x')]), sink));
      nested.close();

      expect((await listArchives(location)).map((a) => a.createdAt.slice(0, 10))).toEqual([...days].reverse());
      const removed = await pruneArchives(location, { daily: 2, weekly: 0, monthly: 0 });
      expect(removed).toEqual(['fieldkeep-20260302T023000000Z.fkb.age', 'fieldkeep-20260301T023000000Z.fkb.age']);
      expect(s3.keys('backups').filter((k) => k.startsWith('gfs/'))).toEqual([
        'gfs/fieldkeep-20260303T023000000Z.fkb.age',
        'gfs/fieldkeep-20260303T023000000Z.fkb.age.json',
        'gfs/fieldkeep-20260304T023000000Z.fkb.age',
        'gfs/fieldkeep-20260304T023000000Z.fkb.age.json',
        'gfs/nested/fieldkeep-20260101T000000000Z.fkb.age',
        'gfs/notes.txt.json',
      ]);
    } finally {
      location.close();
    }
  });

  it.each([
    ['s3://Not_A_Bucket/x', /bucket name/],
    ['s3://backups/a//b', /empty/],
    ['s3://backups/../b', /"\.\."/],
  ])('refuses the location %s', (text, message) => {
    expect(() => openLocation(text, settings)).toThrow(expect.objectContaining({ code: 'backup.bad_location', message: expect.stringMatching(message) }));
  });

  it('takes the location and key from the settings, both halves of the key or neither', () => {
    const config = loadConfig({ cwd: '/srv', env: { FIELDKEEP_BACKUP_DIR: 's3://backups/nightly', FIELDKEEP_BACKUP_S3_ENDPOINT: s3.endpoint, FIELDKEEP_BACKUP_S3_PATH_STYLE: 'true' } });
    expect(config.backups.dir).toBe('s3://backups/nightly');
    expect(config.backups.s3).toEqual({ endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: undefined, secretAccessKey: undefined, pathStyle: true });
    expect(loadConfig({ cwd: '/srv', env: { FIELDKEEP_BACKUP_DIR: 'backups' } }).backups.dir).toBe('/srv/data/backups');
    expect(() => loadConfig({ cwd: '/srv', env: { FIELDKEEP_BACKUP_S3_ACCESS_KEY_ID: 'AKIA1' } })).toThrow(/FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY: is required with the other half/);
  });

  it('names an archive by its URL for verify and restore', () => {
    const { location, file } = openArchiveLocation('s3://backups/nightly/fieldkeep-20260101T000000000Z.fkb.age', () => settings);
    expect([location.name, file]).toEqual(['s3://backups/nightly', 'fieldkeep-20260101T000000000Z.fkb.age']);
    location.close();
    expect(() => openArchiveLocation('s3://backups/nightly/', () => settings)).toThrow(/prefix, not an archive/);
  });
});

describeEachDatabase('backups to S3', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  let identity: string;
  let recipient: string;
  const prefix = `instance-${kind}`;

  beforeAll(async () => {
    identity = await generateX25519Identity();
    recipient = await identityToRecipient(identity);
    // One photo larger than a part: the archive goes up as a multipart upload.
    await fillSource(env(), [randomBytes(6 * MiB)]);
  });

  it('creates, lists, verifies from s3://, restores from s3:// and prunes', { timeout: 120_000 }, async () => {
    const location = new S3Location(settings, 'backups', prefix, SMALL_PARTS);
    const target = await emptyInstance(kind);
    try {
      const made = [];
      for (let i = 0; i < 3; i++) {
        made.push(await createBackupFile(sourceContext(env()), { location, encryption: { kind: 'age', to: { recipients: [recipient] } }, trigger: 'cli', actorLabel: 'test' }));
      }
      const newest = made[2]!;
      expect(s3.calls).toContain(`CompleteMultipartUpload ${prefix}/${newest.file}`);
      const listed = await listArchives(location);
      expect(listed.map((a) => a.file)).toEqual(made.map((m) => m.file).reverse());
      expect(listed[0]).toMatchObject({ bytes: newest.bytes, sha256: newest.sha256, encrypted: true, recipients: [recipient], sourceDialect: kind });

      const keys = { identities: [identity], passphrases: [] };
      const { location: remote, file } = openArchiveLocation(`s3://backups/${prefix}/${newest.file}`, () => settings);
      try {
        const report = await verifyArchive({ location: remote, file }, keys);
        expect(report.blobs).toBe(newest.blobs);
        expect(report.blobBytes).toBeGreaterThan(6 * MiB);

        await restoreBackupFile({ database: target.database, blobs: target.blobs, secretKey: target.config.secretKey! }, { location: remote, file }, keys, { force: false });
      } finally {
        remote.close();
      }
      const restored = await sql<{ id: number }>`select max(id) as id from audit_log`.execute(target.database.db);
      await expectSameData(sourceContext(env()), target, Number(restored.rows[0]!.id) - 1);
      expect((await verifyAuditChain(target.database.db)).intact).toBe(true);

      // Three backups of one day: one day kept, so only the newest stays.
      expect(await pruneArchives(location, { daily: 1, weekly: 1, monthly: 1 })).toEqual([made[1]!.file, made[0]!.file]);
      expect(s3.keys('backups').filter((k) => k.startsWith(`${prefix}/`))).toEqual([`${prefix}/${newest.file}`, `${prefix}/${newest.file}.json`]);
    } finally {
      location.close();
      await target.close();
    }
  });

  it('records a failed upload as a failed run, audited, with nothing left in the bucket', async () => {
    const location = new S3Location(settings, 'backups', `${prefix}-refused`, SMALL_PARTS);
    try {
      s3.failNext('UploadPart', { status: 403, code: 'AccessDenied' });
      await expect(createBackupFile(sourceContext(env()), { location, encryption: { kind: 'age', to: { recipients: [recipient] } }, trigger: 'cli', actorLabel: 'test' })).rejects.toMatchObject({ code: 'backup.storage_failed' });
      const db = env().server.database.db;
      const run = await sql<{ state: string; error_message: string }>`select state, error_message from backup_runs order by id desc limit 1`.execute(db);
      expect(run.rows[0]).toMatchObject({ state: 'failed', error_message: expect.stringContaining('AccessDenied') });
      const audited = await sql<{ action: string }>`select action from audit_log order by id desc limit 1`.execute(db);
      expect(audited.rows[0]?.action).toBe('backup.failed');
      expect(s3.keys('backups').filter((k) => k.startsWith(`${prefix}-refused/`))).toEqual([]);
    } finally {
      location.close();
    }
  });
});
