/**
 * Job runner benchmark (not a test): how fast jobs are queued one at a time, and how many no-op jobs
 * per second one runner and two runners (two connections, as two server processes would have)
 * claim, run and record, on SQLite (default settings: synchronous=FULL) and on PostgreSQL. This is
 * the runner's own overhead per job: real jobs (exports, backups) take far longer than it.
 *
 *   npx tsx bench/jobs.ts            (writes its section of BENCHMARKS.md)
 */
import { benchStorage } from './support/scratch.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import pino from 'pino';
import { openBlobStore } from '../src/blobs/index.js';
import { loadConfig } from '../src/config/config.js';
import { ensureSecretKey } from '../src/config/secret-key.js';
import { migrateToLatest, openDatabase, type Database } from '../src/db/database.js';
import { defineJobKind, enqueueJob, startJobRunner } from '../src/jobs/index.js';
import type { AppContext } from '../src/server/context.js';

const JOBS = 2000;
const CONCURRENCY = 4;
/** The machine is shared and disk flushes vary: each figure is the median of this many rounds. */
const ROUNDS = 3;
const silent = pino({ level: 'silent' });

interface Figures {
  kind: 'sqlite' | 'postgres';
  enqueuePerSecond: number;
  oneRunner: number;
  twoRunners: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function queue(database: Database, kindName: string): Promise<number> {
  const kind = defineJobKind<{ n: number }, null>({ kind: kindName, run: async () => null });
  const start = performance.now();
  for (let n = 0; n < JOBS; n++) await enqueueJob(database, kind, { payload: { n } });
  return JOBS / ((performance.now() - start) / 1000);
}

/** Jobs per second from the runners' start until every job of the kind has succeeded. */
async function drain(contexts: AppContext[], kindName: string): Promise<number> {
  let ran = 0;
  const kind = defineJobKind<{ n: number }, null>({ kind: kindName, run: async () => {
      ran += 1;
      return null;
    },
  });
  const db = contexts[0]!.database.db;
  const start = performance.now();
  const runners = contexts.map((ctx) => startJobRunner(ctx, [kind], silent, { concurrency: CONCURRENCY, pollMs: 50 }));
  // Counted in memory first: polling the table meanwhile would compete with the runners for the connection.
  while (ran < JOBS) await new Promise((resolve) => setTimeout(resolve, 5));
  for (;;) {
    const left = await db.selectFrom('job').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', kindName).where('state', '!=', 'succeeded').executeTakeFirstOrThrow();
    if (Number(left.n) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(runners.map((r) => r.stop()));
  return JOBS / seconds;
}

async function run(kind: 'sqlite' | 'postgres'): Promise<Figures> {
  const storage = await benchStorage(kind, 'jobs');
  const config = ensureSecretKey(loadConfig({ cwd: storage.dataDir, env: storage.env }));
  const blobs = openBlobStore(config);
  const first = openDatabase(config);
  const second = openDatabase(config);
  try {
    await migrateToLatest(first);
    const contexts: AppContext[] = [first, second].map((database) => ({ config, database, blobs }));
    const queued: number[] = [];
    const one: number[] = [];
    const two: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      queued.push(await queue(first, `bench-one-${round}`));
      one.push(await drain(contexts.slice(0, 1), `bench-one-${round}`));
      await queue(first, `bench-two-${round}`);
      two.push(await drain(contexts, `bench-two-${round}`));
    }
    const figures: Figures = { kind, enqueuePerSecond: median(queued), oneRunner: median(one), twoRunners: median(two) };
    console.log(figures);
    return figures;
  } finally {
    await second.close();
    await first.close();
    await storage.drop();
  }
}

const loadBefore = loadavg()[0]!;
const results = [await run('sqlite'), await run('postgres')];
const machine = `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node.js ${process.version}`;
const section = [
  '<!-- jobs:start (written by `npx tsx bench/jobs.ts`) -->',
  '## Background jobs',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; ${JOBS} no-op jobs per round, median of ${ROUNDS} rounds, default settings`,
  `(SQLite synchronous=FULL), runners with concurrency ${CONCURRENCY}; the second runner has its own connection, as a second`,
  'server process would. A job is two commits, its claim and its outcome, so these rates follow the time the disk takes to flush.',
  `Load average when it started: ${loadBefore.toFixed(1)} (other work on the machine makes these figures vary a lot).`,
  '',
  '| database | queue (one at a time) | one runner | two runners |',
  '| --- | --- | --- | --- |',
  ...results.map(
    (r) => `| ${r.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${r.enqueuePerSecond.toFixed(0)} jobs/s | ${r.oneRunner.toFixed(0)} jobs/s | ${r.twoRunners.toFixed(0)} jobs/s |`,
  ),
  '',
  'The figures are for comparison between changes: exports and backups run for seconds to hours, next to which this per-job cost is negligible.',
  '<!-- jobs:end -->',
].join('\n');

const file = new URL('../BENCHMARKS.md', import.meta.url);
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nFigures measured by the scripts in `bench/`; each script rewrites only its own section.\n';
const pattern = /<!-- jobs:start[\s\S]*?<!-- jobs:end -->/;
writeFileSync(file, pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(section);
