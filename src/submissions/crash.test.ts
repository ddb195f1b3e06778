/**
 * The durability promise, tested the hard way: the real server runs as a child process, 500
 * submissions (XML and a photo each) are posted at concurrency 32, the process is killed with
 * SIGKILL part-way, and a fresh process is started on the same storage. Every submission that
 * was acknowledged (201/202) must be there with its XML and photo readable and byte-identical,
 * and every submission that is visible at all must be whole: no row without its blobs, no
 * expected photo missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { Agent } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, createScratchStorage, type ScratchStorage } from '../../test/support/databases.js';
import { testUserSettings } from '../../test/support/test-users.js';
import { createAccountsContext } from '../accounts/context.js';
import { insertApiToken } from '../accounts/queries.js';
import { generateToken, hashToken } from '../accounts/tokens.js';
import { createUser } from '../accounts/users.js';
import { FsBlobStore } from '../blobs/index.js';
import { loadConfig, type Config } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { isoNow } from '../db/columns.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import { collectHeaders, multipartBody, send } from '../openrosa/submission-client.test-support.js';
import { createProject } from '../projects/index.js';

const TOTAL = 500;
const CONCURRENCY = 32;
/** Acknowledged submissions after which the server is killed. */
const KILL_AFTER = 150;
const repoRoot = path.resolve(import.meta.dirname, '../..');

const form = `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>Crash</h:title><model>
  <instance><data id="crash" version="1"><name/><photo/><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/photo" type="binary"/>
  <bind nodeset="/data/meta/instanceID" type="string" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/name"><label>Name</label></input><upload ref="/data/photo" mediatype="image/*"><label>Photo</label></upload></h:body>
</h:html>`;

interface Sent {
  instanceId: string;
  xml: Buffer;
  photoName: string;
  photo: Buffer;
}

function submission(i: number): Sent {
  const instanceId = `uuid:c0a5e000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const xml = Buffer.from(`<data id="crash" version="1"><name>n${i}</name><photo>p${i}.jpg</photo><meta><instanceID>${instanceId}</instanceID></meta></data>`);
  return { instanceId, xml, photoName: `p${i}.jpg`, photo: randomBytes(20 * 1024) };
}

/** Starts `fieldkeep serve` in a child process and resolves with its URL once it listens. */
function serve(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(path.join(repoRoot, 'node_modules/.bin/tsx'), ['src/main.ts', 'serve'], {
    cwd: repoRoot,
    // Only the settings given: an inherited DATABASE_URL (CI sets one) would move the SQLite run to PostgreSQL.
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: tsx runs the server in a child node process, and SIGKILL is not
    // relayed, so the whole group is killed.
    detached: true,
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*fieldkeep is listening|fieldkeep is listening[^\n]*"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: (match[1] ?? match[2])! });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${output}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    process.kill(-child.pid!, 'SIGKILL');
  });
}

describeEachDatabase('a SIGKILL in the middle of 500 concurrent submissions', (kind) => {
  let storage: ScratchStorage;
  let env: Record<string, string>;
  let config: Config;
  let headers: Record<string, string>;
  let projectId: number;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    storage = await createScratchStorage(kind);
    env = { ...storage.env, ...testUserSettings, FIELDKEEP_PORT: '0', FIELDKEEP_LOG_LEVEL: 'info' };
    config = ensureSecretKey(loadConfig({ cwd: storage.dataDir, env }));
    const database = openDatabase(config);
    try {
      await migrateToLatest(database);
      const accounts = createAccountsContext(database, config, { info: () => {} });
      const user = await createUser(accounts, { username: 'crash', email: null, password: `${randomBytes(12).toString('base64url')} Tx-9`, isAdmin: false }, { actorLabel: 'cli' });
      const token = generateToken('api');
      await insertApiToken(database.db, { user_id: user.id, name: 'crash', token_hash: hashToken(token), scope: 'write', created_at: isoNow() });
      headers = { authorization: `Bearer ${token}` };
      projectId = await createProject(database.db, user.id, { name: 'crash' }, { actorLabel: 'cli' });
    } finally {
      await database.close();
    }
  });

  const post = (url: string, sent: Sent, agent?: Agent) => {
    const body = multipartBody([
      { name: 'xml_submission_file', filename: 'crash.xml', contentType: 'text/xml', body: sent.xml },
      { name: sent.photoName, filename: sent.photoName, contentType: 'image/jpeg', body: sent.photo },
    ]);
    return send(`${url}/projects/${projectId}/submission`, 'POST', collectHeaders({ ...headers, 'content-type': body.contentType }), body.body, agent ? { agent } : {});
  };

  afterAll(async () => {
    for (const child of children) await killed(child);
    await storage?.drop();
  });

  it('keeps every acknowledged submission whole, and shows no half-written one', async () => {
    const first = await serve(env);
    children.push(first.child);
    const uploaded = await fetch(`${first.url}/api/v1/projects/${projectId}/forms?publish=true`, { method: 'POST', headers: { ...headers, 'content-type': 'application/xml' }, body: form });
    expect(uploaded.status).toBe(201);

    const all = Array.from({ length: TOTAL }, (_, i) => submission(i));
    const acknowledged: Sent[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    let next = 0;
    let kill: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) {
          const sent = all[next++]!;
          const response = await post(first.url, sent, agent).catch(() => undefined);
          if (response && (response.status === 201 || response.status === 202)) acknowledged.push(sent);
          if (acknowledged.length >= KILL_AFTER) kill ??= killed(first.child);
        }
      }),
    );
    agent.destroy();
    await kill;
    expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(acknowledged.length).toBeLessThan(TOTAL);

    const second = await serve(env);
    children.push(second.child);
    const database = openDatabase(config);
    const blobs = new FsBlobStore(path.join(config.dataDir, 'blobs'), config.secretKey as string);
    const read = async (id: string) => buffer(await blobs.get(id));
    try {
      const sentById = new Map(all.map((s) => [s.instanceId, s]));
      const versions = await database.db.selectFrom('submission_versions').selectAll().execute();
      const submissions = await database.db.selectFrom('submissions').selectAll().execute();
      expect(submissions.every((s) => s.current_version_id !== null)).toBe(true);
      expect(submissions.length).toBe(versions.length);
      const visible = new Set(versions.map((v) => v.instance_id));
      for (const sent of acknowledged) expect(visible.has(sent.instanceId), sent.instanceId).toBe(true);
      for (const version of versions) {
        const sent = sentById.get(version.instance_id)!;
        expect(await read(version.xml_blob)).toEqual(sent.xml);
        const attachments = await database.db.selectFrom('submission_attachments').selectAll().where('version_id', '=', version.id).execute();
        expect(attachments).toHaveLength(1);
        expect(attachments[0]!.blob_id, version.instance_id).not.toBeNull();
        expect(await read(attachments[0]!.blob_id!)).toEqual(sent.photo);
      }
      // The phones that got no answer send again, and the restarted server takes them.
      const retry = all.find((s) => !visible.has(s.instanceId));
      if (retry) {
        expect((await post(second.url, retry)).status).toBe(201);
      }
    } finally {
      await database.close();
    }
  }, 90_000);
});
