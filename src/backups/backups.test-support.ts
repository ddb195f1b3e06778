/**
 * Shared by the backup suites: a source instance with a bit of everything (accounts with a sealed
 * TOTP secret, a project with members, a published form, submissions with photos, audit entries),
 * a fresh target instance, and a comparison of the two.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { sealSecret } from '../accounts/sealed.js';
import { updateUser } from '../accounts/queries.js';
import { FsBlobStore } from '../blobs/index.js';
import { loadConfig, type Config } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { openDatabase, type Database } from '../db/database.js';
import { startServer } from '../server/start.js';
import { createScratchStorage, type DatabaseKind, type ScratchStorage } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import type { TestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings } from '../../test/support/test-users.js';
import { addMemberTo, publishSurvey, submit } from '../submissions/data-fixtures.test-support.js';
import { openBlobStore } from '../blobs/index.js';
import type { BackupContext } from './service.js';

export const TOTP_PLAIN = 'JBSWY3DPEHPK3PXP';

/** Photos of different sizes, one shared by two submissions (stored once). */
export const photos = [randomBytes(70_000), randomBytes(10), Buffer.alloc(0), randomBytes(200_001)];

/** Fills a test server with a bit of everything; `extraPhotos` adds a submission per photo (large ones make archives span several upload parts). */
export async function fillSource(server: TestServer, extraPhotos: readonly Buffer[] = []): Promise<void> {
  const owner = await createTestUser(server, 'backup_owner', { email: 'owner@example.org' });
  await createTestUser(server, 'backup_admin', { admin: true, email: 'admin@example.org' });
  const ann = await createTestUser(server, 'backup_ann');
  await updateUser(server.server.database.db, owner.id, { totp_secret: sealSecret(ensureSecretKey(server.config).secretKey!, TOTP_PLAIN) });
  const projectId = (await call(`${server.url}/api/v1/projects`, 'POST', owner.headers, { name: 'Backed up' })).body.id as number;
  await publishSurvey(server, projectId, owner);
  await addMemberTo(server, projectId, owner, 'backup_ann', 'editor');
  for (const [i, photo] of photos.entries()) {
    await submit(server, projectId, i % 2 === 0 ? owner : ann, { district: 'north', age: String(20 + i), note: `note ${i} ünïcödé`, photo: `p${i}.jpg` }, { files: { [`p${i}.jpg`]: photo } });
  }
  await submit(server, projectId, ann, { district: 'south', age: '9', note: 'same photo again', photo: 'again.jpg' }, { files: { 'again.jpg': photos[0]! } });
  await submit(server, projectId, ann, { district: 'east', note: 'no photo' });
  for (const [i, photo] of extraPhotos.entries()) {
    await submit(server, projectId, ann, { district: 'west', note: `extra ${i}`, photo: `extra${i}.jpg` }, { files: { [`extra${i}.jpg`]: photo } });
  }
}

export function sourceContext(server: TestServer): BackupContext {
  const config = ensureSecretKey(server.config);
  return { config, database: server.server.database, blobs: openBlobStore(config) };
}

export interface Instance {
  storage: ScratchStorage;
  config: Config;
  database: Database;
  blobs: FsBlobStore;
  close(): Promise<void>;
}

/** A new, empty (unmigrated) instance of the given kind, with its own server secret. */
export async function emptyInstance(kind: DatabaseKind): Promise<Instance> {
  const storage = await createScratchStorage(kind);
  const config = ensureSecretKey(loadConfig({ cwd: storage.dataDir, env: { ...storage.env, FIELDKEEP_SECRET_KEY: randomBytes(32).toString('base64url') } }));
  const database = openDatabase(config);
  const blobs = openBlobStore(config);
  return {
    storage,
    config,
    database,
    blobs,
    close: async () => {
      await database.close();
      await storage.drop();
    },
  };
}

/**
 * A new instance as an operator gets it: a real server started once on new storage (which migrates
 * its database to this version and generates its secret), then stopped.
 */
export async function startedInstance(kind: DatabaseKind): Promise<Instance> {
  const storage = await createScratchStorage(kind);
  const settings = () => loadConfig({ cwd: storage.dataDir, env: { ...storage.env, ...testUserSettings, FIELDKEEP_PORT: '0' } });
  const server = await startServer(settings(), { logDestination: new Writable({ write: (_chunk, _encoding, done) => done() }) });
  await server.stop();
  const config = ensureSecretKey(settings());
  const database = openDatabase(config);
  return {
    storage,
    config,
    database,
    blobs: openBlobStore(config),
    close: async () => {
      await database.close();
      await storage.drop();
    },
  };
}

type Row = Record<string, unknown>;

async function rows(database: Database, query: string): Promise<Row[]> {
  return (await sql<Row>`${sql.raw(query)}`.execute(database.db)).rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'object' && v !== null && !Buffer.isBuffer(v) ? JSON.stringify(v) : v])));
}

/**
 * Everything that must come back: accounts, roles, projects, forms, submissions and their versions,
 * attachments byte for byte (through each side's own blob store and secret), and the audit log entry
 * for entry (the target has one more: its restore).
 */
export async function expectSameData(source: { database: Database; blobs: BackupContext['blobs'] }, target: { database: Database; blobs: BackupContext['blobs'] }, auditUpTo: number): Promise<void> {
  const same = async (query: string) => expect(await rows(target.database, query), query).toEqual(await rows(source.database, query));
  await same('select id, username, email, password_hash, is_admin, disabled_at, created_at from users order by id');
  await same('select project_id, user_id, role, row_filter from project_members order by project_id, user_id');
  await same('select id, name, owner_id, created_at from projects order by id');
  await same('select id, project_id, xml_form_id, state, published_version_id from forms order by id');
  await same('select id, project_id, form_id, instance_id, current_version_id, submitted_by_user_id, created_at, review_status from submissions order by id');
  await same('select id, submission_id, instance_id, xml_sha256, xml_size, fields_json, submitted_by_kind, submitted_by_id from submission_versions order by id');
  await same('select id, version_id, name, md5, sha256, size, content_type, received_at from submission_attachments order by id');
  await same(`select id, at, actor_kind, actor_id, actor_label, action, resource_type, resource_id, project_id, details, prev_hash, hash from audit_log where id <= ${auditUpTo} order by id`);

  const sourceAttachments = await rows(source.database, 'select id, blob_id from submission_attachments where blob_id is not null order by id');
  const targetAttachments = await rows(target.database, 'select id, blob_id from submission_attachments where blob_id is not null order by id');
  expect(targetAttachments.length).toBeGreaterThan(0);
  for (const [i, s] of sourceAttachments.entries()) {
    const t = targetAttachments[i]!;
    expect(t.id).toBe(s.id);
    const [a, b] = [await buffer(await source.blobs.get(String(s.blob_id))), await buffer(await target.blobs.get(String(t.blob_id)))];
    expect(b.equals(a)).toBe(true);
  }
  const xmls = await rows(target.database, 'select xml_blob from submission_versions');
  for (const x of xmls) expect((await buffer(await target.blobs.get(String(x.xml_blob)))).toString('utf8')).toContain('<data');
}
