/*
 * Queueing, finding and cancelling jobs, and cron schedules. Each function takes the database or a
 * transaction, so a job can be queued in the same transaction as the change that asks for it.
 */
import type { Actor } from '../access/actor.js';
import { actorIdOf } from '../access/actor.js';
import type { Executor } from '../audit/index.js';
import { isoNow } from '../db/columns.js';
import type { Database } from '../db/database.js';
import { nextCronRun, parseCron } from './cron.js';
import type { JobKind } from './kind.js';
import * as q from './queries.js';
import type { JobRow, JobScope } from './queries.js';

export type JobDatabase = Database | Executor;

function executorOf(db: JobDatabase): Executor {
  return 'inGroupCommit' in db ? db.db : db;
}

export interface JobRequest<P> {
  payload: P;
  projectId?: number | null;
  /** Who asked; none for scheduled and command-line jobs. */
  actor?: Actor | null;
  /** Not before this time; now by default. */
  runAfter?: Date;
  /** When what the job produces is deleted (its kind's `expire`); kept for ever when null. */
  expiresAt?: Date | null;
}

/** Queues a job and returns its id; a runner that knows the kind picks it up. */
export async function enqueueJob<P>(db: JobDatabase, kind: JobKind<P, unknown>, request: JobRequest<P>): Promise<number> {
  const now = isoNow();
  const actor = request.actor ?? null;
  return q.insertJob(executorOf(db), {
    kind: kind.kind,
    state: 'queued',
    project_id: request.projectId ?? null,
    actor_kind: actor === null || actor.kind === 'anonymous' ? null : actor.kind,
    actor_id: actor === null ? null : actorIdOf(actor),
    payload_json: JSON.stringify(request.payload ?? null),
    progress_done: 0,
    progress_total: null,
    attempts: 0,
    run_after: request.runAfter?.toISOString() ?? now,
    created_at: now,
    expires_at: request.expiresAt?.toISOString() ?? null,
  });
}

/** A job in the caller's scope (a project's, or the instance's when `projectId` is null), or undefined. */
export async function findJob(db: JobDatabase, scope: JobScope, id: number): Promise<JobRow | undefined> {
  return q.findScopedJob(executorOf(db), scope, id);
}

const MAX_LISTED = 500;

/** Jobs in the caller's scope, newest first; `beforeId` continues from the last one of a page. */
export async function listJobs(db: JobDatabase, scope: JobScope, page: { limit: number; beforeId?: number }): Promise<JobRow[]> {
  return q.listScopedJobs(executorOf(db), scope, Math.min(Math.max(1, page.limit), MAX_LISTED), page.beforeId);
}

/**
 * Cancels a queued or running job in the caller's scope: a queued job never starts, a running one
 * has its signal aborted at its runner's next heartbeat or progress write. False when there is no
 * such job or it has already finished.
 */
export async function cancelJob(db: JobDatabase, scope: JobScope, id: number): Promise<boolean> {
  return q.cancelScopedJob(executorOf(db), scope, id, isoNow());
}

/**
 * Makes sure a named cron schedule exists with this expression, kind and payload (for example at
 * start, from a setting). Its next run is kept while the expression is unchanged and recomputed
 * when it changes. Throws AppError `job.cron_invalid` for a bad expression.
 */
export async function ensureSchedule<P>(db: JobDatabase, name: string, cron: string, kind: JobKind<P, unknown>, payload: P, now = new Date()): Promise<void> {
  const executor = executorOf(db);
  const schedule = parseCron(cron);
  const payloadJson = JSON.stringify(payload ?? null);
  const existing = await q.findSchedule(executor, name);
  if (existing === undefined) {
    await q.insertSchedule(executor, {
      name,
      cron: schedule.source,
      kind: kind.kind,
      payload_json: payloadJson,
      next_run_at: nextCronRun(schedule, now).toISOString(),
    });
    return;
  }
  if (existing.cron === schedule.source && existing.kind === kind.kind && existing.payload_json === payloadJson) return;
  await q.updateSchedule(executor, name, {
    cron: schedule.source,
    kind: kind.kind,
    payload_json: payloadJson,
    ...(existing.cron === schedule.source ? {} : { next_run_at: nextCronRun(schedule, now).toISOString() }),
  });
}

/** Removes a schedule (for example when its setting is unset); jobs it made are kept. */
export async function removeSchedule(db: JobDatabase, name: string): Promise<boolean> {
  return q.deleteSchedule(executorOf(db), name);
}

export interface ScheduleView {
  name: string;
  cron: string;
  kind: string;
  nextRunAt: string;
  lastRunAt: string | null;
  lastJobId: number | null;
}

/** A schedule's next and last run, for admins and `fieldkeep doctor`. */
export async function findSchedule(db: JobDatabase, name: string): Promise<ScheduleView | undefined> {
  const row = await q.findSchedule(executorOf(db), name);
  if (row === undefined) return undefined;
  return { name: row.name, cron: row.cron, kind: row.kind, nextRunAt: row.next_run_at, lastRunAt: row.last_run_at, lastJobId: row.last_job_id };
}
