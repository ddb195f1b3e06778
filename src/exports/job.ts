/*
 * Export jobs, for the UI: queued, run by the job runner with progress, the file kept in the blob
 * store (encrypted at rest like every blob) until FIELDKEEP_EXPORT_RETENTION_HOURS after the job,
 * and only ever handed to the person who asked for it, since it holds the rows their row filter
 * let them see. The job re-checks the person's access when it runs: someone whose role was
 * removed in between gets nothing.
 */
import { PassThrough } from 'node:stream';
import { Type, type Static } from 'typebox';
import { decide, loadProjectAccess, type Actor } from '../access/index.js';
import { recordAudit } from '../audit/index.js';
import { defineJobKind, enqueueJob, findJob, presentJob, type JobRow } from '../jobs/index.js';
import { AppError } from '../server/errors.js';
import type { DataScope } from '../submissions/index.js';
import { ExportFormatSchema, ExportOptionsSchema, type ExportFormat, type ExportOptionsInput } from './options.js';
import * as q from './queries.js';
import { planExport, prepareExport } from './service.js';

export const JOB_KIND = 'export';

export interface ExportJobPayload {
  projectId: number;
  xmlFormId: string;
  format: ExportFormat;
  options: ExportOptionsInput;
  actor: Actor;
}

export interface ExportJobResult {
  blobId: string;
  size: number;
  fileName: string;
  contentType: string;
  note: string | null;
  submissions: number;
}

export const ExportJobBody = Type.Object({ format: ExportFormatSchema, options: Type.Optional(ExportOptionsSchema) }, { additionalProperties: false });
export type ExportJobBody = Static<typeof ExportJobBody>;

export const exportJob = defineJobKind<ExportJobPayload, ExportJobResult>({
  kind: JOB_KIND,
  async run(ctx, job) {
    const { projectId, xmlFormId, format, options, actor } = job.payload;
    const access = await loadProjectAccess(ctx.database.db, actor, projectId);
    if (!access || !decide(actor, 'export.create', access).allowed) throw new AppError('access.denied', 'The person who asked for this export may no longer export this project.');
    const scope: DataScope = { ctx, access, source: { actor } };
    const prepared = await prepareExport(scope, xmlFormId, format, options, 'job');
    const total = await prepared.count();
    await job.progress(0, total);
    const out = new PassThrough();
    const stored = ctx.blobs.put(out);
    // Settled below either way; this keeps a failure of the export from leaving it unhandled meanwhile.
    stored.catch(() => {});
    await prepared.write(out, (done) => job.progress(done, total));
    const blob = await stored;
    return { blobId: blob.id, size: blob.size, fileName: prepared.fileName, contentType: prepared.contentType, note: prepared.note, submissions: total };
  },
  async expire(ctx, result) {
    // Blobs are addressed by content: an identical export of another job may share this one.
    await ctx.blobs.deleteUnlessInUse(result.blobId, { inUse: () => q.blobOfLiveExportJob(ctx.database.db, JOB_KIND, result.blobId), graceMs: 0 });
  },
});

export async function queueExportJob(scope: DataScope, xmlFormId: string, body: ExportJobBody): Promise<JobRow> {
  const options = body.options ?? {};
  // Options are checked now, so a mistake is answered at once rather than as a failed job later.
  await planExport(scope, xmlFormId, body.format, options);
  const { ctx, access, source } = scope;
  const actor = source.actor;
  if (actor?.kind !== 'user') throw new AppError('access.denied', 'Export jobs are for people; use a direct download.');
  const expiresAt = new Date(Date.now() + ctx.config.exports.retentionHours * 3_600_000);
  const id = await ctx.database.db.transaction().execute(async (trx) => {
    const queued = await enqueueJob(trx, exportJob, { payload: { projectId: access.projectId, xmlFormId, format: body.format, options, actor }, projectId: access.projectId, actor, expiresAt });
    await recordAudit(trx, { ...source, action: 'export.job_create', projectId: access.projectId, resource: { type: 'job', id: queued }, details: { formId: xmlFormId, format: body.format } });
    return queued;
  });
  return (await findJob(ctx.database.db, { projectId: access.projectId, kind: JOB_KIND }, id))!;
}

/** An export job of the caller's: another person's export may hold rows the caller may not see. */
export async function ownExportJob(scope: DataScope, id: number): Promise<JobRow> {
  const job = await findJob(scope.ctx.database.db, { projectId: scope.access.projectId, kind: JOB_KIND }, id);
  const actor = scope.source.actor;
  if (!job || actor?.kind !== 'user' || job.actor_kind !== 'user' || job.actor_id !== actor.userId) throw new AppError('export.job_not_found');
  return job;
}

export function presentExportJob(job: JobRow, fileUrl: string) {
  return presentJob<ExportJobResult>(job, (result) => ({ fileName: result.fileName, contentType: result.contentType, size: result.size, submissions: result.submissions, note: result.note, url: fileUrl }));
}

/** The finished file of an export job of the caller's. */
export async function exportJobFile(scope: DataScope, id: number): Promise<ExportJobResult> {
  const job = await ownExportJob(scope, id);
  if (job.state !== 'succeeded' || job.result_json === null) throw new AppError('export.not_ready');
  return JSON.parse(job.result_json) as ExportJobResult;
}
