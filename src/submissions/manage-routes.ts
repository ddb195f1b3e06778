import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { projectAccessOf } from '../access/index.js';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { editSubmission } from './edits.js';
import { addComment, COMMENT_MAX_CHARS, getReview, listComments, setReview, setReviewInBulk } from './review.js';
import type { SubmissionScope } from './service.js';
import { BulkTargetSchema, InstanceIdSchema, ReviewStatusSchema } from './targets.js';
import { listTrash, restoreSubmission, trashInBulk, trashSubmission } from './trash.js';

const FormParams = Type.Object({ projectId: Type.String({ pattern: '^[0-9]+$' }), xmlFormId: Type.String({ minLength: 1, maxLength: 255 }) });
const SubmissionParams = Type.Object({ ...FormParams.properties, instanceId: InstanceIdSchema });
// null first: with Fastify's type coercion a null tried against a string branch first becomes ''.
const StatusValue = Type.Union([Type.Null(), ReviewStatusSchema]);
const Status = Type.Union([StatusValue], { description: 'null clears the review.' });
const ReviewBody = Type.Object({ status: Status }, { additionalProperties: false });
const BulkReviewBody = Type.Object({ ...BulkTargetSchema.properties, status: Status }, { additionalProperties: false });
const ReviewView = Type.Object({
  status: StatusValue,
  reviewedAt: Type.Union([Type.String(), Type.Null()]),
  reviewedBy: Type.Union([Type.Object({ id: Type.Number(), username: Type.String() }), Type.Null()]),
});
const CommentBody = Type.Object({ body: Type.String({ minLength: 1, maxLength: COMMENT_MAX_CHARS }) }, { additionalProperties: false });
const CommentView = Type.Object({
  id: Type.Number(),
  body: Type.String(),
  author: Type.Object({ id: Type.Union([Type.Number(), Type.Null()]), username: Type.String() }),
  createdAt: Type.String(),
});
const EditBody = Type.Object(
  {
    // Values are checked by the edit against each field's type: a schema union here would let
    // Fastify's coercion turn 12 into "12" or "true" into true before the check sees them.
    fields: Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.Unknown(), {
      minProperties: 1,
      maxProperties: 500,
      description: 'New answers by field path below the root (e.g. `household/district`): text, a number, true/false, a list for select_multiple or a geopoint; null clears an answer.',
    }),
  },
  { additionalProperties: false },
);
const EditView = Type.Object({ instanceId: Type.String(), versionInstanceId: Type.String(), changed: Type.Array(Type.String()) });
const Count = Type.Object({ count: Type.Number() });
const TrashView = Type.Object({ instanceId: Type.String(), deletedAt: Type.String(), deletedBy: Type.Union([Type.String(), Type.Null()]), purgeAfter: Type.String() });

function scopeOf(request: FastifyRequest, ctx: AppContext): SubmissionScope {
  return { ctx, access: projectAccessOf(request), source: auditSource(request) };
}

/**
 * Review, comments, edits and the trash of a form's submissions (a submission is named by its
 * first version's instanceID). Reading submissions is in the data API's routes.
 */
export function submissionManagementRoutes(app: App, ctx: AppContext): void {
  const tags = ['submissions'];
  const form = '/api/v1/projects/:projectId/forms/:xmlFormId';
  const one = `${form}/submissions/:instanceId`;

  app.get(`${one}/review`, { config: { permission: 'submission.read' }, schema: { tags, summary: 'The review status of a submission, with who set it and when.', params: SubmissionParams, response: { 200: ReviewView } } }, async (request) =>
    getReview(scopeOf(request, ctx), request.params.xmlFormId, request.params.instanceId),
  );

  app.put(`${one}/review`, { config: { permission: 'submission.review' }, schema: { tags, summary: 'Set (or clear) the review status of a submission.', params: SubmissionParams, body: ReviewBody, response: { 200: ReviewView } } }, async (request) =>
    setReview(scopeOf(request, ctx), request.params.xmlFormId, request.params.instanceId, request.body.status),
  );

  app.post(
    `${form}/submissions/review`,
    { config: { permission: 'submission.review' }, schema: { tags, summary: 'Set the review status of many submissions: by instanceIds, or by a where filter with confirm: true.', params: FormParams, body: BulkReviewBody, response: { 200: Count } } },
    async (request) => {
      const { status, ...target } = request.body;
      return setReviewInBulk(scopeOf(request, ctx), request.params.xmlFormId, target, status);
    },
  );

  app.get(`${one}/comments`, { config: { permission: 'submission.read' }, schema: { tags, summary: 'Comments on a submission, oldest first.', params: SubmissionParams, response: { 200: Type.Array(CommentView) } } }, async (request) =>
    listComments(scopeOf(request, ctx), request.params.xmlFormId, request.params.instanceId),
  );

  app.post(`${one}/comments`, { config: { permission: 'submission.review' }, schema: { tags, summary: 'Comment on a submission.', params: SubmissionParams, body: CommentBody, response: { 201: CommentView } } }, async (request, reply) =>
    reply.status(201).send(await addComment(scopeOf(request, ctx), request.params.xmlFormId, request.params.instanceId, request.body.body)),
  );

  app.patch(
    one,
    { config: { permission: 'submission.update' }, schema: { tags, summary: 'Change answers: stores a new version (new instanceID, deprecatedID naming the replaced one), keeping the history and files.', params: SubmissionParams, body: EditBody, response: { 200: EditView } } },
    async (request) => editSubmission(scopeOf(request, ctx), request.params.xmlFormId, request.params.instanceId, request.body.fields),
  );

  app.delete(one, { config: { permission: 'submission.delete' }, schema: { tags, summary: 'Move a submission to the trash, restorable until the retention period ends.', params: SubmissionParams, response: { 204: Type.Null() } } }, async (request, reply) => {
    await trashSubmission(scopeOf(request, ctx), request.params.xmlFormId, request.params.instanceId);
    return reply.status(204).send(null);
  });

  app.post(
    `${form}/submissions/delete`,
    { config: { permission: 'submission.delete' }, schema: { tags, summary: 'Move many submissions to the trash: by instanceIds, or by a where filter with confirm: true.', params: FormParams, body: BulkTargetSchema, response: { 200: Count } } },
    async (request) => trashInBulk(scopeOf(request, ctx), request.params.xmlFormId, request.body),
  );

  app.post(`${one}/restore`, { config: { permission: 'submission.delete' }, schema: { tags, summary: 'Restore a submission from the trash.', params: SubmissionParams, response: { 204: Type.Null() } } }, async (request, reply) => {
    await restoreSubmission(scopeOf(request, ctx), request.params.xmlFormId, request.params.instanceId);
    return reply.status(204).send(null);
  });

  app.get(`${form}/trash`, { config: { permission: 'submission.delete' }, schema: { tags, summary: 'The form\'s trashed submissions, most recently deleted first, with when each may be purged.', params: FormParams, response: { 200: Type.Array(TrashView) } } }, async (request) =>
    listTrash(scopeOf(request, ctx), request.params.xmlFormId),
  );
}
