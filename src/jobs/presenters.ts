/*
 * What crosses the wire about a job, for the status routes of the domains that queue them
 * (exports, backups): allow-listed fields, never the row, and never the payload (it may name
 * filters or destinations the caller did not choose).
 */
import { Type, type Static } from 'typebox';
import type { JobRow } from './queries.js';

const Timestamp = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

/** The response schema of a presented job; a route may narrow `result` with its own schema. */
export const JobSchema = Type.Object({
  id: Type.Integer(),
  kind: Type.String(),
  state: Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('cancelled')]),
  progress: Type.Object({
    done: Type.Integer({ minimum: 0 }),
    total: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Null while the total is unknown.' }),
  }),
  attempts: Type.Integer({ minimum: 0 }),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Timestamp,
  finishedAt: Timestamp,
  expiresAt: Timestamp,
  expired: Type.Boolean({ description: 'What the job produced has been deleted after expiresAt.' }),
  result: Type.Unknown({ description: 'What the job produced (by kind); null until it succeeds and after it expires.' }),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()], {
    description: 'Why the job failed, or why its last attempt failed while it waits to be retried.',
  }),
});

export type PresentedJob = Static<typeof JobSchema>;

/**
 * A job as its status route shows it. `presentResult` turns the stored result into what callers may
 * see (for example a download URL instead of a blob id); by default it is shown as stored.
 */
export function presentJob<R>(row: JobRow, presentResult: (result: R) => unknown = (result) => result): PresentedJob {
  const result = row.result_json === null ? null : presentResult(JSON.parse(row.result_json) as R);
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    progress: { done: row.progress_done, total: row.progress_total },
    attempts: row.attempts,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    expiresAt: row.expires_at,
    expired: row.state === 'succeeded' && row.result_json === null && row.expires_at !== null,
    result,
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
  };
}
