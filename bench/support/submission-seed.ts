/**
 * A benchmark instance with many submissions, shared by the benchmarks that read them (the data
 * API, exports): a scratch data directory (and a PostgreSQL schema), the real server started on
 * it, a person with an API token, a project with a published 20-field form (5 int, 5 decimal, 10
 * text questions), and `seedSubmissions`, which inserts submissions straight into the database in
 * batches (no HTTP, no XML parsing; the rows are what ingest stores, typed answers included).
 */
import { benchStorage } from './scratch.js';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { createAccountsContext } from '../../src/accounts/context.js';
import { insertApiToken } from '../../src/accounts/queries.js';
import { generateToken, hashToken } from '../../src/accounts/tokens.js';
import { createUser } from '../../src/accounts/users.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { ensureSecretKey } from '../../src/config/secret-key.js';
import { isoNow } from '../../src/db/columns.js';
import type { Database } from '../../src/db/database.js';
import { send } from '../../src/openrosa/submission-client.test-support.js';
import { createProject } from '../../src/projects/index.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import { typedAnswers } from '../../src/submissions/index.js';
import { parseXForm, type SubmissionFields } from '../../src/xform/index.js';

const BATCH = 2000;

export const FIELDS = Array.from({ length: 20 }, (_, i) => `q${i + 1}`);
const typeOf = (i: number) => (i % 4 === 1 ? 'int' : i % 4 === 3 ? 'decimal' : 'string');
export const benchForm = `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>Bench data</h:title><model>
  <instance><data id="bench" version="1">${FIELDS.map((f) => `<${f}/>`).join('')}<meta><instanceID/></meta></data></instance>
  ${FIELDS.map((f, i) => `<bind nodeset="/data/${f}" type="${typeOf(i)}"/>`).join('\n  ')}
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body>${FIELDS.map((f) => `<input ref="/data/${f}"><label>${f}</label></input>`).join('')}</h:body>
</h:html>`;
const schema = parseXForm(benchForm);

export const benchInstanceId = (n: number) => `uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function answers(n: number): SubmissionFields {
  const fields: SubmissionFields = {};
  FIELDS.forEach((f, i) => {
    const type = typeOf(i);
    fields[f] = type === 'int' ? String((n * 7 + i) % 1000) : type === 'decimal' ? ((n % 997) / 10).toFixed(1) : `v${(n + i) % 50} text of field ${f}`;
  });
  fields['meta/instanceID'] = benchInstanceId(n);
  return fields;
}

export interface BenchInstance {
  kind: 'sqlite' | 'postgres';
  /** The settings the server was started with, for starting it again elsewhere (a child process). */
  env: Record<string, string>;
  config: Config;
  server: RunningServer;
  database: Database;
  headers: Record<string, string>;
  projectId: number;
  formId: number;
  formVersionId: number;
  userId: number;
  /** Stops the server (if still running) and removes the data directory and schema. */
  close(): Promise<void>;
}

export async function openBenchInstance(kind: 'sqlite' | 'postgres'): Promise<BenchInstance> {
  const storage = await benchStorage(kind, 'data');
  const env: Record<string, string> = { ...storage.env, FIELDKEEP_PORT: '0', FIELDKEEP_LOG_LEVEL: 'warn', FIELDKEEP_PASSWORD_ITERATIONS: '1000' };
  const config = ensureSecretKey(loadConfig({ cwd: storage.dataDir, env }));
  const server = await startServer(config, { logDestination: new Writable({ write: (_c, _e, done) => done() }) });
  let stopped = false;
  const close = async () => {
    if (!stopped) await server.stop();
    stopped = true;
    await storage.drop();
  };
  try {
    const database = server.database;
    const accounts = createAccountsContext(database, config, { info: () => {} });
    const user = await createUser(accounts, { username: 'bench', email: null, password: `${randomBytes(12).toString('base64url')} Tx-9`, isAdmin: false }, { actorLabel: 'cli' });
    const token = generateToken('api');
    await insertApiToken(database.db, { user_id: user.id, name: 'bench', token_hash: hashToken(token), scope: 'write', created_at: isoNow() });
    const headers = { authorization: `Bearer ${token}` };
    const projectId = await createProject(database.db, user.id, { name: 'bench' }, { actorLabel: 'cli' });
    // Not on a kept-alive connection: seeding a million rows in this process then blocks the event
    // loop past the keep-alive timeout, and the client and server timers race to close that socket.
    const uploaded = await send(`${server.url}/api/v1/projects/${projectId}/forms?publish=true`, 'POST', { ...headers, 'content-type': 'application/xml' }, Buffer.from(benchForm), {
      agent: new Agent({ keepAlive: false }),
    });
    if (uploaded.status !== 201) throw new Error(`form upload failed: ${uploaded.status} ${uploaded.body}`);
    const form = await database.db.selectFrom('forms').select(['id', 'published_version_id']).where('project_id', '=', projectId).executeTakeFirstOrThrow();
    const stop = async () => {
      stopped = true;
      await server.stop();
    };
    return { kind, env, config, server: { ...server, stop }, database, headers, projectId, formId: Number(form.id), formVersionId: Number(form.published_version_id), userId: user.id, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Inserts `total` submissions of the bench form; the time it took, in seconds. */
export async function seedSubmissions(instance: BenchInstance, total: number): Promise<number> {
  const { database, projectId, formId, formVersionId, userId } = instance;
  const db = database.db;
  const started = performance.now();
  for (let from = 1; from <= total; from += BATCH) {
    const numbers = Array.from({ length: Math.min(BATCH, total - from + 1) }, (_, i) => from + i);
    await db.transaction().execute(async (trx) => {
      const at = isoNow();
      const submissions = await trx
        .insertInto('submissions')
        .values(numbers.map((n) => ({ project_id: projectId, form_id: formId, instance_id: benchInstanceId(n), current_version_id: null, submitted_by_user_id: userId, submitted_by_device_id: null, created_at: at, updated_at: at })))
        .returning(['id', 'instance_id'])
        .execute();
      await trx
        .insertInto('submission_versions')
        .values(
          submissions.map((s, i) => {
            const fields = answers(numbers[i]!);
            return {
              submission_id: Number(s.id),
              form_id: formId,
              form_version_id: formVersionId,
              instance_id: s.instance_id,
              deprecated_id: null,
              instance_name: null,
              encrypted: 0,
              xml_blob: 'bench-no-blob',
              xml_sha256: 'bench',
              xml_size: 0,
              fields_json: JSON.stringify(fields),
              data_json: JSON.stringify(typedAnswers(fields, schema)),
              submitted_by_kind: 'user',
              submitted_by_id: userId,
              device_id: null,
              created_at: at,
            };
          }),
        )
        .execute();
      const first = Number(submissions[0]!.id);
      const last = Number(submissions[submissions.length - 1]!.id);
      await trx
        .updateTable('submissions')
        .set((eb) => ({ current_version_id: eb.selectFrom('submission_versions as v').select((v) => v.fn.max('v.id').as('id')).whereRef('v.submission_id', '=', 'submissions.id') }))
        .where('id', '>=', first)
        .where('id', '<=', last)
        .execute();
    });
    if ((from - 1) % 100_000 === 0 && from > 1) console.log(`  ${from - 1} inserted, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  // Fresh statistics, as autovacuum would have gathered on a database that grew over months.
  await sql`analyze`.execute(db);
  return (performance.now() - started) / 1000;
}
