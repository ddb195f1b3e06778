/**
 * Submission data API benchmark (not a test): a 20-field form with BENCH_SUBMISSIONS submissions
 * (default 1,000,000) inserted straight into the database in batches (no HTTP, no XML parsing;
 * the rows are what ingest stores, typed answers included), then timed over HTTP against the real
 * server, on SQLite and on PostgreSQL:
 *
 * - page 1 of the list (100 submissions, id order);
 * - page 10,000 by cursor (keyset: the cost of any page), and by offset as Kobo's `start` asks;
 * - a count filtered on an answer (a scan of the JSON: no index for arbitrary fields);
 * - one submission by instanceID.
 *
 * Each figure is the median of 7 requests after one warm-up.
 *
 *   npx tsx bench/submission-data.ts      (writes its section of BENCHMARKS.md)
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pg from 'pg';
import { createAccountsContext } from '../src/accounts/context.js';
import { insertApiToken } from '../src/accounts/queries.js';
import { generateToken, hashToken } from '../src/accounts/tokens.js';
import { createUser } from '../src/accounts/users.js';
import { loadConfig } from '../src/config/config.js';
import { ensureSecretKey } from '../src/config/secret-key.js';
import { isoNow } from '../src/db/columns.js';
import type { Database } from '../src/db/database.js';
import { createProject } from '../src/projects/index.js';
import { startServer } from '../src/server/start.js';
import { typedAnswers } from '../src/submissions/index.js';
import { parseXForm, type SubmissionFields } from '../src/xform/index.js';
import { postgresAdminUrl } from '../test/support/postgres-url.js';

const TOTAL = Number(process.env.BENCH_SUBMISSIONS ?? 1_000_000);
const PAGE = 100;
const DEEP_PAGE = 10_000;
const BATCH = 2000;
const RUNS = 7;
const repoRoot = path.resolve(import.meta.dirname, '..');

const FIELDS = Array.from({ length: 20 }, (_, i) => `q${i + 1}`);
const typeOf = (i: number) => (i % 4 === 1 ? 'int' : i % 4 === 3 ? 'decimal' : 'string');
const form = `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>Bench data</h:title><model>
  <instance><data id="bench" version="1">${FIELDS.map((f) => `<${f}/>`).join('')}<meta><instanceID/></meta></data></instance>
  ${FIELDS.map((f, i) => `<bind nodeset="/data/${f}" type="${typeOf(i)}"/>`).join('\n  ')}
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body>${FIELDS.map((f) => `<input ref="/data/${f}"><label>${f}</label></input>`).join('')}</h:body>
</h:html>`;
const schema = parseXForm(form);

const instanceId = (n: number) => `uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function answers(n: number): SubmissionFields {
  const fields: SubmissionFields = {};
  FIELDS.forEach((f, i) => {
    const type = typeOf(i);
    fields[f] = type === 'int' ? String((n * 7 + i) % 1000) : type === 'decimal' ? ((n % 997) / 10).toFixed(1) : `v${(n + i) % 50} text of field ${f}`;
  });
  fields['meta/instanceID'] = instanceId(n);
  return fields;
}

async function bulkInsert(database: Database, projectId: number, formId: number, formVersionId: number, userId: number): Promise<number> {
  const db = database.db;
  const started = performance.now();
  for (let from = 1; from <= TOTAL; from += BATCH) {
    const numbers = Array.from({ length: Math.min(BATCH, TOTAL - from + 1) }, (_, i) => from + i);
    await db.transaction().execute(async (trx) => {
      const at = isoNow();
      const submissions = await trx
        .insertInto('submissions')
        .values(numbers.map((n) => ({ project_id: projectId, form_id: formId, instance_id: instanceId(n), current_version_id: null, submitted_by_user_id: userId, submitted_by_device_id: null, created_at: at, updated_at: at })))
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

async function median(work: () => Promise<void>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)]!;
}

async function expectJson(url: string, headers: Record<string, string>): Promise<any> {
  const response = await fetch(url, { headers });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${body}`);
  return JSON.parse(body);
}

interface Figures {
  kind: string;
  insertSeconds: number;
  page1: number;
  deepCursor: number;
  deepOffset: number;
  count: number;
  countValue: number;
  single: number;
}

async function run(kind: 'sqlite' | 'postgres'): Promise<Figures> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-bench-data-'));
  const schemaName = `fk_bench_${randomBytes(6).toString('hex')}`;
  const adminUrl = postgresAdminUrl(process.env);
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  const env: Record<string, string> = { FIELDKEEP_DATA_DIR: dataDir, FIELDKEEP_PORT: '0', FIELDKEEP_LOG_LEVEL: 'warn', FIELDKEEP_PASSWORD_ITERATIONS: '1000' };
  if (kind === 'postgres') {
    await admin(`create schema ${schemaName}`);
    const url = new URL(adminUrl);
    url.searchParams.set('options', `-c search_path=${schemaName}`);
    env.DATABASE_URL = url.toString();
  }
  const config = ensureSecretKey(loadConfig({ cwd: dataDir, env }));
  const server = await startServer(config, { logDestination: new Writable({ write: (_c, _e, done) => done() }) });
  try {
    const database = server.database;
    const accounts = createAccountsContext(database, config, { info: () => {} });
    const user = await createUser(accounts, { username: 'bench', email: null, password: `${randomBytes(12).toString('base64url')} Tx-9`, isAdmin: false }, { actorLabel: 'cli' });
    const token = generateToken('api');
    await insertApiToken(database.db, { user_id: user.id, name: 'bench', token_hash: hashToken(token), scope: 'write', created_at: isoNow() });
    const headers = { authorization: `Bearer ${token}` };
    const projectId = await createProject(database.db, user.id, { name: 'bench' }, { actorLabel: 'cli' });
    const uploaded = await fetch(`${server.url}/api/v1/projects/${projectId}/forms?publish=true`, { method: 'POST', headers: { ...headers, 'content-type': 'application/xml' }, body: form });
    if (uploaded.status !== 201) throw new Error(`form upload failed: ${uploaded.status} ${await uploaded.text()}`);
    const formRow = await database.db.selectFrom('forms').select(['id', 'published_version_id']).where('project_id', '=', projectId).executeTakeFirstOrThrow();
    console.log(`${kind}: inserting ${TOTAL} submissions`);
    const insertSeconds = await bulkInsert(database, projectId, Number(formRow.id), Number(formRow.published_version_id), user.id);
    const list = `${server.url}/api/v1/projects/${projectId}/forms/bench/submissions`;
    const deepIndex = Math.min(PAGE * (DEEP_PAGE - 1), TOTAL - PAGE);
    const before = await database.db.selectFrom('submissions').select('id').where('form_id', '=', Number(formRow.id)).orderBy('id').offset(deepIndex - 1).limit(1).executeTakeFirstOrThrow();
    const cursor = Buffer.from(JSON.stringify({ f: '_id', d: false, v: null, i: Number(before.id) })).toString('base64url');
    const filter = encodeURIComponent(JSON.stringify({ q2: { $gte: 500 }, q1: { $regex: '^v1' } }));
    let countValue = 0;
    const assets = await expectJson(`${server.url}/api/v2/assets/`, headers);
    // Links carry the public URL, which names port 0 here: keep their path, on the real port.
    const koboData = `${server.url}${new URL(assets.results[0].data as string).pathname}`;
    const figures: Figures = {
      kind,
      insertSeconds,
      page1: await median(async () => void (await expectJson(`${list}?limit=${PAGE}`, headers))),
      deepCursor: await median(async () => void (await expectJson(`${list}?limit=${PAGE}&cursor=${cursor}`, headers))),
      deepOffset: await median(async () => void (await expectJson(`${koboData}?limit=${PAGE}&start=${deepIndex}`, headers))),
      count: await median(async () => {
        countValue = (await expectJson(`${list}.count?filter=${filter}`, headers)).count as number;
      }),
      countValue: 0,
      single: await median(async () => void (await expectJson(`${list}/${encodeURIComponent(instanceId(Math.ceil(TOTAL / 2)))}`, headers))),
    };
    figures.countValue = countValue;
    console.log(figures);
    return figures;
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (kind === 'postgres') await admin(`drop schema ${schemaName} cascade`);
  }
}

const results = [await run('sqlite'), await run('postgres')];
const ms = (value: number) => `${value.toFixed(1)} ms`;
const section = [
  '<!-- submission-data:start (written by `npx tsx bench/submission-data.ts`) -->',
  '## Submission data API',
  '',
  `${TOTAL.toLocaleString('en-US')} submissions of a 20-field form (5 int, 5 decimal, 10 text answers), inserted straight into the database, then read over HTTP from the real server in the same process; each figure is the median of ${RUNS} requests. Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, shared with other work.`,
  '',
  `| database | bulk insert | page 1 (${PAGE}) | page ${DEEP_PAGE.toLocaleString('en-US')} by cursor | page ${DEEP_PAGE.toLocaleString('en-US')} by offset (Kobo \`start\`) | filtered count | one submission |`,
  '| --- | --: | --: | --: | --: | --: | --: |',
  ...results.map((r) => `| ${r.kind} | ${(TOTAL / r.insertSeconds).toFixed(0)} rows/s | ${ms(r.page1)} | ${ms(r.deepCursor)} | ${ms(r.deepOffset)} | ${ms(r.count)} (${r.countValue.toLocaleString('en-US')} rows) | ${ms(r.single)} |`),
  '',
  'The filtered count is `{"q2": {"$gte": 500}, "q1": {"$regex": "^v1"}}`: a scan of every row\'s JSON, as no index covers arbitrary answers. Keyset paging (`cursor`) costs the same on any page; offset paging grows with the offset, and the Kobo figure also includes the `count` of every row that Kobo\'s answer carries. The `next` links of the Kobo API carry a cursor, so a client following them pays the cursor\'s cost plus that count.',
  '<!-- submission-data:end -->',
].join('\n');
const file = path.join(repoRoot, 'BENCHMARKS.md');
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
const pattern = /<!-- submission-data:start[\s\S]*?<!-- submission-data:end -->/;
writeFileSync(file, pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(section);
