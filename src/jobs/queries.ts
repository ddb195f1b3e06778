import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Executor } from '../audit/index.js';
import type { Database } from '../db/database.js';
import type { JobScheduleTable, JobTable } from '../db/tables.js';

/** The only place SQL about jobs and schedules lives. */

export type JobRow = Selectable<JobTable>;
export type JobScheduleRow = Selectable<JobScheduleTable>;
export type JobState = JobTable['state'];

/** Which jobs a caller may see: a project's, or (null) the instance's own such as backups. */
export interface JobScope {
  projectId: number | null;
  /** Narrows to one kind, so an export route never answers for a backup. */
  kind?: string;
}

export async function insertJob(db: Executor, row: Insertable<JobTable>): Promise<number> {
  const { id } = await db.insertInto('job').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

function scoped(db: Executor, scope: JobScope) {
  let query = db.selectFrom('job').selectAll().where('project_id', scope.projectId === null ? 'is' : '=', scope.projectId);
  if (scope.kind !== undefined) query = query.where('kind', '=', scope.kind);
  return query;
}

export async function findScopedJob(db: Executor, scope: JobScope, id: number): Promise<JobRow | undefined> {
  return scoped(db, scope).where('id', '=', id).executeTakeFirst();
}

/** Newest first; `beforeId` continues a page. */
export async function listScopedJobs(db: Executor, scope: JobScope, limit: number, beforeId?: number): Promise<JobRow[]> {
  let query = scoped(db, scope);
  if (beforeId !== undefined) query = query.where('id', '<', beforeId);
  return query.orderBy('id', 'desc').limit(limit).execute();
}

/** Cancels a queued or running job in scope; false when there is none or it has finished. */
export async function cancelScopedJob(db: Executor, scope: JobScope, id: number, now: string): Promise<boolean> {
  let query = db
    .updateTable('job')
    .set({ state: 'cancelled', finished_at: now })
    .where('id', '=', id)
    .where('state', 'in', ['queued', 'running'])
    .where('project_id', scope.projectId === null ? 'is' : '=', scope.projectId);
  if (scope.kind !== undefined) query = query.where('kind', '=', scope.kind);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface Claim {
  claimedBy: string;
  now: string;
}

/** The oldest queued job of these kinds that is due at `now`, as a one-row id query. */
function nextDueJob(db: Executor, kinds: readonly string[], now: string) {
  return db.selectFrom('job').select('id').where('state', '=', 'queued').where('run_after', '<=', now).where('kind', 'in', kinds).orderBy('run_after').orderBy('id').limit(1);
}

/**
 * Takes the oldest due queued job of the given kinds for one runner, or none. PostgreSQL locks the
 * row and skips rows other runners hold (no waiting, no double claim); SQLite has one writer at a
 * time, so one UPDATE that re-checks the state is atomic on its own.
 */
export async function claimNextJob(database: Database, kinds: readonly string[], claim: Claim): Promise<JobRow | undefined> {
  const claimed = {
    state: 'running',
    claimed_by: claim.claimedBy,
    started_at: claim.now,
    heartbeat_at: claim.now,
    finished_at: null,
  } as const;
  if (database.dialect === 'postgres') {
    return database.db.transaction().execute(async (trx) => {
      const next = await nextDueJob(trx, kinds, claim.now).forUpdate().skipLocked().executeTakeFirst();
      if (next === undefined) return undefined;
      return trx
        .updateTable('job')
        .set((eb) => ({ ...claimed, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', next.id)
        .returningAll()
        .executeTakeFirst();
    });
  }
  return database.db
    .updateTable('job')
    .set((eb) => ({ ...claimed, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', nextDueJob(database.db, kinds, claim.now))
    .where('state', '=', 'queued')
    .returningAll()
    .executeTakeFirst();
}

/**
 * Writes to a job this runner holds; false when it no longer holds it (cancelled, or taken back
 * as stale), which is how a runner learns to stop.
 */
export async function updateClaimedJob(db: Executor, id: number, claimedBy: string, patch: Updateable<JobTable>): Promise<boolean> {
  const result = await db
    .updateTable('job')
    .set(patch)
    .where('id', '=', id)
    .where('claimed_by', '=', claimedBy)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function jobState(db: Executor, id: number): Promise<JobState | undefined> {
  const row = await db.selectFrom('job').select('state').where('id', '=', id).executeTakeFirst();
  return row?.state;
}

/** Running jobs of the given kinds whose runner has not reported since `before`. */
export async function staleJobs(db: Executor, kinds: readonly string[], before: string, limit: number): Promise<JobRow[]> {
  return db
    .selectFrom('job')
    .selectAll()
    .where('state', '=', 'running')
    .where('heartbeat_at', '<', before)
    .where('kind', 'in', kinds)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Takes back a stale job unless its runner reported (or another runner took it back) meanwhile. */
export async function takeBackStaleJob(db: Executor, stale: JobRow, patch: Updateable<JobTable>): Promise<boolean> {
  const result = await db
    .updateTable('job')
    .set(patch)
    .where('id', '=', stale.id)
    .where('state', '=', 'running')
    .where('claimed_by', '=', stale.claimed_by)
    .where('heartbeat_at', '=', stale.heartbeat_at)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Succeeded jobs of the given kinds whose result has passed `expires_at` and is still there. */
export async function expiredResults(db: Executor, kinds: readonly string[], now: string, limit: number) {
  return db
    .selectFrom('job')
    .select(['id', 'kind', 'result_json'])
    .where('expires_at', '<=', now)
    .where('state', '=', 'succeeded')
    .where('result_json', 'is not', null)
    .where('kind', 'in', kinds)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

export async function clearResult(db: Executor, id: number): Promise<void> {
  await db.updateTable('job').set({ result_json: null }).where('id', '=', id).execute();
}

export async function findSchedule(db: Executor, name: string): Promise<JobScheduleRow | undefined> {
  return db.selectFrom('job_schedule').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertSchedule(db: Executor, row: Insertable<JobScheduleTable>): Promise<void> {
  await db.insertInto('job_schedule').values(row).onConflict((oc) => oc.column('name').doNothing()).execute();
}

export async function updateSchedule(db: Executor, name: string, patch: Updateable<JobScheduleTable>): Promise<void> {
  await db.updateTable('job_schedule').set(patch).where('name', '=', name).execute();
}

export async function deleteSchedule(db: Executor, name: string): Promise<boolean> {
  const result = await db.deleteFrom('job_schedule').where('name', '=', name).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function dueSchedules(db: Executor, kinds: readonly string[], now: string): Promise<JobScheduleRow[]> {
  return db.selectFrom('job_schedule').selectAll().where('next_run_at', '<=', now).where('kind', 'in', kinds).orderBy('next_run_at').execute();
}

/**
 * Moves a schedule from the due time it was read with to its next one; false when another runner
 * already did, so only one runner turns each due time into a job.
 */
export async function advanceSchedule(db: Executor, due: JobScheduleRow, nextRunAt: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('job_schedule')
    .set({ next_run_at: nextRunAt, last_run_at: now })
    .where('name', '=', due.name)
    .where('next_run_at', '=', due.next_run_at)
    .where('cron', '=', due.cron)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
