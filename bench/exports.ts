/**
 * Export benchmark (not a test): BENCH_SUBMISSIONS submissions (default 1,000,000) of the 20-field
 * bench form are seeded straight into the database (bench/support/submission-seed.ts), then
 * exported over HTTP as CSV and as XLSX from a `fieldkeep serve` child process, a fresh one per
 * export so each peak memory figure is that export's. The server runs compiled, as `npm start`
 * runs it (built here into node_modules/.cache), since tsx's loader adds memory of its own. The client reads as fast as it can and
 * counts the bytes; the figures are rows per second over the whole download and the server's
 * peak resident memory (VmHWM). On SQLite, and on PostgreSQL unless BENCH_DATABASES says otherwise.
 *
 * The ceiling, measured in the same run, is the same rows read straight from the database (keyset
 * pages of 2,000, values as arrays: no HTTP, no permission checks, no Kysely) and written as CSV
 * lines into memory and dropped: the least a CSV export of this data can cost in this process.
 *
 *   npx tsx bench/exports.ts      (writes its section of BENCHMARKS.md)
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { csvLine } from '../src/exports/csv.js';
import { memoryOf, startChild, stopChild } from './support/child-process.js';
import { FIELDS, openBenchInstance, seedSubmissions, type BenchInstance } from './support/submission-seed.js';
import { loadNow, machineLine, percentOf, printFigure, writeSection } from './support/report.js';

const TOTAL = Number(process.env.BENCH_SUBMISSIONS ?? 1_000_000);
const KINDS = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',') as Array<'sqlite' | 'postgres'>;
const FORMATS = ['csv', 'xlsx'] as const;
const repoRoot = path.resolve(import.meta.dirname, '..');
const built = path.join(repoRoot, 'node_modules/.cache/fieldkeep-bench-dist');

interface Figure {
  kind: string;
  format: string;
  seconds: number;
  bytes: number;
  startMb: number;
  peakMb: number;
  /** Rows per second of the ceiling (set once the ceiling has run). */
  ceiling?: number;
}

async function exportOnce(instance: BenchInstance, format: (typeof FORMATS)[number]): Promise<Figure> {
  const env = { ...instance.env, FIELDKEEP_LOG_LEVEL: 'info' };
  const { child, url } = await startChild([path.join(built, 'main.js'), 'serve'], env, /"url":"(http:\/\/[^"]+)"[^\n]*fieldkeep is listening/, process.execPath);
  try {
    const startMb = memoryOf(child.pid!).rss;
    const started = performance.now();
    const response = await fetch(`${url}/api/v1/projects/${instance.projectId}/forms/bench/export.${format}`, { headers: instance.headers });
    if (response.status !== 200 || !response.body) throw new Error(`export failed: ${response.status} ${await response.text()}`);
    let bytes = 0;
    let lines = 0;
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      if (format === 'csv') for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines += 1;
    }
    const seconds = (performance.now() - started) / 1000;
    if (format === 'csv' && lines !== TOTAL + 1) throw new Error(`the CSV has ${lines} lines, not ${TOTAL + 1}`);
    const figure = { kind: instance.kind, format, seconds, bytes, startMb, peakMb: memoryOf(child.pid!).peak };
    console.log(figure);
    return figure;
  } finally {
    await stopChild(child);
  }
}

const PAGE = 2000;
const CEILING_SQL =
  'select s.id, s.instance_id, s.created_at, s.review_status, s.submitted_by_user_id, v.form_version_id, v.data_json from submissions s join submission_versions v on v.id = s.current_version_id where s.form_id = $1 and s.deleted_at is null and s.id > $2 order by s.id limit $3';

/** Rows per second of the ceiling: every row read in keyset pages as arrays and made a CSV line. */
async function ceilingRowsPerSecond(instance: BenchInstance): Promise<number> {
  const line = (row: unknown[]) => {
    const answers = (typeof row[6] === 'string' ? JSON.parse(row[6]) : row[6]) as Record<string, string | number>;
    return csvLine([...FIELDS.map((f) => answers[f] ?? null), row[0] as number, row[1] as string, row[2] as string, row[3] as string | null, row[4] as number, row[5] as number, row[0] as number]);
  };
  const started = performance.now();
  let rows = 0;
  let after = 0;
  const target = instance.config.database;
  if (target.kind === 'sqlite') {
    const handle = new SQLite(target.path, { readonly: true });
    const page = handle.prepare(CEILING_SQL.replace(/\$\d/g, '?')).raw(true);
    for (;;) {
      const batch = page.all(instance.formId, after, PAGE) as unknown[][];
      let text = '';
      for (const row of batch) text += line(row);
      rows += batch.length;
      if (batch.length < PAGE || text === '') break;
      after = batch[batch.length - 1]![0] as number;
    }
    handle.close();
  } else {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    for (;;) {
      const batch = (await client.query({ text: CEILING_SQL, values: [instance.formId, after, PAGE], rowMode: 'array' })).rows as unknown[][];
      let text = '';
      for (const row of batch) text += line(row);
      rows += batch.length;
      if (batch.length < PAGE || text === '') break;
      after = Number(batch[batch.length - 1]![0]);
    }
    await client.end();
  }
  if (rows !== TOTAL) throw new Error(`the ceiling read ${rows} rows, not ${TOTAL}`);
  return rows / ((performance.now() - started) / 1000);
}

async function run(kind: 'sqlite' | 'postgres'): Promise<Figure[]> {
  const instance = await openBenchInstance(kind);
  try {
    console.log(`${kind}: inserting ${TOTAL} submissions`);
    await seedSubmissions(instance, TOTAL);
    // The export server is a child process of its own; this one lets go of the database first.
    await instance.server.stop();
    const figures: Figure[] = [];
    for (const format of FORMATS) figures.push(await exportOnce(instance, format));
    const ceiling = await ceilingRowsPerSecond(instance);
    return figures.map((f) => ({ ...f, ceiling }));
  } finally {
    await instance.close();
  }
}

const build = spawnSync(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', built, '--sourceMap', 'false'], { cwd: repoRoot, stdio: 'inherit' });
if (build.status !== 0) throw new Error('the build failed');
const loadBefore = loadNow();
const results: Figure[] = [];
for (const kind of KINDS) results.push(...(await run(kind)));
for (const f of results) {
  printFigure({ bench: 'exports', metric: 'rows per second', database: f.kind, format: f.format, submissions: TOTAL, value: TOTAL / f.seconds, unit: 'rows/s', better: 'higher', ceiling: f.ceiling });
  printFigure({ bench: 'exports', metric: 'server peak memory', database: f.kind, format: f.format, submissions: TOTAL, value: f.peakMb, unit: 'MB', better: 'lower', before: Math.round(f.startMb) });
}
const rate = (f: Figure) => Math.round(TOTAL / f.seconds).toLocaleString('en-US');
writeSection('exports', [
  '## Exports',
  '',
  `${TOTAL.toLocaleString('en-US')} submissions of the 20-field bench form (5 int, 5 decimal, 10 text answers), exported over HTTP in one request each from a \`fieldkeep serve\` child process (compiled, as \`npm start\` runs it; a fresh one per export) to a client that reads as fast as it can. Each CSV row has the 20 answers and 7 system columns. The ceiling, measured in the same run, is the same rows read straight from the database (keyset pages of 2,000, rows as arrays, no HTTP) and made CSV lines in memory. Machine: ${machineLine(loadBefore)}. Goals: CSV ≥ 100,000 rows/s, XLSX ≥ 20,000 rows/s on SQLite, server peak memory < 200 MB.`,
  '',
  '| database | format | rows/s | ceiling (read + CSV lines) | of the ceiling | time | size | server RSS before | server peak RSS |',
  '| --- | --- | --: | --: | --: | --: | --: | --: | --: |',
  ...results.map(
    (f) =>
      `| ${f.kind} | ${f.format} | ${rate(f)} | ${Math.round(f.ceiling!).toLocaleString('en-US')} | ${percentOf(TOTAL / f.seconds, f.ceiling!)} | ${f.seconds.toFixed(1)} s | ${(f.bytes / 1e6).toFixed(0)} MB | ${f.startMb.toFixed(0)} MB | ${f.peakMb.toFixed(0)} MB |`,
  ),
  '',
  'Peak RSS is the whole server process (VmHWM), start-up included; "before" is its RSS once listening, before the export. What an export holds at a time is one page of 2,000 rows, written with back-pressure, and each row is let go as soon as it is written, so rows die in the young generation\'s collections instead of filling the old generation: the peak is then the idle server, plus V8\'s young generation at its full size, plus (XLSX) exceljs, loaded with the first XLSX export. No V8 heap flag is set.',
  '',
  'Where the time goes (CPU profiles of the server exporting 200,000 rows on SQLite, taken with BENCH_CPU_PROFILE_DIR, 2026-11-30; shares of its busy time, module loading left out). CSV: reading the pages and parsing each row\'s stored answers 42 %, making the CSV lines (quoting and the formula check) 31 %, garbage collection 8 %. XLSX: writing the sheet\'s XML (cells, escaping, exceljs\'s streaming writer) 41 %, reading and parsing 28 %, the zip\'s CRC-32, computed in JavaScript, 7 %, garbage collection 6 %, deflate 2 % (most of it runs on the thread pool). The ceiling reads the same pages and makes CSV lines with nothing around them, so XLSX is measured against the cheaper format\'s floor.',
]);
