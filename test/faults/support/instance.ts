/**
 * A Fieldkeep instance for the fault suites: storage (a scratch SQLite directory or PostgreSQL
 * schema, or any data directory and database given), one person with a read-write token, one
 * project, and a published form whose submissions carry two attachments, as phones send them.
 * Submissions are posted as ODK Collect posts them (multipart, byte for byte).
 */
import { randomBytes } from 'node:crypto';
import type { Agent } from 'node:http';
import { createAccountsContext } from '../../../src/accounts/context.js';
import { insertApiToken } from '../../../src/accounts/queries.js';
import { generateToken, hashToken } from '../../../src/accounts/tokens.js';
import { createUser } from '../../../src/accounts/users.js';
import { openBlobStore, type BlobStore } from '../../../src/blobs/index.js';
import { loadConfig, type Config } from '../../../src/config/config.js';
import { ensureSecretKey } from '../../../src/config/secret-key.js';
import { isoNow } from '../../../src/db/columns.js';
import { migrateToLatest, openDatabase, type Database } from '../../../src/db/database.js';
import { collectHeaders, multipartBody, send, type RawResponse } from '../../../src/openrosa/submission-client.test-support.js';
import { createProject } from '../../../src/projects/index.js';
import { testUserSettings } from '../../support/test-users.js';

export const FORM_ID = 'faults';

const formXml = `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>Faults</h:title><model>
  <instance><data id="${FORM_ID}" version="1"><name/><photo/><audio/><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/photo" type="binary"/>
  <bind nodeset="/data/audio" type="binary"/>
  <bind nodeset="/data/meta/instanceID" type="string" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/name"><label>Name</label></input><upload ref="/data/photo" mediatype="image/*"><label>Photo</label></upload><upload ref="/data/audio" mediatype="audio/*"><label>Audio</label></upload></h:body>
</h:html>`;

export interface SentFile {
  name: string;
  contentType: string;
  bytes: Buffer;
}

/** One submission as a phone holds it until the server acknowledges it. */
export interface Sent {
  instanceId: string;
  xml: Buffer;
  files: SentFile[];
}

export interface FaultInstance {
  env: Record<string, string>;
  config: Config;
  projectId: number;
  headers: Record<string, string>;
  /** Opens the instance's database and blob store from the test process (to check what is stored). */
  open(): { database: Database; blobs: BlobStore };
}

/** Migrates the storage and creates the person, token and project (the form needs a running server). */
export async function seedInstance(storageEnv: Record<string, string>, dataDir: string): Promise<FaultInstance> {
  const env = { ...storageEnv, ...testUserSettings };
  const config = ensureSecretKey(loadConfig({ cwd: dataDir, env }));
  const database = openDatabase(config);
  let projectId: number;
  let token: string;
  try {
    await migrateToLatest(database);
    const accounts = createAccountsContext(database, config, { info: () => {} });
    const user = await createUser(accounts, { username: 'faults', email: null, password: `${randomBytes(12).toString('base64url')} Tx-9`, isAdmin: false }, { actorLabel: 'cli' });
    token = generateToken('api');
    await insertApiToken(database.db, { user_id: user.id, name: 'faults', token_hash: hashToken(token), scope: 'write', created_at: isoNow() });
    projectId = await createProject(database.db, user.id, { name: 'faults' }, { actorLabel: 'cli' });
  } finally {
    await database.close();
  }
  return {
    env,
    config,
    projectId,
    headers: { authorization: `Bearer ${token}` },
    open: () => ({ database: openDatabase(config), blobs: openBlobStore(config) }),
  };
}

/** Uploads and publishes the form through the API of a running server. */
export async function publishForm(instance: FaultInstance, url: string): Promise<void> {
  const response = await fetch(`${url}/api/v1/projects/${instance.projectId}/forms?publish=true`, {
    method: 'POST',
    headers: { ...instance.headers, 'content-type': 'application/xml' },
    body: formXml,
  });
  if (response.status !== 201) throw new Error(`publishing the form failed: ${response.status} ${await response.text()}`);
}

/**
 * Submission `index` of batch `batch`: instanceIDs unique across batches, attachments of the given
 * sizes filled with random bytes (every submission's files differ, so none is deduplicated).
 */
export function makeSubmission(batch: number, index: number, photoBytes: number, audioBytes: number): Sent {
  const instanceId = `uuid:fa017000-${String(batch).padStart(4, '0')}-4000-8000-${String(index).padStart(12, '0')}`;
  const photo = `p${batch}-${index}.jpg`;
  const audio = `a${batch}-${index}.m4a`;
  const xml = Buffer.from(
    `<data id="${FORM_ID}" version="1"><name>n${batch}-${index}</name><photo>${photo}</photo><audio>${audio}</audio><meta><instanceID>${instanceId}</instanceID></meta></data>`,
  );
  return {
    instanceId,
    xml,
    files: [
      { name: photo, contentType: 'image/jpeg', bytes: randomBytes(photoBytes) },
      { name: audio, contentType: 'audio/mp4', bytes: randomBytes(audioBytes) },
    ],
  };
}

/** Posts one submission as ODK Collect does; rejects only when no answer came (connection lost). */
export function postSubmission(instance: FaultInstance, url: string, sent: Sent, agent?: Agent): Promise<RawResponse> {
  const body = multipartBody([
    { name: 'xml_submission_file', filename: 'submission.xml', contentType: 'text/xml', body: sent.xml },
    ...sent.files.map((file) => ({ name: file.name, filename: file.name, contentType: file.contentType, body: file.bytes })),
  ]);
  return send(`${url}/projects/${instance.projectId}/submission`, 'POST', collectHeaders({ ...instance.headers, 'content-type': body.contentType }), body.body, agent ? { agent } : {});
}

/** The stable code of a refusal: OpenRosa answers carry it in X-Fieldkeep-Error, the API in problem+json. */
export function errorCodeOf(response: RawResponse): string | undefined {
  const header = response.headers['x-fieldkeep-error'];
  if (typeof header === 'string') return header;
  try {
    return (JSON.parse(response.body) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

/** The text of an OpenRosaResponse's message, what Collect shows on the phone. */
export function openRosaMessage(response: RawResponse): string | undefined {
  return /<message[^>]*>([\s\S]*?)<\/message>/.exec(response.body)?.[1];
}
