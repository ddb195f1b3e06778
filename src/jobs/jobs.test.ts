import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { useMigratedDatabase } from '../../test/support/migrated-database.js';
import { openBlobStore } from '../blobs/index.js';
import { loadConfig } from '../config/config.js';
import { openDatabase, type Database } from '../db/database.js';
import type { AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import {
  cancelJob,
  defineJobKind,
  enqueueJob,
  ensureSchedule,
  findJob,
  findSchedule,
  JobInterrupted,
  listJobs,
  presentJob,
  removeSchedule,
  startJobRunner,
  type JobContext,
  type JobKind,
  type JobRow,
  type JobRunner,
  type JobRunnerOptions,
} from './index.js';
import { claimNextJob } from './queries.js';

const silent = pino({ level: 'silent' });
let kindSerial = 0;
/** Each test has kinds of its own, so no runner of one test touches another test's jobs. */
const kindName = (name: string) => `${name}-${++kindSerial}`;

/** Resolves with the probe's first truthy answer; fails the test after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A promise with its resolver, to hold a job at a point the test chooses. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Resolves when the signal aborts, with its reason. */
const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => (signal.aborted ? resolve(signal.reason) : signal.addEventListener('abort', () => resolve(signal.reason), { once: true })));

describeEachDatabase('job runner', (dbKind) => {
  const migrated = useMigratedDatabase(dbKind);
  let ctx: AppContext;
  /** A second connection (pool) to the same database, as another server process would have. */
  let other: AppContext;
  let otherDatabase: Database;
  let projectId: number;
  let otherProjectId: number;
  const runners: JobRunner[] = [];

  beforeAll(async () => {
    const { database, storage } = migrated();
    const config = loadConfig({ cwd: storage.dataDir, env: { ...storage.env, FIELDKEEP_SECRET_KEY: 'k'.repeat(40) } });
    const blobs = openBlobStore(config);
    ctx = { config, database, blobs };
    otherDatabase = openDatabase({ database: storage.target, sqliteSynchronous: 'NORMAL', dbPoolSize: 4 });
    other = { config, database: otherDatabase, blobs };
    const now = new Date().toISOString();
    const { id: ownerId } = await database.db
      .insertInto('users')
      .values({ username: 'owner', username_key: 'owner', email: null, email_key: null, password_hash: 'x', is_admin: 0, disabled_at: null, totp_secret: null, totp_pending_secret: null, totp_last_step: null, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const project = (name: string) =>
      database.db
        .insertInto('projects')
        .values({ name, description: '', owner_id: ownerId, archived: 0, created_at: now, updated_at: now, deleted_at: null })
        .returning('id')
        .executeTakeFirstOrThrow();
    projectId = Number((await project('one')).id);
    otherProjectId = Number((await project('two')).id);
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => otherDatabase?.close());

  const start = (kinds: JobKind<any, any>[], options: JobRunnerOptions = {}, on: AppContext = ctx) => {
    const runner = startJobRunner(on, kinds, silent, { pollMs: 20, staleMs: 2000, progressIntervalMs: 0, retryDelayMs: 10, ...options });
    runners.push(runner);
    return runner;
  };
  const row = async (id: number) => (await ctx.database.db.selectFrom('job').selectAll().where('id', '=', id).executeTakeFirstOrThrow()) as JobRow;
  const settledRow = (id: number) => waitFor(`job ${id} to finish`, async () => {
    const r = await row(id);
    return ['succeeded', 'failed', 'cancelled'].includes(r.state) ? r : undefined;
  });

  it('queues a job with its payload, project and actor, and runs it once', async () => {
    const seen: Array<JobContext<{ n: number }>> = [];
    const kind = defineJobKind<{ n: number }, { doubled: number }>({
      kind: kindName('double'),
      async run(_ctx, job) {
        seen.push(job);
        return { doubled: job.payload.n * 2 };
      },
    });
    const actor = { kind: 'user', userId: 7, username: 'u', isAdmin: false, credential: 'session', scope: 'write' } as const;
    const id = await enqueueJob(ctx.database, kind, { payload: { n: 21 }, projectId, actor });
    const queued = await row(id);
    expect(queued).toMatchObject({ state: 'queued', kind: kind.kind, project_id: projectId, actor_kind: 'user', actor_id: 7, attempts: 0, progress_done: 0, progress_total: null });
    start([kind]);
    const done = await settledRow(id);
    expect(done).toMatchObject({ state: 'succeeded', attempts: 1, result_json: '{"doubled":42}', error_code: null });
    expect(done.started_at! <= done.finished_at!).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ id, payload: { n: 21 } });
    expect(presentJob(done)).toMatchObject({
      id,
      kind: kind.kind,
      state: 'succeeded',
      progress: { done: 0, total: null },
      attempts: 1,
      createdAt: queued.created_at,
      expiresAt: null,
      expired: false,
      result: { doubled: 42 },
      error: null,
    });
    expect(presentJob<{ doubled: number }>(done, (r) => ({ shown: r.doubled })).result).toEqual({ shown: 42 });
  });

  it('waits for run_after, and queues nothing when the enclosing transaction rolls back', async () => {
    const ran: number[] = [];
    const kind = defineJobKind<null, null>({ kind: kindName('later'), run: async (_ctx, job) => (ran.push(job.id), null) });
    const later = await enqueueJob(ctx.database.db, kind, { payload: null, runAfter: new Date(Date.now() + 1000) });
    await expect(
      ctx.database.db.transaction().execute(async (trx) => {
        await enqueueJob(trx, kind, { payload: null });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    start([kind]);
    await sleep(150);
    expect((await row(later)).state).toBe('queued');
    await settledRow(later);
    expect(ran).toEqual([later]);
  });

  it('never gives one job to two runners, whether claims race directly or through runners on two connections', async () => {
    const kind = defineJobKind<null, null>({ kind: kindName('race'), run: async () => null });
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push(await enqueueJob(ctx.database, kind, { payload: null }));
    const now = new Date().toISOString();
    const claims = await Promise.all(
      Array.from({ length: 24 }, (_, i) => claimNextJob(i % 2 ? ctx.database : otherDatabase, [kind.kind], { claimedBy: `racer-${i}`, now })),
    );
    const won = claims.filter((c) => c !== undefined).map((c) => c.id);
    expect(won.sort((a, b) => a - b)).toEqual(ids);
    for (const [i, claim] of claims.entries()) {
      if (claim) expect(await row(claim.id)).toMatchObject({ state: 'running', claimed_by: `racer-${i}`, attempts: 1 });
    }

    const runs = new Map<number, string[]>();
    const counting = (runner: string) =>
      defineJobKind<null, null>({
        kind: kindName('counted'),
        async run(_ctx, job) {
          runs.set(job.id, [...(runs.get(job.id) ?? []), runner]);
          await sleep(2);
          return null;
        },
      });
    const a = counting('a');
    const b = { ...counting('b'), kind: a.kind };
    const many: number[] = [];
    for (let i = 0; i < 60; i++) many.push(await enqueueJob(ctx.database, a, { payload: null }));
    start([a], { concurrency: 3, pollMs: 5 });
    start([b], { concurrency: 3, pollMs: 5 }, other);
    await waitFor('every job to succeed', async () => {
      const states = await ctx.database.db.selectFrom('job').select('state').where('kind', '=', a.kind).execute();
      return states.every((s) => s.state === 'succeeded');
    });
    expect([...runs.keys()].sort((x, y) => x - y)).toEqual(many);
    for (const [id, by] of runs) expect(by, `job ${id}`).toHaveLength(1);
  });

  it('writes progress while a job runs, throttled, and keeps the last values when it ends', async () => {
    const midway = gate();
    const finish = gate();
    const kind = defineJobKind<null, string>({
      kind: kindName('progress'),
      async run(_ctx, job) {
        await job.progress(3, 10);
        midway.open();
        await finish.promise;
        await job.progress(10);
        return 'done';
      },
    });
    const id = await enqueueJob(ctx.database, kind, { payload: null });
    start([kind]);
    await midway.promise;
    expect(presentJob(await row(id)).progress).toEqual({ done: 3, total: 10 });
    expect((await row(id)).state).toBe('running');
    finish.open();
    expect(presentJob(await settledRow(id)).progress).toEqual({ done: 10, total: 10 });

    const throttledMidway = gate();
    const throttledFinish = gate();
    const throttled = defineJobKind<null, null>({
      kind: kindName('throttled'),
      async run(_ctx, job) {
        for (let i = 1; i <= 1000; i++) await job.progress(i, null);
        throttledMidway.open();
        await throttledFinish.promise;
        await expect(job.progress(-1)).rejects.toThrow(RangeError);
        return null;
      },
    });
    const throttledId = await enqueueJob(ctx.database, throttled, { payload: null });
    start([throttled], { progressIntervalMs: 60_000, staleMs: 60_000 });
    await throttledMidway.promise;
    expect((await row(throttledId)).progress_done).toBe(0);
    throttledFinish.open();
    expect(await settledRow(throttledId)).toMatchObject({ state: 'succeeded', progress_done: 1000, progress_total: null });
  });

  it('records a failure with the error code of an AppError, and a generic code for anything else', async () => {
    const known = defineJobKind<null, null>({
      kind: kindName('known-failure'),
      run: async () => {
        throw new AppError('form.not_found', 'The form "census" is gone.');
      },
    });
    const unknown = defineJobKind<null, null>({
      kind: kindName('crash'),
      run: async () => {
        throw new Error('ENOENT /srv/secret/path');
      },
    });
    const a = await enqueueJob(ctx.database, known, { payload: null, projectId });
    const b = await enqueueJob(ctx.database, unknown, { payload: null, projectId });
    start([known, unknown]);
    const failedA = await settledRow(a);
    expect(failedA).toMatchObject({ state: 'failed', attempts: 1, error_code: 'form.not_found', error_message: 'The form "census" is gone.', result_json: null });
    expect(failedA.finished_at).not.toBeNull();
    expect(presentJob(failedA).error).toEqual({ code: 'form.not_found', message: 'The form "census" is gone.' });
    const failedB = await settledRow(b);
    expect(failedB).toMatchObject({ state: 'failed', error_code: 'job.failed', error_message: 'The job failed; the server log has the details.' });
  });

  it('retries a failed attempt until maxAttempts, with the last error kept while it waits', async () => {
    let calls = 0;
    const flaky = defineJobKind<null, number>({
      kind: kindName('flaky'),
      maxAttempts: 3,
      async run() {
        calls += 1;
        if (calls < 3) throw new AppError('server.not_ready', `attempt ${calls}`);
        return calls;
      },
    });
    const id = await enqueueJob(ctx.database, flaky, { payload: null });
    start([flaky], { retryDelayMs: 150 });
    const retrying = await waitFor('the first retry to be queued', async () => {
      const r = await row(id);
      return r.state === 'queued' && r.attempts === 1 ? r : undefined;
    });
    expect(retrying).toMatchObject({ error_code: 'server.not_ready', error_message: 'attempt 1', claimed_by: null });
    expect(Date.parse(retrying.run_after) - Date.parse(retrying.started_at!)).toBeGreaterThanOrEqual(150);
    expect(await settledRow(id)).toMatchObject({ state: 'succeeded', attempts: 3, result_json: '3', error_code: null, error_message: null });

    const hopeless = defineJobKind<null, null>({
      kind: kindName('hopeless'),
      maxAttempts: 2,
      run: async () => {
        throw new AppError('server.not_ready', 'still not');
      },
    });
    const lost = await enqueueJob(ctx.database, hopeless, { payload: null });
    start([hopeless]);
    expect(await settledRow(lost)).toMatchObject({ state: 'failed', attempts: 2, error_code: 'server.not_ready' });
    expect(() => defineJobKind({ kind: 'x', maxAttempts: 0, run: async () => null })).toThrow(/maxAttempts/);
    expect(() => defineJobKind({ kind: 'Bad Name', run: async () => null })).toThrow(/lower-case/);
  });

  it('takes back a stale job: queued again while it has attempts left, failed when it has none', async () => {
    const retried = defineJobKind<null, string>({ kind: kindName('stale-retry'), maxAttempts: 2, run: async () => 'second time' });
    const once = defineJobKind<null, string>({ kind: kindName('stale-once'), run: async () => 'never' });
    const a = await enqueueJob(ctx.database, retried, { payload: null });
    const b = await enqueueJob(ctx.database, once, { payload: null });
    // A server claims both, then dies without a word.
    for (const kind of [retried, once]) await claimNextJob(ctx.database, [kind.kind], { claimedBy: 'dead-server/1', now: new Date().toISOString() });
    const long = new Date(Date.now() - 60_000).toISOString();
    await ctx.database.db.updateTable('job').set({ heartbeat_at: long }).where('id', 'in', [a, b]).execute();
    expect((await row(a)).state).toBe('running');
    start([retried, once], { staleMs: 1000 });
    expect(await settledRow(a)).toMatchObject({ state: 'succeeded', attempts: 2, result_json: '"second time"' });
    expect(await settledRow(b)).toMatchObject({ state: 'failed', attempts: 1, error_code: 'job.abandoned' });
  });

  it('keeps taking back stale jobs while finishing jobs keep waking it', async () => {
    let chained = 0;
    const chain: JobKind<null, null> = defineJobKind<null, null>({
      kind: kindName('chain'),
      async run() {
        chained += 1;
        await sleep(5);
        await enqueueJob(ctx.database, chain, { payload: null });
        return null;
      },
    });
    const orphan = defineJobKind<null, null>({ kind: kindName('orphan'), run: async () => null });
    await enqueueJob(ctx.database, chain, { payload: null });
    start([chain, orphan], { pollMs: 300, concurrency: 1 });
    await waitFor('the chain to get going', async () => chained > 3);
    // Another server's job goes stale while this runner is kept busy.
    const id = await enqueueJob(ctx.database, orphan, { payload: null, runAfter: new Date(Date.now() + 60_000) });
    await ctx.database.db
      .updateTable('job')
      .set({ state: 'running', claimed_by: 'dead-server/1', attempts: 1, heartbeat_at: new Date(Date.now() - 60_000).toISOString() })
      .where('id', '=', id)
      .execute();
    expect(await settledRow(id)).toMatchObject({ state: 'failed', error_code: 'job.abandoned' });
  });

  it('leaves a job alone while its runner beats, and aborts a job its runner lost', async () => {
    const started = gate();
    const reasons: unknown[] = [];
    const slow = defineJobKind<null, null>({
      kind: kindName('slow'),
      async run(_ctx, job) {
        started.open();
        reasons.push(await aborted(job.signal));
        throw job.signal.reason;
      },
    });
    const id = await enqueueJob(ctx.database, slow, { payload: null });
    start([slow], { staleMs: 500 });
    start([slow], { staleMs: 500 }, other);
    await started.promise;
    await sleep(1200);
    const running = await row(id);
    expect(running.state).toBe('running');
    expect(running.attempts).toBe(1);
    // Another runner took it back (as it would after a long pause of this one).
    await ctx.database.db.updateTable('job').set({ claimed_by: 'someone-else/1' }).where('id', '=', id).execute();
    await waitFor('the job to be aborted', async () => reasons.length > 0);
    expect(reasons[0]).toBeInstanceOf(JobInterrupted);
    expect((reasons[0] as JobInterrupted).why).toBe('lost');
    expect(await row(id)).toMatchObject({ state: 'running', claimed_by: 'someone-else/1' });
  });

  it('cancels a queued job before it runs and a running job through its signal, within scope only', async () => {
    const ran: number[] = [];
    const reasons: unknown[] = [];
    const started = gate();
    const kind = defineJobKind<null, null>({
      kind: kindName('cancel'),
      async run(_ctx, job) {
        ran.push(job.id);
        started.open();
        reasons.push(await aborted(job.signal));
        await job.progress(1);
        return null;
      },
    });
    const queued = await enqueueJob(ctx.database, kind, { payload: null, projectId });
    expect(await cancelJob(ctx.database, { projectId: otherProjectId }, queued)).toBe(false);
    expect(await cancelJob(ctx.database, { projectId: null }, queued)).toBe(false);
    expect(await cancelJob(ctx.database, { projectId, kind: 'other-kind' }, queued)).toBe(false);
    expect(await cancelJob(ctx.database, { projectId, kind: kind.kind }, queued)).toBe(true);
    expect(await row(queued)).toMatchObject({ state: 'cancelled' });

    const running = await enqueueJob(ctx.database, kind, { payload: null, projectId });
    start([kind], { staleMs: 1200 });
    await started.promise;
    expect(await cancelJob(ctx.database.db, { projectId }, running)).toBe(true);
    await waitFor('the running job to see its cancellation', async () => reasons.length > 0);
    expect((reasons[0] as JobInterrupted).why).toBe('cancelled');
    await sleep(50);
    const cancelled = await row(running);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.finished_at).not.toBeNull();
    expect(ran).toEqual([running]);
    expect(await cancelJob(ctx.database, { projectId }, running)).toBe(false);
  });

  it('deletes what a job made when it finishes after being cancelled', async () => {
    const release = gate();
    const started = gate();
    const expired: unknown[] = [];
    const kind = defineJobKind<null, { blob: string }>({
      kind: kindName('late'),
      async run() {
        started.open();
        await release.promise;
        return { blob: 'made-anyway' };
      },
      expire: async (_ctx, result) => void expired.push(result),
    });
    const id = await enqueueJob(ctx.database, kind, { payload: null });
    start([kind]);
    await started.promise;
    expect(await cancelJob(ctx.database, { projectId: null }, id)).toBe(true);
    release.open();
    await waitFor('the result to be discarded', async () => expired.length > 0);
    expect(expired).toEqual([{ blob: 'made-anyway' }]);
    expect(await row(id)).toMatchObject({ state: 'cancelled', result_json: null });
  });

  it('expires a result after expires_at through its kind, once, retrying an expire that failed', async () => {
    const expired: unknown[] = [];
    let refuse = true;
    const kind = defineJobKind<{ name: string }, { blob: string }>({
      kind: kindName('expiring'),
      run: async (_ctx, job) => ({ blob: job.payload.name }),
      async expire(_ctx, result) {
        if (refuse) {
          refuse = false;
          throw new Error('blob store busy');
        }
        expired.push(result);
      },
    });
    const expiresAt = new Date(Date.now() + 1500);
    const id = await enqueueJob(ctx.database, kind, { payload: { name: 'b1' }, expiresAt });
    const kept = await enqueueJob(ctx.database, kind, { payload: { name: 'b2' } });
    start([kind]);
    const done = await settledRow(id);
    expect(presentJob(done)).toMatchObject({ state: 'succeeded', expiresAt: expiresAt.toISOString(), expired: false, result: { blob: 'b1' } });
    await waitFor('the result to expire', async () => (await row(id)).result_json === null);
    expect(refuse).toBe(false);
    expect(expired).toEqual([{ blob: 'b1' }]);
    expect(presentJob(await row(id))).toMatchObject({ state: 'succeeded', expired: true, result: null });
    await sleep(100);
    expect(expired).toHaveLength(1);
    expect((await settledRow(kept)).result_json).toBe('{"blob":"b2"}');
  });

  it('finds and lists jobs only in their scope', async () => {
    const kind = defineJobKind<null, null>({ kind: kindName('scoped'), run: async () => null });
    const mine = await enqueueJob(ctx.database, kind, { payload: null, projectId });
    const theirs = await enqueueJob(ctx.database, kind, { payload: null, projectId: otherProjectId });
    const instance = await enqueueJob(ctx.database, kind, { payload: null });
    expect((await findJob(ctx.database, { projectId }, mine))?.id).toBe(mine);
    expect(await findJob(ctx.database, { projectId }, theirs)).toBeUndefined();
    expect(await findJob(ctx.database, { projectId }, instance)).toBeUndefined();
    expect(await findJob(ctx.database, { projectId: null }, mine)).toBeUndefined();
    expect((await findJob(ctx.database, { projectId: null, kind: kind.kind }, instance))?.id).toBe(instance);
    expect(await findJob(ctx.database, { projectId: null, kind: 'backup' }, instance)).toBeUndefined();
    const second = await enqueueJob(ctx.database, kind, { payload: null, projectId });
    const page = await listJobs(ctx.database, { projectId, kind: kind.kind }, { limit: 1 });
    expect(page.map((j) => j.id)).toEqual([second]);
    expect((await listJobs(ctx.database, { projectId, kind: kind.kind }, { limit: 10, beforeId: second })).map((j) => j.id)).toEqual([mine]);
  });

  it('turns each due time of a schedule into exactly one job, with two runners polling', async () => {
    const ran: unknown[] = [];
    const kind = defineJobKind<{ what: string }, null>({ kind: kindName('nightly'), run: async (_ctx, job) => (ran.push(job.payload), null) });
    const name = kindName('schedule');
    await expect(ensureSchedule(ctx.database, name, '0 3 * * * *', kind, { what: 'x' })).rejects.toMatchObject({ code: 'job.cron_invalid' });
    const created = new Date('2026-05-01T10:20:00.000Z');
    await ensureSchedule(ctx.database, name, '30 2 * * *', kind, { what: 'backup' }, created);
    expect(await findSchedule(ctx.database, name)).toEqual({ name, cron: '30 2 * * *', kind: kind.kind, nextRunAt: '2026-05-02T02:30:00.000Z', lastRunAt: null, lastJobId: null });
    // The same expression keeps its next run; a new one recomputes it.
    await ensureSchedule(ctx.database, name, '30 2 * * *', kind, { what: 'backup' }, new Date('2026-06-01T00:00:00.000Z'));
    expect((await findSchedule(ctx.database, name))?.nextRunAt).toBe('2026-05-02T02:30:00.000Z');
    await ensureSchedule(ctx.database, name, '0 4 * * *', kind, { what: 'backup' }, created);
    expect((await findSchedule(ctx.database, name))?.nextRunAt).toBe('2026-05-02T04:00:00.000Z');

    // Not due until the test says so (its computed next run lies in the past).
    await ctx.database.db.updateTable('job_schedule').set({ next_run_at: '2999-01-01T00:00:00.000Z' }).where('name', '=', name).execute();
    start([kind], { pollMs: 5 });
    start([kind], { pollMs: 5 }, other);
    await sleep(50);
    expect(await ctx.database.db.selectFrom('job').select('id').where('kind', '=', kind.kind).execute()).toEqual([]);
    const jobIds: number[] = [];
    for (let due = 0; due < 5; due++) {
      // Make the schedule due now (as if its time had come), and wait for it to move on.
      await ctx.database.db.updateTable('job_schedule').set({ next_run_at: new Date(Date.now() - 1000).toISOString() }).where('name', '=', name).execute();
      const view = await waitFor('the schedule to run', async () => {
        const s = await findSchedule(ctx.database, name);
        return s && s.nextRunAt > new Date().toISOString() ? s : undefined;
      });
      expect(view.lastRunAt).not.toBeNull();
      jobIds.push(view.lastJobId!);
      await sleep(60);
    }
    const jobs = await ctx.database.db.selectFrom('job').selectAll().where('kind', '=', kind.kind).orderBy('id').execute();
    expect(jobs.map((j) => j.id)).toEqual(jobIds);
    for (const job of jobs) expect(job).toMatchObject({ project_id: null, actor_kind: null, payload_json: '{"what":"backup"}' });
    await waitFor('the scheduled jobs to run', async () => ran.length === 5);
    expect(new Date((await findSchedule(ctx.database, name))!.nextRunAt).getUTCHours()).toBe(4);
    expect(await removeSchedule(ctx.database, name)).toBe(true);
    expect(await findSchedule(ctx.database, name)).toBeUndefined();
    expect(await removeSchedule(ctx.database, name)).toBe(false);
  });

  it('stop() aborts running jobs, queues them again without counting the attempt, and claims nothing more', async () => {
    const started = gate();
    const reasons: unknown[] = [];
    let calls = 0;
    const kind = defineJobKind<null, string>({
      kind: kindName('interrupted'),
      async run(_ctx, job) {
        calls += 1;
        if (calls > 1) return 'finished later';
        await job.progress(5, 9);
        started.open();
        reasons.push(await aborted(job.signal));
        await job.progress(6);
        return 'unreachable';
      },
    });
    const id = await enqueueJob(ctx.database, kind, { payload: null });
    const runner = startJobRunner(ctx, [kind], silent, { pollMs: 20, progressIntervalMs: 0 });
    await started.promise;
    await Promise.all([runner.stop(), runner.stop()]);
    expect((reasons[0] as JobInterrupted).why).toBe('shutdown');
    expect(await row(id)).toMatchObject({ state: 'queued', attempts: 0, claimed_by: null, progress_done: 5, progress_total: 9 });
    const after = await enqueueJob(ctx.database, kind, { payload: null });
    await sleep(100);
    expect((await row(after)).state).toBe('queued');

    start([kind]);
    expect(await settledRow(id)).toMatchObject({ state: 'succeeded', attempts: 1, result_json: '"finished later"' });
    await settledRow(after);
  });

  it('stop() gives up on a job that ignores its signal after the stop timeout', async () => {
    const started = gate();
    const never = gate();
    const stubborn = defineJobKind<null, null>({
      kind: kindName('stubborn'),
      async run() {
        started.open();
        await never.promise;
        return null;
      },
    });
    const id = await enqueueJob(ctx.database, stubborn, { payload: null });
    const runner = startJobRunner(ctx, [stubborn], silent, { pollMs: 20, stopTimeoutMs: 150 });
    await started.promise;
    const began = Date.now();
    await runner.stop();
    expect(Date.now() - began).toBeGreaterThanOrEqual(140);
    expect((await row(id)).state).toBe('running');
    // Left as it was: another runner will take it back once it is stale.
    await ctx.database.db.updateTable('job').set({ heartbeat_at: new Date(Date.now() - 60_000).toISOString() }).where('id', '=', id).execute();
    start([{ ...stubborn, run: async () => null }], { staleMs: 1000 });
    expect(await settledRow(id)).toMatchObject({ state: 'failed', error_code: 'job.abandoned' });
    never.open();
  });

  it('refuses a kind listed twice', () => {
    const kind = defineJobKind<null, null>({ kind: kindName('twice'), run: async () => null });
    expect(() => startJobRunner(ctx, [kind, kind], silent)).toThrow(/listed twice/);
  });
});
