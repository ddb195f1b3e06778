/*
 * The job runner: one per server process. Every poll it takes back stale jobs, turns due cron
 * schedules into jobs, expires old results, and claims queued jobs up to its concurrency. A
 * running job's row is its runner's claim: the runner beats `heartbeat_at` while it works and
 * every write is conditional on still holding the claim, so a job that was cancelled or taken
 * back is noticed at the next write and its signal aborted. Any number of runners (processes)
 * may share a database.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { isoNow } from '../db/columns.js';
import type { AppContext } from '../server/context.js';
import { AppError, errorCatalogue } from '../server/errors.js';
import { nextCronRun, parseCron } from './cron.js';
import { maxAttemptsOf, type JobContext, type JobKind } from './kind.js';
import * as q from './queries.js';
import type { JobRow, JobScheduleRow } from './queries.js';

export interface JobRunnerOptions {
  /** How often an idle runner looks for work; FIELDKEEP_JOB_POLL_MS by default. */
  pollMs?: number;
  /** Jobs run at once; FIELDKEEP_JOB_CONCURRENCY by default. */
  concurrency?: number;
  /** A running job not heard of for this long is taken back; FIELDKEEP_JOB_STALE_SECONDS by default. Heartbeats come at least 4 times as often. */
  staleMs?: number;
  /** Least time between two progress writes of one job. */
  progressIntervalMs?: number;
  /** Wait before the first retry of a failed attempt; doubles with each further attempt. */
  retryDelayMs?: number;
  /** How long `stop()` waits for aborted jobs to return before it gives up on them; half of FIELDKEEP_SHUTDOWN_TIMEOUT_MS by default, so the database still closes before a forced exit. */
  stopTimeoutMs?: number;
}

export interface JobRunner {
  /** Stops claiming, aborts running jobs (they are queued again) and waits for them to return. */
  stop(): Promise<void>;
}

/** Why a job's signal was aborted. */
export class JobInterrupted extends Error {
  constructor(readonly why: 'cancelled' | 'shutdown' | 'lost') {
    super(
      why === 'cancelled' ? 'the job was cancelled' : why === 'shutdown' ? 'the server is stopping' : 'the job was taken back from this runner',
    );
    this.name = 'AbortError';
  }
}

const DEFAULT_PROGRESS_INTERVAL_MS = 1000;
const DEFAULT_RETRY_DELAY_MS = 30_000;
const MAX_RETRY_DELAY_MS = 3_600_000;
const MAX_HEARTBEAT_MS = 5000;
/** Rows handled per kind of sweep per poll, so one poll stays short. */
const SWEEP_BATCH = 50;
const MAX_ERROR_MESSAGE = 2000;

interface ActiveJob {
  readonly row: JobRow;
  readonly controller: AbortController;
  readonly heartbeat: NodeJS.Timeout;
  done: number;
  total: number | null;
  lastWriteAt: number;
  writing: Promise<void> | undefined;
  settled: Promise<void>;
}

export function startJobRunner(
  ctx: AppContext,
  kinds: readonly JobKind<any, any>[],
  logger: Logger,
  options: JobRunnerOptions = {},
): JobRunner {
  const byName = new Map<string, JobKind<unknown, unknown>>();
  for (const kind of kinds) {
    if (byName.has(kind.kind)) throw new Error(`job kind ${kind.kind} is listed twice`);
    byName.set(kind.kind, kind);
  }
  const names = [...byName.keys()];
  const settings = {
    pollMs: options.pollMs ?? ctx.config.jobs.pollMs,
    concurrency: options.concurrency ?? ctx.config.jobs.concurrency,
    staleMs: options.staleMs ?? ctx.config.jobs.staleMs,
    progressIntervalMs: options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    stopTimeoutMs: options.stopTimeoutMs ?? Math.floor(ctx.config.shutdownTimeoutMs / 2),
  };
  // Frequent enough that a cancelled job notices within seconds even when it reports no progress.
  const heartbeatMs = Math.max(1, Math.min(Math.floor(settings.staleMs / 4), MAX_HEARTBEAT_MS));
  const runnerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const log = logger.child({ jobRunner: runnerId });
  const db = ctx.database.db;
  const active = new Map<number, ActiveJob>();
  let claims = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let again = false;
  let maintainedAt = 0;

  /**
   * A poll: maintenance (stale jobs, schedules, expiry) once per poll interval, then claims. Also run
   * at once when a job ends, to start the next one; maintenance keeps its own pace then.
   */
  const tick = async () => {
    try {
      if (Date.now() - maintainedAt >= settings.pollMs) {
        maintainedAt = Date.now();
        await recoverStale();
        await runDueSchedules();
        await expireResults();
      }
      await claimJobs();
    } catch (err) {
      log.error({ err }, 'job runner poll failed; retrying at the next poll');
    }
  };

  const schedule = (delay: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      ticking = tick().finally(() => {
        ticking = undefined;
        schedule(again ? 0 : settings.pollMs);
        again = false;
      });
    }, delay);
  };

  /** Looks for the next job now (a slot freed) rather than at the next poll. */
  const wake = () => {
    if (ticking) again = true;
    else schedule(0);
  };

  async function claimJobs(): Promise<void> {
    while (!stopped && active.size < settings.concurrency && names.length > 0) {
      claims += 1;
      const row = await q.claimNextJob(ctx.database, names, { claimedBy: `${runnerId}/${claims}`, now: isoNow() });
      if (row === undefined) return;
      begin(row);
    }
  }

  function begin(row: JobRow): void {
    const kind = byName.get(row.kind)!;
    const jobLog = log.child({ job: row.id, kind: row.kind, attempt: row.attempts });
    const controller = new AbortController();
    const job: ActiveJob = {
      row,
      controller,
      heartbeat: setInterval(() => void write(job).catch((err: unknown) => jobLog.warn({ err }, 'job heartbeat failed')), heartbeatMs),
      done: row.progress_done,
      total: row.progress_total,
      lastWriteAt: Date.now(),
      writing: undefined,
      settled: Promise.resolve(),
    };
    active.set(row.id, job);
    jobLog.info('job started');
    job.settled = (async () => {
      try {
        const result = await kind.run(ctx, jobContext(job, JSON.parse(row.payload_json) as unknown));
        await succeed(job, kind, result, jobLog);
      } catch (err) {
        await fail(job, kind, err, jobLog);
      }
    })()
      .catch((err: unknown) => jobLog.error({ err }, 'could not record the outcome of a job; it will be taken back as stale'))
      .finally(() => {
        clearInterval(job.heartbeat);
        active.delete(row.id);
        wake();
      });
  }

  function jobContext(job: ActiveJob, payload: unknown): JobContext<unknown> {
    const { signal } = job.controller;
    return {
      id: job.row.id,
      payload,
      signal,
      progress: async (done, total) => {
        signal.throwIfAborted();
        if (!Number.isFinite(done) || done < 0 || (total != null && (!Number.isFinite(total) || total < 0))) {
          throw new RangeError(`job progress must be non-negative numbers, not ${done}/${total}`);
        }
        job.done = Math.floor(done);
        if (total !== undefined) job.total = total === null ? null : Math.floor(total);
        if (Date.now() - job.lastWriteAt >= settings.progressIntervalMs) await write(job);
        signal.throwIfAborted();
      },
    };
  }

  /** A heartbeat with the latest progress; aborts the job when its claim is gone. One write at a time per job. */
  async function write(job: ActiveJob): Promise<void> {
    if (job.writing) return job.writing;
    job.lastWriteAt = Date.now();
    job.writing = (async () => {
      const held = await q.updateClaimedJob(db, job.row.id, job.row.claimed_by!, {
        heartbeat_at: isoNow(),
        progress_done: job.done,
        progress_total: job.total,
      });
      if (!held && !job.controller.signal.aborted) {
        const state = await q.jobState(db, job.row.id);
        job.controller.abort(new JobInterrupted(state === 'cancelled' ? 'cancelled' : 'lost'));
      }
    })().finally(() => {
      job.writing = undefined;
    });
    return job.writing;
  }

  /** Ends the heartbeats, so none races the final write. */
  async function quiesce(job: ActiveJob): Promise<void> {
    clearInterval(job.heartbeat);
    await job.writing;
  }

  async function succeed(job: ActiveJob, kind: JobKind<unknown, unknown>, result: unknown, jobLog: Logger): Promise<void> {
    await quiesce(job);
    const now = isoNow();
    const recorded = await q.updateClaimedJob(db, job.row.id, job.row.claimed_by!, {
      state: 'succeeded',
      result_json: JSON.stringify(result ?? null),
      progress_done: job.done,
      progress_total: job.total,
      error_code: null,
      error_message: null,
      heartbeat_at: now,
      finished_at: now,
    });
    if (recorded) {
      jobLog.info('job succeeded');
      return;
    }
    // Cancelled (or taken back) while finishing: nobody will fetch what it made.
    jobLog.info('job finished after it was cancelled or taken back; discarding its result');
    if (kind.expire) await kind.expire(ctx, result);
  }

  async function fail(job: ActiveJob, kind: JobKind<unknown, unknown>, err: unknown, jobLog: Logger): Promise<void> {
    await quiesce(job);
    const reason: unknown = job.controller.signal.aborted ? job.controller.signal.reason : undefined;
    const claimedBy = job.row.claimed_by!;
    const now = isoNow();
    if (reason instanceof JobInterrupted && reason.why !== 'shutdown') {
      jobLog.info({ why: reason.why }, 'job stopped');
      return;
    }
    if (reason instanceof JobInterrupted) {
      // Not the job's fault: it runs again, the interrupted attempt not counted.
      await q.updateClaimedJob(db, job.row.id, claimedBy, {
        state: 'queued',
        attempts: job.row.attempts - 1,
        claimed_by: null,
        heartbeat_at: null,
        run_after: now,
        progress_done: job.done,
        progress_total: job.total,
      });
      jobLog.info('job interrupted by shutdown; queued again');
      return;
    }
    const { code, message } = failureOf(err);
    const retry = job.row.attempts < maxAttemptsOf(kind);
    jobLog.error({ err, code, retry }, 'job failed');
    const delay = Math.min(settings.retryDelayMs * 2 ** (job.row.attempts - 1), MAX_RETRY_DELAY_MS);
    await q.updateClaimedJob(
      db,
      job.row.id,
      claimedBy,
      retry
        ? { state: 'queued', claimed_by: null, heartbeat_at: null, run_after: new Date(Date.now() + delay).toISOString(), error_code: code, error_message: message }
        : { state: 'failed', finished_at: now, heartbeat_at: now, error_code: code, error_message: message, progress_done: job.done, progress_total: job.total },
    );
  }

  async function recoverStale(): Promise<void> {
    if (names.length === 0) return;
    const now = new Date();
    const stale = await q.staleJobs(db, names, new Date(now.getTime() - settings.staleMs).toISOString(), SWEEP_BATCH);
    for (const row of stale) {
      const retry = row.attempts < maxAttemptsOf(byName.get(row.kind));
      const abandoned = { error_code: 'job.abandoned', error_message: errorCatalogue['job.abandoned'].title };
      const taken = await q.takeBackStaleJob(
        db,
        row,
        retry
          ? { ...abandoned, state: 'queued', claimed_by: null, heartbeat_at: null, run_after: now.toISOString() }
          : { ...abandoned, state: 'failed', finished_at: now.toISOString() },
      );
      if (taken) log.warn({ job: row.id, kind: row.kind, claimedBy: row.claimed_by, lastHeartbeat: row.heartbeat_at, retry }, 'took back a stale job');
    }
  }

  async function runDueSchedules(): Promise<void> {
    if (names.length === 0) return;
    const now = new Date();
    for (const due of await q.dueSchedules(db, names, now.toISOString())) {
      try {
        await runSchedule(due, now);
      } catch (err) {
        log.error({ err, schedule: due.name }, 'could not run a due schedule');
      }
    }
  }

  /** Each due time becomes one job: only the runner that moves `next_run_at` on queues it. Missed runs collapse into one. */
  async function runSchedule(due: JobScheduleRow, now: Date): Promise<void> {
    const next = nextCronRun(parseCron(due.cron), now).toISOString();
    const jobId = await db.transaction().execute(async (trx) => {
      if (!(await q.advanceSchedule(trx, due, next, now.toISOString()))) return undefined;
      const stamp = now.toISOString();
      const id = await q.insertJob(trx, {
        kind: due.kind,
        state: 'queued',
        project_id: null,
        actor_kind: null,
        actor_id: null,
        payload_json: due.payload_json,
        progress_done: 0,
        progress_total: null,
        attempts: 0,
        run_after: stamp,
        created_at: stamp,
        expires_at: null,
      });
      await q.updateSchedule(trx, due.name, { last_job_id: id });
      return id;
    });
    if (jobId !== undefined) log.info({ schedule: due.name, job: jobId, dueAt: due.next_run_at, nextRunAt: next }, 'scheduled job queued');
  }

  async function expireResults(): Promise<void> {
    if (names.length === 0) return;
    for (const row of await q.expiredResults(db, names, isoNow(), SWEEP_BATCH)) {
      const kind = byName.get(row.kind)!;
      try {
        if (kind.expire) await kind.expire(ctx, JSON.parse(row.result_json!) as unknown);
        await q.clearResult(db, row.id);
        log.info({ job: row.id, kind: row.kind }, 'job result expired');
      } catch (err) {
        log.error({ err, job: row.id, kind: row.kind }, 'could not expire a job result; retrying at the next poll');
      }
    }
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      stopped = true;
      clearTimeout(timer);
      await ticking;
      const running = [...active.values()];
      for (const job of running) job.controller.abort(new JobInterrupted('shutdown'));
      let timeout: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        Promise.all(running.map((job) => job.settled)).then(() => false),
        new Promise<boolean>((resolve) => {
          timeout = setTimeout(() => resolve(true), settings.stopTimeoutMs);
        }),
      ]);
      clearTimeout(timeout);
      if (gaveUp) {
        for (const job of active.values()) clearInterval(job.heartbeat);
        log.warn({ jobs: [...active.keys()] }, 'jobs did not stop in time; they will be taken back as stale');
      }
    })());

  // A server without job kinds has nothing to poll for.
  if (names.length > 0) schedule(0);
  return { stop };
}

/** What a failed job records: an AppError's code and message, or a generic code (details go to the log only). */
function failureOf(err: unknown): { code: string; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message.slice(0, MAX_ERROR_MESSAGE) };
  return { code: 'job.failed', message: errorCatalogue['job.failed'].title };
}
