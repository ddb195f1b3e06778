import type { AppContext } from '../server/context.js';

/** What a running job sees of itself. */
export interface JobContext<P> {
  readonly id: number;
  readonly payload: P;
  /**
   * Aborted when the job is cancelled, when the server stops (the job is queued again, its attempt
   * not counted), or when the runner lost the job to stale recovery. Pass it to streams and loops.
   */
  readonly signal: AbortSignal;
  /**
   * Records progress (`total` null when unknown; left as it was when omitted). Writes are throttled,
   * so call it as often as is convenient; each write is also a heartbeat. Rejects with the signal's
   * reason once the job has been aborted, so a loop that reports progress stops there.
   */
  progress(done: number, total?: number | null): Promise<void>;
}

/** One kind of background job, listed in src/jobs/kinds.ts. */
export interface JobKind<P, R> {
  /** Stored in `job.kind`; stable once released, e.g. `export`, `backup`. */
  readonly kind: string;
  /** Attempts before the job fails for good; a failed attempt is retried later. Default 1. */
  readonly maxAttempts?: number;
  /** Does the work; what it resolves to is stored as the job's result (JSON). Throw AppError for a failure users may read. */
  run(ctx: AppContext, job: JobContext<P>): Promise<R>;
  /**
   * Deletes what the job produced once `expires_at` has passed (or when a job is cancelled while it
   * finishes). May be called twice for one result (two runners, or a crash mid-way), so it must
   * tolerate what it deletes being gone already.
   */
  expire?(ctx: AppContext, result: R): Promise<void>;
}

export function defineJobKind<P, R>(kind: JobKind<P, R>): JobKind<P, R> {
  if (!/^[a-z][a-z0-9_.-]*$/.test(kind.kind)) throw new Error(`job kind ${JSON.stringify(kind.kind)}: use lower-case letters, digits, _ . -`);
  if (kind.maxAttempts !== undefined && (!Number.isInteger(kind.maxAttempts) || kind.maxAttempts < 1)) {
    throw new Error(`job kind ${kind.kind}: maxAttempts must be a whole number of at least 1`);
  }
  return kind;
}

export function maxAttemptsOf(kind: JobKind<unknown, unknown> | undefined): number {
  return kind?.maxAttempts ?? 1;
}
