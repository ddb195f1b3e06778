/**
 * Export benchmark (not a test): BENCH_SUBMISSIONS submissions (default 1,000,000) of the 20-field
 * bench form are seeded straight into the database (bench/support/submission-seed.ts), then
 * exported over HTTP as CSV and as XLSX from a `fieldkeep serve` child process, a fresh one per
 * export so each peak memory figure is that export's. The server runs compiled, as `npm start`
 * runs it (built here into node_modules/.cache), since tsx's loader adds memory of its own. The client reads as fast as it can and
 * counts the bytes; the figures are rows per second over the whole download and the server's
 * peak resident memory (VmHWM). On SQLite, and on PostgreSQL unless BENCH_DATABASES says otherwise.
 *
 *   npx tsx bench/exports.ts      (writes its section of BENCHMARKS.md)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { memoryOf, startChild, stopChild } from './support/child-process.js';
import { openBenchInstance, seedSubmissions, type BenchInstance } from './support/submission-seed.js';

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

async function run(kind: 'sqlite' | 'postgres'): Promise<Figure[]> {
  const instance = await openBenchInstance(kind);
  try {
    console.log(`${kind}: inserting ${TOTAL} submissions`);
    await seedSubmissions(instance, TOTAL);
    // The export server is a child process of its own; this one lets go of the database first.
    await instance.server.stop();
    const figures: Figure[] = [];
    for (const format of FORMATS) figures.push(await exportOnce(instance, format));
    return figures;
  } finally {
    await instance.close();
  }
}

const build = spawnSync(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', built, '--sourceMap', 'false'], { cwd: repoRoot, stdio: 'inherit' });
if (build.status !== 0) throw new Error('the build failed');
const loadBefore = loadavg()[0]!;
const results: Figure[] = [];
for (const kind of KINDS) results.push(...(await run(kind)));
const rate = (f: Figure) => Math.round(TOTAL / f.seconds).toLocaleString('en-US');
const section = [
  '<!-- exports:start (written by `npx tsx bench/exports.ts`) -->',
  '## Exports',
  '',
  `${TOTAL.toLocaleString('en-US')} submissions of the 20-field bench form (5 int, 5 decimal, 10 text answers), exported over HTTP in one request each from a \`fieldkeep serve\` child process (compiled, as \`npm start\` runs it; a fresh one per export) to a client that reads as fast as it can. Each CSV row has the 20 answers and 7 system columns. Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node.js ${process.version}, shared with other work (load average ${loadBefore.toFixed(1)} at the start). Goals: CSV ≥ 100,000 rows/s, XLSX ≥ 20,000 rows/s on SQLite, server peak memory < 200 MB.`,
  '',
  '| database | format | rows/s | time | size | server RSS before | server peak RSS |',
  '| --- | --- | --: | --: | --: | --: | --: |',
  ...results.map((f) => `| ${f.kind} | ${f.format} | ${rate(f)} | ${f.seconds.toFixed(1)} s | ${(f.bytes / 1e6).toFixed(0)} MB | ${f.startMb.toFixed(0)} MB | ${f.peakMb.toFixed(0)} MB |`),
  '',
  'Peak RSS is the whole server process (VmHWM), start-up included; "before" is its RSS once listening, before the export. What an export holds at a time is one page of 2,000 rows, written with back-pressure; V8 lets its heap grow with the allocation rate before it collects, and that, more than the export, sets the peak RSS. Capping the heap (`NODE_OPTIONS=--max-old-space-size=…`) bounds it, at a cost in speed.',
  '<!-- exports:end -->',
].join('\n');
const file = path.join(repoRoot, 'BENCHMARKS.md');
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
const pattern = /<!-- exports:start[\s\S]*?<!-- exports:end -->/;
writeFileSync(file, pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(section);
