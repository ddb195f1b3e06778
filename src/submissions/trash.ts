/*
 * The trash. Deleting a submission only marks it (`deleted_at`, `deleted_by_user_id`): every read
 * leaves it out (`notTrashed`), an OpenRosa re-send of its instanceID is refused, and it can be
 * restored until it is purged. The purge, run by `fieldkeep submissions purge-trash` or a job,
 * removes submissions trashed longer ago than FIELDKEEP_TRASH_RETENTION_DAYS with their versions,
 * attachment rows and comments, and then deletes each of their blobs that nothing else names:
 * blobs are addressed by content, so the same photo sent with two submissions (or used as a form's
 * media file) is one blob, and it stays while any row still names it.
 *
 * Blobs are deleted after the rows' transaction commits: a crash in between leaves unreferenced
 * blobs (space, never a loss). The blob store checks references again once the file is set aside,
 * and keeps files written within FIELDKEEP_BLOB_DELETE_GRACE_SECONDS, so a submission that brings
 * the same content while the purge runs keeps its file (src/blobs/fs-store.ts explains how).
 */
import { isoNow } from '../db/columns.js';
import type { Database } from '../db/database.js';
import type { BlobStore } from '../blobs/index.js';
import { recordAudit } from '../audit/index.js';
import { AppError } from '../server/errors.js';
import * as mq from './manage-queries.js';
import type { SubmissionScope } from './service.js';
import { auditRead, auditSubmission, bulkTargets, formTarget, notFound, userIdOf, visibleSubmission, type BulkTarget } from './targets.js';

const DAY_MS = 24 * 3_600_000;
/** Submissions purged per transaction, so a large purge never holds a long lock. */
const PURGE_BATCH = 200;
const TRASH_LISTED = 1000;

export interface TrashEntry {
  instanceId: string;
  deletedAt: string;
  deletedBy: string | null;
  /** When the purge may remove it. */
  purgeAfter: string;
}

export async function trashSubmission(scope: SubmissionScope, xmlFormId: string, instanceId: string): Promise<void> {
  const target = await formTarget(scope, xmlFormId);
  await scope.ctx.database.db.transaction().execute(async (trx) => {
    const submission = await visibleSubmission(trx, target, instanceId);
    await mq.moveToTrash(trx, [submission.id], userIdOf(scope), isoNow());
    await auditSubmission(trx, scope, target.form, 'submission.delete', submission, { retentionDays: scope.ctx.config.trashRetentionDays });
  });
}

export async function trashInBulk(scope: SubmissionScope, xmlFormId: string, request: BulkTarget): Promise<{ count: number }> {
  const target = await formTarget(scope, xmlFormId);
  return scope.ctx.database.db.transaction().execute(async (trx) => {
    const submissions = await bulkTargets(trx, target, request);
    await mq.moveToTrash(trx, submissions.map((s) => s.id), userIdOf(scope), isoNow());
    const how = request.where === undefined ? { bulk: 'instanceIds' } : { bulk: 'filter', where: request.where };
    for (const submission of submissions) {
      await auditSubmission(trx, scope, target.form, 'submission.delete', submission, { retentionDays: scope.ctx.config.trashRetentionDays, ...how });
    }
    return { count: submissions.length };
  });
}

/** Restores a trashed submission; possible until the purge has removed it. */
export async function restoreSubmission(scope: SubmissionScope, xmlFormId: string, instanceId: string): Promise<void> {
  const target = await formTarget(scope, xmlFormId);
  await scope.ctx.database.db.transaction().execute(async (trx) => {
    const trashed = await mq.findTrashed(trx, target.view, instanceId);
    if (!trashed) {
      if (await mq.findVisible(trx, target.view, instanceId)) throw new AppError('submission.not_trashed', `Submission ${JSON.stringify(instanceId)} is not in the trash.`);
      throw notFound(target.form, instanceId);
    }
    if (!(await mq.restoreFromTrash(trx, trashed.id, isoNow()))) throw notFound(target.form, instanceId);
    await auditSubmission(trx, scope, target.form, 'submission.restore', { id: trashed.id, instance_id: instanceId }, { deletedAt: trashed.deleted_at });
  });
}

export async function listTrash(scope: SubmissionScope, xmlFormId: string): Promise<TrashEntry[]> {
  const target = await formTarget(scope, xmlFormId);
  const rows = await mq.listTrashed(scope.ctx.database.db, target.view, TRASH_LISTED);
  await auditRead(scope, target.form, { type: 'form', id: target.form.xml_form_id });
  const retentionMs = scope.ctx.config.trashRetentionDays * DAY_MS;
  return rows.map((r) => ({
    instanceId: r.instance_id,
    deletedAt: r.deleted_at,
    deletedBy: r.deleted_by,
    purgeAfter: new Date(Date.parse(r.deleted_at) + retentionMs).toISOString(),
  }));
}

export interface PurgeContext {
  database: Database;
  blobs: BlobStore;
  retentionDays: number;
  blobDeleteGraceMs: number;
}

export interface PurgeResult {
  submissions: number;
  blobsDeleted: number;
  /** Still named by another record, or written too recently to tell. */
  blobsKept: number;
}

/** Purges everything trashed before `now` minus the retention period; `now` is the caller's clock. */
export async function purgeTrash(ctx: PurgeContext, now: Date = new Date()): Promise<PurgeResult> {
  const before = new Date(now.getTime() - ctx.retentionDays * DAY_MS).toISOString();
  const result: PurgeResult = { submissions: 0, blobsDeleted: 0, blobsKept: 0 };
  for (;;) {
    const batch = await purgeBatch(ctx, before);
    if (batch.count === 0) return result;
    result.submissions += batch.count;
    for (const blobId of batch.blobs) {
      const outcome = await ctx.blobs.deleteUnlessInUse(blobId, { inUse: () => mq.blobReferenced(ctx.database.db, blobId), graceMs: ctx.blobDeleteGraceMs });
      if (outcome === 'deleted') result.blobsDeleted += 1;
      else if (outcome !== 'absent') result.blobsKept += 1;
    }
  }
}

async function purgeBatch(ctx: PurgeContext, before: string): Promise<{ count: number; blobs: Set<string> }> {
  return ctx.database.db.transaction().execute(async (trx) => {
    const expired = await mq.expiredTrash(trx, ctx.database.dialect, before, PURGE_BATCH);
    if (expired.length === 0) return { count: 0, blobs: new Set<string>() };
    const ids = expired.map((s) => s.id);
    const blobs = await mq.blobsOfSubmissions(trx, ids);
    await mq.deleteSubmissions(trx, ids);
    const xmlFormIds = await mq.xmlFormIdsOf(trx, [...new Set(expired.map((s) => s.form_id))]);
    for (const s of expired) {
      await recordAudit(trx, {
        actorLabel: 'trash purge',
        action: 'submission.purge',
        projectId: s.project_id,
        resource: { type: 'submission', id: s.id },
        details: { formId: xmlFormIds.get(s.form_id) ?? null, instanceId: s.instance_id, deletedAt: s.deleted_at, retentionDays: ctx.retentionDays },
      });
    }
    return { count: expired.length, blobs };
  });
}
