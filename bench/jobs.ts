/**
 * Job runner benchmark (not a test): how fast jobs are queued one at a time, and how many no-op jobs
 * per second one runner and two runners (two connections, as two server processes would have)
 * claim, run and record, on SQLite (default settings: synchronous=FULL) and on PostgreSQL. This is
 * the runner's own overhead per job: real jobs (exports, backups) take far longer than it.
 *
 * The ceiling, measured in the same run: a job is two commits (its claim and its outcome), so the
 * most jobs per second one connection can record is half the commits per second the same database,
 * with the same durability, takes from a tight loop of one-row updates (no job logic, no Kysely).
 *
 *   npx tsx bench/jobs.ts            (writes its section of BENCHMARKS.md)
 */
import { benchStorage } from './support/scratch.js';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { openBlobStore } from '../src/blobs/index.js';
import { loadConfig, type Config } from '../src/config/config.js';
import { ensureSecretKey } from '../src/config/secret-key.js';
import { migrateToLatest, openDatabase, type Database } from '../src/db/database.js';
import { defineJobKind, enqueueJob, startJobRunner } from '../src/jobs/index.js';
import type { AppContext } from '../src/server/context.js';
import { loadNow, machineLine, percentOf, printFigure, writeSection } from './support/report.js';

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
  /** Half the commits per second of a tight loop: the most jobs one connection can record. */
  ceiling: number;
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

/** Commits per second of one-row updates from a tight loop, on the same database with the same durability. */
async function commitsPerSecond(config: Config): Promise<number> {
  const target = config.database;
  const commits = JOBS * 2;
  if (target.kind === 'sqlite') {
    const handle = new SQLite(target.path);
    try {
      handle.pragma('journal_mode = WAL');
      handle.pragma(`synchronous = ${config.sqliteSynchronous}`);
      handle.exec('create table if not exists bench_ceiling (id integer primary key, n integer not null); insert or ignore into bench_ceiling values (1, 0)');
      const update = handle.prepare('update bench_ceiling set n = n + 1 where id = 1');
      const start = performance.now();
      for (let i = 0; i < commits; i++) update.run();
      return commits / ((performance.now() - start) / 1000);
    } finally {
      handle.close();
    }
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    await client.query('create table if not exists bench_ceiling (id integer primary key, n integer not null); insert into bench_ceiling values (1, 0) on conflict do nothing');
    const start = performance.now();
    for (let i = 0; i < commits; i++) await client.query({ name: 'bench_ceiling', text: 'update bench_ceiling set n = n + 1 where id = $1', values: [1] });
    return commits / ((performance.now() - start) / 1000);
  } finally {
    await client.end();
  }
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
    const ceilings: number[] = [];
    for (let round = 0; round < ROUNDS; round++) ceilings.push((await commitsPerSecond(config)) / 2);
    const ceiling = median(ceilings);
    const figures: Figures = { kind, enqueuePerSecond: median(queued), oneRunner: median(one), twoRunners: median(two), ceiling };
    console.log(figures);
    return figures;
  } finally {
    await second.close();
    await first.close();
    await storage.drop();
  }
}

const loadBefore = loadNow();
const results = [await run('sqlite'), await run('postgres')];
for (const r of results) {
  const figure = (metric: string, value: number, ceiling?: number) => printFigure({ bench: 'jobs', metric, database: r.kind, value, unit: 'jobs/s', better: 'higher', ...(ceiling === undefined ? {} : { ceiling }) });
  figure('queue, one at a time', r.enqueuePerSecond);
  figure('one runner', r.oneRunner, r.ceiling);
  figure('two runners', r.twoRunners, r.ceiling * 2);
}
writeSection('jobs', [
  '## Background jobs',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machineLine(loadBefore)}; ${JOBS} no-op jobs per round, median of ${ROUNDS} rounds, default settings`,
  `(SQLite synchronous=FULL), runners with concurrency ${CONCURRENCY}; the second runner has its own connection, as a second`,
  'server process would. A job is two commits, its claim and its outcome, so these rates follow the time the disk takes to flush;',
  'the ceiling is half the commits per second of one-row updates from a tight loop on the same database (twice that for two',
  'connections), measured in the same run. Other work on the machine makes these figures vary a lot.',
  '',
  '| database | queue (one at a time) | one runner | two runners | ceiling (one connection) |',
  '| --- | --- | --- | --- | --- |',
  ...results.map(
    (r) =>
      `| ${r.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${r.enqueuePerSecond.toFixed(0)} jobs/s | ${r.oneRunner.toFixed(0)} jobs/s (${percentOf(r.oneRunner, r.ceiling)}) | ${r.twoRunners.toFixed(0)} jobs/s (${percentOf(r.twoRunners, r.ceiling * 2)}) | ${r.ceiling.toFixed(0)} jobs/s |`,
  ),
  '',
  'The figures are for comparison between changes: exports and backups run for seconds to hours, next to which this per-job cost is negligible.',
]);
