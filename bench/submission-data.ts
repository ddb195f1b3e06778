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
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { benchInstanceId as instanceId, openBenchInstance, seedSubmissions } from './support/submission-seed.js';

const TOTAL = Number(process.env.BENCH_SUBMISSIONS ?? 1_000_000);
const PAGE = 100;
const DEEP_PAGE = 10_000;
const RUNS = 7;
const repoRoot = path.resolve(import.meta.dirname, '..');

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
  const instance = await openBenchInstance(kind);
  try {
    const { server, database, headers, projectId } = instance;
    console.log(`${kind}: inserting ${TOTAL} submissions`);
    const insertSeconds = await seedSubmissions(instance, TOTAL);
    const list = `${server.url}/api/v1/projects/${projectId}/forms/bench/submissions`;
    const deepIndex = Math.min(PAGE * (DEEP_PAGE - 1), TOTAL - PAGE);
    const before = await database.db.selectFrom('submissions').select('id').where('form_id', '=', instance.formId).orderBy('id').offset(deepIndex - 1).limit(1).executeTakeFirstOrThrow();
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
    await instance.close();
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
