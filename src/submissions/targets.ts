/*
 * Finding the submissions a review, comment, edit or deletion acts on, as the caller may see
 * them: the form within the caller's project (a public link's access names its one form), the
 * caller's row filter applied in the database, trashed rows left out. A bulk operation names its
 * submissions either by instanceID (all must be found, or nothing is done) or by a filter, which
 * must come with `confirm: true` so that an empty or mistyped filter cannot act on a whole form
 * by accident.
 */
import { Type, type Static } from 'typebox';
import { submissionRowFilter } from '../access/index.js';
import { recordAudit, recordDataRead, type Executor } from '../audit/index.js';
import { findForm, findVersion, type FormRow } from '../forms/queries.js';
import { schemaOf } from '../forms/service.js';
import { AppError } from '../server/errors.js';
import * as mq from './manage-queries.js';
import type { SubmissionScope } from './service.js';

/** A bulk operation acts on at most this many submissions; narrow the filter beyond it. */
export const BULK_LIMIT = 10_000;

export const reviewStatuses = ['approved', 'not_approved', 'on_hold'] as const;
export type ReviewStatus = (typeof reviewStatuses)[number];
export const ReviewStatusSchema = Type.Union([Type.Literal('approved'), Type.Literal('not_approved'), Type.Literal('on_hold')]);

const SYSTEM_FIELDS = new Set(['meta/rootUuid', '_submitted_by', '_validation_status']);

export const InstanceIdSchema = Type.String({ minLength: 1, maxLength: 255 });

export const BulkTargetSchema = Type.Object(
  {
    instanceIds: Type.Optional(Type.Array(InstanceIdSchema, { minItems: 1, maxItems: 1000, uniqueItems: true })),
    where: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.\\-/]{0,199}$' }), Type.Union([Type.Null(), Type.String({ maxLength: 1000 })]), {
        maxProperties: 20,
        description:
          'Equality on answers (keys are field paths such as `region` or `household/district`) and on `meta/rootUuid` (the instanceID in the address of the submission), `_submitted_by` (username) and `_validation_status` (`approved`, `not_approved`, `on_hold`, or null for not reviewed). Every condition must hold.',
      }),
    ),
    confirm: Type.Optional(Type.Boolean({ description: 'Required (true) with `where`: acting by filter is confirmed, never implied.' })),
  },
  { additionalProperties: false },
);
export type BulkTarget = Static<typeof BulkTargetSchema>;

export interface FormTarget {
  form: FormRow;
  view: mq.SubmissionView;
}

export function userIdOf(scope: SubmissionScope): number | null {
  return scope.source.actor?.kind === 'user' ? scope.source.actor.userId : null;
}

/** The form and the view of its submissions this caller has. */
export async function formTarget(scope: SubmissionScope, xmlFormId: string): Promise<FormTarget> {
  const db = scope.ctx.database.db;
  const form = await findForm(db, scope.access, xmlFormId);
  if (!form) throw new AppError('form.not_found', `This project has no form ${JSON.stringify(xmlFormId)}.`);
  const actor = scope.source.actor;
  const view: mq.SubmissionView = {
    projectId: scope.access.projectId,
    formId: form.id,
    dialect: scope.ctx.database.dialect,
    rowFilter: actor === undefined ? null : submissionRowFilter(actor, scope.access),
    userId: userIdOf(scope),
  };
  return { form, view };
}

export async function visibleSubmission(db: Executor, target: FormTarget, instanceId: string): Promise<mq.VisibleSubmission> {
  const found = await mq.findVisible(db, target.view, instanceId);
  if (!found) throw notFound(target.form, instanceId);
  return found;
}

export function notFound(form: FormRow, instanceId: string): AppError {
  return new AppError('submission.not_found', `Form ${JSON.stringify(form.xml_form_id)} has no submission ${JSON.stringify(instanceId)} that you can see.`);
}

/** The submissions a bulk request names; inside the caller's transaction, so it acts on what it read. */
export async function bulkTargets(db: Executor, target: FormTarget, request: BulkTarget): Promise<Array<{ id: number; instance_id: string }>> {
  if ((request.instanceIds === undefined) === (request.where === undefined)) {
    throw new AppError('submission.bulk_target_invalid', 'Name the submissions either by `instanceIds` or by a `where` filter (with `confirm: true`), not both and not neither.');
  }
  if (request.instanceIds !== undefined) {
    const found = await mq.selectVisible(db, target.view, mq.instanceIdIn(request.instanceIds), BULK_LIMIT);
    const seen = new Set(found.map((s) => s.instance_id));
    const missing = request.instanceIds.filter((id) => !seen.has(id));
    if (missing.length > 0) {
      throw new AppError('submission.not_found', `Nothing was changed: form ${JSON.stringify(target.form.xml_form_id)} has no submission you can see with instanceID ${missing.slice(0, 5).map((id) => JSON.stringify(id)).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}.`);
    }
    return found;
  }
  const where = request.where ?? {};
  if (request.confirm !== true) {
    throw new AppError('submission.bulk_unconfirmed', 'Acting on every submission a filter matches needs `"confirm": true` in the request; nothing was changed.');
  }
  await checkFilter(db, target.form, where);
  if (Object.keys(where).some((key) => !SYSTEM_FIELDS.has(key)) && (await mq.selectVisible(db, target.view, mq.isEncrypted, 1)).length > 0) {
    throw new AppError('submission.encrypted_not_filterable', `Form ${JSON.stringify(target.form.xml_form_id)} has encrypted submissions, whose answers the server cannot read; name the submissions by instanceIds or filter on meta/rootUuid, _submitted_by or _validation_status. Nothing was changed.`);
  }
  const found = await mq.selectVisible(db, target.view, mq.simpleFilterCondition(target.view.dialect, where), BULK_LIMIT + 1);
  if (found.length > BULK_LIMIT) {
    throw new AppError('submission.bulk_too_large', `The filter matches more than ${BULK_LIMIT} submissions; narrow it and repeat. Nothing was changed.`);
  }
  return found;
}

/** A filter naming a field the form does not have is refused rather than matching nothing. */
async function checkFilter(db: Executor, form: FormRow, where: Readonly<Record<string, string | null>>): Promise<void> {
  const status = where._validation_status;
  if (status !== undefined && status !== null && !(reviewStatuses as readonly string[]).includes(status)) {
    throw new AppError('submission.filter_invalid', `_validation_status must be one of ${reviewStatuses.join(', ')} or null, not ${JSON.stringify(status)}.`);
  }
  const version = form.published_version_id === null ? undefined : await findVersion(db, form, form.published_version_id);
  const schema = version ? schemaOf(version) : undefined;
  const prefix = schema ? `/${schema.rootName}/` : '';
  const paths = new Set(schema?.fields.filter((f) => f.kind === 'question').map((f) => f.path.slice(prefix.length)));
  for (const key of Object.keys(where)) {
    if (!SYSTEM_FIELDS.has(key) && !paths.has(key)) {
      throw new AppError('submission.filter_invalid', `Form ${JSON.stringify(form.xml_form_id)} has no field ${JSON.stringify(key)} to filter on; use a field path such as "group/question", or meta/rootUuid, _submitted_by, _validation_status.`);
    }
  }
}

export function auditSubmission(db: Executor, scope: SubmissionScope, form: FormRow, action: string, submission: { id: number; instance_id: string }, details: Record<string, unknown> = {}) {
  return recordAudit(db, {
    ...scope.source,
    action,
    projectId: scope.access.projectId,
    resource: { type: 'submission', id: submission.id },
    details: { formId: form.xml_form_id, instanceId: submission.instance_id, ...details },
  });
}

/** A read of submission data, grouped as every data read is (FIELDKEEP_AUDIT_READ_GROUP_MS). */
export function auditRead(scope: SubmissionScope, form: FormRow, resource: { type: string; id: string | number }) {
  const event = { ...scope.source, action: 'submission.read', projectId: scope.access.projectId, resource, details: { formId: form.xml_form_id } };
  return recordDataRead(scope.ctx.database.db, event, scope.ctx.config.auditReadGroupMs);
}
