import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchStorage, describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { writeBackup } from '../backups/create.js';
import { decryptStream } from '../backups/encryption.js';
import { restoreArchive } from '../backups/restore.js';
import { loadConfig } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { openDatabase } from '../db/database.js';
import { startServer } from '../server/start.js';
import { publishSurvey, submit } from '../submissions/data-fixtures.test-support.js';
import { HEADER_BYTES } from './format.js';
import { FsBlobStore } from './fs-store.js';
import { keyFiles } from './keys.js';
import { Keyring, MasterKey, parseMasterKey } from './master-key.js';
import { openBlobStore } from './open.js';

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

const fileOf = (root: string, id: string) => path.join(root, id.slice(0, 2), id.slice(2, 4), id);

describeEachDatabase('encryption at rest of the blob store', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_JOB_POLL_MS: '100' });
  const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-at-rest-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const photo = Buffer.concat([Buffer.from('PHOTO PLAINTEXT MARKER: face of Amina Yusuf, clinic 4. '), randomBytes(50_000)]);
  let owner: TestUser;
  let photoBlob: string;
  let exportBlob: string;
  let exportFile: Buffer;

  beforeAll(async () => {
    owner = await createTestUser(env(), 'at_rest_owner');
    const projectId = (await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'At rest' })).body.id as number;
    await publishSurvey(env(), projectId, owner);
    await submit(env(), projectId, owner, { district: 'north', age: '34', note: 'seen at clinic 4', photo: 'face.jpg' }, { files: { 'face.jpg': photo } });
    const db = env().server.database.db;
    photoBlob = (await db.selectFrom('submission_attachments').select('blob_id').where('name', '=', 'face.jpg').executeTakeFirstOrThrow()).blob_id!;

    const queued = await call(`${env().url}/api/v1/projects/${projectId}/forms/survey/exports/jobs`, 'POST', owner.headers, { format: 'csv' });
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    let job = queued.body;
    for (let tries = 0; job.state !== 'succeeded' && job.state !== 'failed' && tries < 300; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await call(`${env().url}/api/v1/projects/${projectId}/exports/jobs/${queued.body.id}`, 'GET', owner.headers)).body;
    }
    expect(job.state).toBe('succeeded');
    exportFile = Buffer.from(await (await fetch(`${env().url}${new URL(job.result.url as string).pathname}`, { headers: owner.headers })).arrayBuffer());
    exportBlob = (JSON.parse((await db.selectFrom('job').select('result_json').where('id', '=', queued.body.id).executeTakeFirstOrThrow()).result_json!) as { blobId: string }).blobId;
  });

  /** What a thief takes: a dump of the database, and the data directory without the master key (even the server secret). */
  function stolenFiles(): string[] {
    const { dataDir } = env().storage;
    const keys = keyFiles(dataDir);
    const taken = filesUnder(dataDir).filter((f) => f !== keys.current && f !== keys.previous);
    if (kind === 'postgres') {
      const url = new URL(env().storage.env.DATABASE_URL!);
      const schema = /search_path=(\S+)/.exec(url.searchParams.get('options') ?? '')![1]!;
      url.searchParams.delete('options');
      const dump = path.join(work, `dump-${kind}.sql`);
      writeFileSync(dump, execFileSync('pg_dump', ['--dbname', url.toString(), '--schema', schema, '--no-owner'], { maxBuffer: 256 * 1024 * 1024 }));
      taken.push(dump);
    }
    return taken;
  }

  it('a stolen database dump and data directory without the master key hold no byte of an attachment or a stored export', async () => {
    // The needles are real: the server reads them back through its master key.
    const blobs = openBlobStore(ensureSecretKey(env().config));
    expect((await buffer(await blobs.get(photoBlob))).equals(photo)).toBe(true);
    expect((await buffer(await blobs.get(exportBlob))).equals(exportFile)).toBe(true);
    // The form has a repeat, so its CSV export is a ZIP of one CSV per table.
    expect(exportFile.length).toBeGreaterThan(200);
    const middle = Math.floor(exportFile.length / 2);
    const needles = [
      photo.subarray(0, 40),
      photo.subarray(1000, 1032),
      photo.subarray(30_000, 30_032),
      photo.subarray(photo.length - 32),
      exportFile.subarray(0, 32),
      exportFile.subarray(middle, middle + 32),
      exportFile.subarray(exportFile.length - 32),
    ];
    const masterKey = parseMasterKey(readFileSync(keyFiles(env().storage.dataDir).current, 'utf8'))!;
    const stolen = stolenFiles();
    expect(stolen.some((f) => f.includes(`${path.sep}blobs${path.sep}`))).toBe(true);
    for (const file of stolen) {
      const bytes = readFileSync(file);
      for (const [i, needle] of needles.entries()) expect(bytes.includes(needle), `needle ${i} in ${file}`).toBe(false);
      expect(bytes.includes(masterKey), `the master key in ${file}`).toBe(false);
      expect(bytes.includes(masterKey.toString('base64url')), `the master key (text) in ${file}`).toBe(false);
    }
  });

  it('without the master key the files cannot be opened: a wrong key fails, even one the header is made to name', async () => {
    const stolenBlobs = path.join(work, `blobs-${kind}`);
    cpSync(path.join(env().storage.dataDir, 'blobs'), stolenBlobs, { recursive: true });
    const wrong = new MasterKey(randomBytes(32));
    const thief = new FsBlobStore(stolenBlobs, ensureSecretKey(env().config).secretKey!, new Keyring(wrong));
    for (const id of [photoBlob, exportBlob]) await expect(thief.get(id)).rejects.toMatchObject({ code: 'blob.master_key_unknown' });
    for (const id of [photoBlob, exportBlob]) {
      const bytes = readFileSync(fileOf(stolenBlobs, id));
      wrong.idBytes.copy(bytes, 8);
      writeFileSync(fileOf(stolenBlobs, id), bytes);
      await expect(thief.get(id)).rejects.toMatchObject({ code: 'blob.corrupt' });
    }
  });

  it('the server refuses to start when its files need a master key it does not have, saying which', async () => {
    const moved = mkdtempSync(path.join(work, `moved-${kind}-`));
    cpSync(path.join(env().storage.dataDir, 'blobs'), path.join(moved, 'blobs'), { recursive: true });
    const settings = { ...env().storage.env, FIELDKEEP_DATA_DIR: moved, FIELDKEEP_PORT: '0', FIELDKEEP_LOG_LEVEL: 'silent' };
    const refused = await startServer(loadConfig({ cwd: moved, env: settings })).then(() => null, (err: unknown) => err);
    expect(refused).toMatchObject({ code: 'blob.master_key_missing', message: expect.stringContaining('no master key is available') });
    expect(readdirSync(moved)).not.toContain('master.key');
    const other = await startServer(loadConfig({ cwd: moved, env: { ...settings, FIELDKEEP_MASTER_KEY: randomBytes(32).toString('base64url') } })).then(() => null, (err: unknown) => err);
    expect(other).toMatchObject({ code: 'blob.master_key_unknown' });
  });

  it('a backup carries the files decrypted inside age, and restores under the target instance\'s own master key', { timeout: 120_000 }, async () => {
    const identity = await generateX25519Identity();
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    const config = ensureSecretKey(env().config);
    await writeBackup({ database: env().server.database, blobs: openBlobStore(config), secretKey: config.secretKey! }, sink, { kind: 'age', to: { recipients: [await identityToRecipient(identity)] } });
    const archive = Buffer.concat(chunks);
    expect(archive.includes(photo.subarray(1000, 1032))).toBe(false);
    const plain = await buffer(await decryptStream(Readable.from([archive]), { identities: [identity], passphrases: [] }));
    expect(plain.includes(photo.subarray(1000, 1032))).toBe(true);

    const storage = await createScratchStorage(kind);
    const targetConfig = ensureSecretKey(loadConfig({ cwd: storage.dataDir, env: storage.env }));
    const database = openDatabase(targetConfig);
    try {
      const blobs = openBlobStore(targetConfig);
      expect(blobs.keyring.current.id).not.toBe(openBlobStore(config).keyring.current.id);
      await restoreArchive(await decryptStream(Readable.from([archive]), { identities: [identity], passphrases: [] }), { database, blobs, secretKey: targetConfig.secretKey! });
      const restored = (await sql<{ blob_id: string }>`select blob_id from submission_attachments where name = 'face.jpg'`.execute(database.db)).rows[0]!.blob_id;
      expect((await buffer(await blobs.get(restored))).equals(photo)).toBe(true);
      const file = readFileSync(fileOf(path.join(storage.dataDir, 'blobs'), restored));
      expect(file.subarray(8, 16)).toEqual(blobs.keyring.current.idBytes);
      expect(file.subarray(HEADER_BYTES).includes(photo.subarray(1000, 1032))).toBe(false);
    } finally {
      await database.close();
      await storage.drop();
    }
  });
});
