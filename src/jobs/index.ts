export { defineJobKind, type JobContext, type JobKind } from './kind.js';
export { enqueueJob, findJob, listJobs, cancelJob, ensureSchedule, removeSchedule, findSchedule, type JobDatabase, type JobRequest, type ScheduleView } from './service.js';
export { startJobRunner, JobInterrupted, type JobRunner, type JobRunnerOptions } from './runner.js';
export { parseCron, nextCronRun, type CronSchedule } from './cron.js';
export { presentJob, JobSchema, type PresentedJob } from './presenters.js';
export type { JobRow, JobScope, JobState } from './queries.js';
