/*
 * Review of submissions: a status (`approved`, `not_approved`, `on_hold`, or none) with who set it
 * and when, set on one submission or in bulk, and comments. Every change is one transaction with
 * one audit entry per submission it changed, so each submission's history can be read from the
 * log. KoBoToolbox names the same statuses `validation_status_approved` and so on in its API v2;
 * `koboValidationStatus` gives that shape for the v2 presenter.
 */
import { isoNow } from '../db/columns.js';
import { AppError } from '../server/errors.js';
import * as mq from './manage-queries.js';
import type { SubmissionScope } from './service.js';
import { auditRead, auditSubmission, bulkTargets, formTarget, userIdOf, visibleSubmission, type BulkTarget, type ReviewStatus } from './targets.js';

export interface Review {
  status: ReviewStatus | null;
  reviewedAt: string | null;
  reviewedBy: { id: number; username: string } | null;
}

export interface Comment {
  id: number;
  body: string;
  author: { id: number | null; username: string };
  createdAt: string;
}

/** A comment may be at most this long; the list returns at most this many. */
export const COMMENT_MAX_CHARS = 10_000;
const COMMENTS_LISTED = 1000;

const koboLabels: Record<ReviewStatus, { label: string; color: string }> = {
  approved: { label: 'Approved', color: '#00ff00' },
  not_approved: { label: 'Not Approved', color: '#ff0000' },
  on_hold: { label: 'On Hold', color: '#0000ff' },
};

export type KoboValidationStatus = Record<string, never> | { timestamp: number; uid: string; by_whom: string; label: string; color: string };

/** KoBoToolbox's `_validation_status`: `{}` when not reviewed, else its uid, label, colour, reviewer and Unix time. */
export function koboValidationStatus(status: ReviewStatus | null, reviewedAt: string | null, reviewer: string | null): KoboValidationStatus {
  if (status === null) return {};
  return {
    timestamp: reviewedAt === null ? 0 : Math.floor(Date.parse(reviewedAt) / 1000),
    uid: koboValidationUid(status),
    by_whom: reviewer ?? '',
    ...koboLabels[status],
  };
}

export function koboValidationUid(status: ReviewStatus): string {
  return `validation_status_${status}`;
}

/** The status a Kobo `validation_status_*` uid names, for Kobo-style filters and writes. */
export function reviewStatusOfKoboUid(uid: string): ReviewStatus | undefined {
  const status = uid.replace(/^validation_status_/, '');
  return uid !== status && Object.hasOwn(koboLabels, status) ? (status as ReviewStatus) : undefined;
}

export async function setReview(scope: SubmissionScope, xmlFormId: string, instanceId: string, status: ReviewStatus | null): Promise<Review> {
  const target = await formTarget(scope, xmlFormId);
  const at = isoNow();
  await scope.ctx.database.db.transaction().execute(async (trx) => {
    const submission = await visibleSubmission(trx, target, instanceId);
    await mq.setReviewStatus(trx, [submission.id], status, userIdOf(scope), at);
    await auditSubmission(trx, scope, target.form, 'submission.review', submission, { status, previous: submission.review_status });
  });
  const actor = scope.source.actor;
  if (status === null) return { status, reviewedAt: null, reviewedBy: null };
  return { status, reviewedAt: at, reviewedBy: actor?.kind === 'user' ? { id: actor.userId, username: actor.username } : null };
}

export async function setReviewInBulk(scope: SubmissionScope, xmlFormId: string, request: BulkTarget, status: ReviewStatus | null): Promise<{ count: number }> {
  const target = await formTarget(scope, xmlFormId);
  const at = isoNow();
  return scope.ctx.database.db.transaction().execute(async (trx) => {
    const submissions = await bulkTargets(trx, target, request);
    await mq.setReviewStatus(trx, submissions.map((s) => s.id), status, userIdOf(scope), at);
    const how = request.where === undefined ? { bulk: 'instanceIds' } : { bulk: 'filter', where: request.where };
    for (const submission of submissions) await auditSubmission(trx, scope, target.form, 'submission.review', submission, { status, ...how });
    return { count: submissions.length };
  });
}

export async function getReview(scope: SubmissionScope, xmlFormId: string, instanceId: string): Promise<Review> {
  const target = await formTarget(scope, xmlFormId);
  const db = scope.ctx.database.db;
  const submission = await visibleSubmission(db, target, instanceId);
  await auditRead(scope, target.form, { type: 'submission', id: submission.id });
  const reviewer = submission.reviewed_by_user_id === null ? undefined : await mq.reviewerName(db, submission.reviewed_by_user_id);
  return {
    status: submission.review_status as ReviewStatus | null,
    reviewedAt: submission.reviewed_at,
    reviewedBy: reviewer && submission.reviewed_by_user_id !== null ? { id: submission.reviewed_by_user_id, username: reviewer.username } : null,
  };
}

export async function addComment(scope: SubmissionScope, xmlFormId: string, instanceId: string, body: string): Promise<Comment> {
  const text = body.trim();
  if (text.length === 0 || text.length > COMMENT_MAX_CHARS) {
    throw new AppError('submission.comment_invalid', `A comment must have from 1 to ${COMMENT_MAX_CHARS} characters of text.`);
  }
  const actor = scope.source.actor;
  if (actor?.kind !== 'user') throw new AppError('access.denied', 'Only a signed-in person can comment on a submission.');
  const target = await formTarget(scope, xmlFormId);
  const createdAt = isoNow();
  const id = await scope.ctx.database.db.transaction().execute(async (trx) => {
    const submission = await visibleSubmission(trx, target, instanceId);
    const commentId = await mq.insertComment(trx, { submission_id: submission.id, author_user_id: actor.userId, author_label: actor.username, body: text, created_at: createdAt });
    await auditSubmission(trx, scope, target.form, 'submission.comment', submission, { commentId });
    return commentId;
  });
  return { id, body: text, author: { id: actor.userId, username: actor.username }, createdAt };
}

export async function listComments(scope: SubmissionScope, xmlFormId: string, instanceId: string): Promise<Comment[]> {
  const target = await formTarget(scope, xmlFormId);
  const db = scope.ctx.database.db;
  const submission = await visibleSubmission(db, target, instanceId);
  await auditRead(scope, target.form, { type: 'submission', id: submission.id });
  const rows = await mq.listComments(db, submission.id, COMMENTS_LISTED);
  return rows.map((r) => ({ id: r.id, body: r.body, author: { id: r.author_user_id, username: r.author_label }, createdAt: r.created_at }));
}
