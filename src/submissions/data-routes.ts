import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { projectAccessOf } from '../access/index.js';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { contentDisposition, parseRange, sliceStream } from './byte-range.js';
import { FIELD_NAME } from './data-filter.js';
import { diffAnswers, presentAttachments, presentSubmission, type AttachmentBase } from './data-presenters.js';
import type { SubmissionDataRow } from './data-queries.js';
import * as data from './data.js';

const FormParams = Type.Object({ projectId: Type.String({ pattern: '^[0-9]+$' }), xmlFormId: Type.String({ minLength: 1, maxLength: 255 }) });
const SubmissionParams = Type.Object({ ...FormParams.properties, instanceId: Type.String({ minLength: 1, maxLength: 260 }) });
const AttachmentParams = Type.Object({ ...SubmissionParams.properties, name: Type.String({ minLength: 1, maxLength: 255 }) });
const ListQuery = Type.Object(
  {
    filter: Type.Optional(Type.String({ maxLength: 20_000, description: 'MongoDB-style JSON, e.g. {"district": "north", "age": {"$gte": 18}, "_submission_time": {"$gte": "2024-05-01"}}.' })),
    sort: Type.Optional(Type.String({ maxLength: 256, description: 'A field name, - first for descending; default _id.' })),
    fields: Type.Optional(Type.String({ maxLength: 10_000, description: 'Comma-separated field names to return (answers and system fields).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: data.MAX_PAGE, default: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 2000, description: 'The `next` of the previous page.' })),
    count: Type.Optional(Type.Boolean({ description: 'Also count every submission that matches the filter.' })),
    selectMultiple: Type.Optional(Type.Union([Type.Literal('string'), Type.Literal('split')], { description: 'select_multiple answers as the space-separated string (default) or as arrays.' })),
  },
  { additionalProperties: false },
);
const CountQuery = Type.Object({ filter: ListQuery.properties.filter }, { additionalProperties: false });
const SubmissionQuery = Type.Object({ selectMultiple: ListQuery.properties.selectMultiple }, { additionalProperties: false });
const Submission = Type.Record(Type.String(), Type.Unknown());
const Page = Type.Object({ results: Type.Array(Submission), next: Type.Union([Type.String(), Type.Null()]), count: Type.Optional(Type.Integer()) });
const Attachment = Type.Object({
  name: Type.String(),
  contentType: Type.Union([Type.String(), Type.Null()]),
  size: Type.Union([Type.Integer(), Type.Null()]),
  received: Type.Boolean(),
  question: Type.Union([Type.String(), Type.Null()]),
  url: Type.String(),
});
const Version = Type.Object({
  instanceId: Type.String(),
  deprecatedId: Type.Union([Type.String(), Type.Null()]),
  formVersion: Type.String(),
  createdAt: Type.String(),
  submittedBy: Type.Object({ kind: Type.String(), id: Type.Union([Type.Integer(), Type.Null()]) }),
  current: Type.Boolean(),
  data: Submission,
});
const Change = Type.Object({ path: Type.String(), before: Type.Union([Type.String(), Type.Null()]), after: Type.Union([Type.String(), Type.Null()]) });
const Diff = Type.Object({ from: Type.String(), to: Type.String(), changes: Type.Array(Change) });
const binary = { 200: { type: 'string', format: 'binary' }, 206: { type: 'string', format: 'binary' } } as const;

type FormParams = Static<typeof FormParams>;

function scopeOf(request: FastifyRequest, ctx: AppContext): data.DataScope {
  return { ctx, access: projectAccessOf(request), source: auditSource(request) };
}

function openForm(request: FastifyRequest<{ Params: FormParams }>, ctx: AppContext) {
  return data.openFormData(scopeOf(request, ctx), request.params.xmlFormId);
}

export function fieldList(text: string | undefined): string[] | null {
  if (text === undefined || text.trim() === '') return null;
  const fields = text.split(',').map((f) => f.trim()).filter((f) => f !== '');
  const bad = fields.find((f) => !FIELD_NAME.test(f));
  if (bad !== undefined) throw new AppError('submission.query_invalid', `${JSON.stringify(bad.slice(0, 100))} is not a field name.`);
  return fields;
}

/** Where the Fieldkeep API serves a submission's files. */
export function attachmentBaseFor(ctx: AppContext, form: data.FormData): AttachmentBase {
  const formPath = `${ctx.config.publicUrl}/api/v1/projects/${form.view.projectId}/forms/${encodeURIComponent(form.form.xml_form_id)}/submissions`;
  return (row) => `${formPath}/${encodeURIComponent(row.root_instance_id)}/attachments`;
}

async function present(ctx: AppContext, form: data.FormData, rows: SubmissionDataRow[], options: { fields: string[] | null; splitSelects: boolean }) {
  const [schemas, files, comments] = await Promise.all([
    data.schemasOf(form, rows.map((r) => r.form_version_id)),
    data.attachmentsByVersion(form, rows.map((r) => r.version_id)),
    data.commentsBySubmission(form, rows.map((r) => r.id)),
  ]);
  const attachmentBase = attachmentBaseFor(ctx, form);
  return rows.map((row) =>
    presentSubmission(row, { ...options, schema: schemas.get(row.form_version_id), attachments: files.get(row.version_id) ?? [], comments: comments.get(row.id) ?? [], attachmentBase }),
  );
}

/**
 * The submission data API: a form's submissions as typed JSON with Kobo's field names, filtered,
 * sorted and paged in the database; one submission, its original XML, its versions and what changed
 * between them; its files, with byte ranges. Every read applies the caller's row filter.
 */
export function submissionDataRoutes(app: App, ctx: AppContext): void {
  const tags = ['submissions'];
  const base = '/api/v1/projects/:projectId/forms/:xmlFormId/submissions';

  app.get(
    base,
    { config: { permission: 'submission.read' }, schema: { tags, summary: "The form's submissions, one page at a time (keyset cursor), with filters, sort and a field list.", params: FormParams, querystring: ListQuery, response: { 200: Page } } },
    async (request) => {
      const form = await openForm(request, ctx);
      const query = request.query;
      const page = await data.listSubmissions(form, { filter: query.filter, sort: query.sort, limit: query.limit ?? 100, cursor: query.cursor, withCount: query.count });
      const results = await present(ctx, form, page.rows, { fields: fieldList(query.fields), splitSelects: query.selectMultiple === 'split' });
      return { results, next: page.nextCursor, ...(page.count === null ? {} : { count: page.count }) };
    },
  );

  app.get(
    `${base}.count`,
    { config: { permission: 'submission.read' }, schema: { tags, summary: 'How many submissions match the filter.', params: FormParams, querystring: CountQuery, response: { 200: Type.Object({ count: Type.Integer() }) } } },
    async (request) => ({ count: await data.countSubmissions(await openForm(request, ctx), request.query.filter) }),
  );

  app.get(
    `${base}/:instanceId`,
    { config: { permission: 'submission.read' }, schema: { tags, summary: 'One submission as JSON, or its XML as received when the id ends in .xml.', params: SubmissionParams, querystring: SubmissionQuery } },
    async (request, reply) => {
      const form = await openForm(request, ctx);
      const { instanceId } = request.params;
      if (instanceId.endsWith('.xml')) {
        const xml = await data.submissionXml(form, instanceId.slice(0, -'.xml'.length));
        return reply.type('application/xml; charset=utf-8').send(xml);
      }
      const row = await data.getSubmission(form, instanceId);
      const [presented] = await present(ctx, form, [row], { fields: null, splitSelects: request.query.selectMultiple === 'split' });
      return reply.type('application/json; charset=utf-8').send(presented);
    },
  );

  app.get(
    `${base}/:instanceId/versions`,
    { config: { permission: 'submission.read' }, schema: { tags, summary: 'Every version of a submission (edits add one), oldest first, with its answers.', params: SubmissionParams, response: { 200: Type.Array(Version) } } },
    async (request) => {
      const form = await openForm(request, ctx);
      const { submission, versions } = await data.submissionVersions(form, request.params.instanceId);
      return versions.map((v) => ({
        instanceId: v.instance_id,
        deprecatedId: v.deprecated_id,
        formVersion: v.version,
        createdAt: v.created_at,
        submittedBy: { kind: v.submitted_by_kind, id: v.submitted_by_id },
        current: v.id === submission.version_id,
        data: data.typedOf(v),
      }));
    },
  );

  app.get(
    `${base}/:instanceId/diffs`,
    { config: { permission: 'submission.read' }, schema: { tags, summary: 'What each edit changed: the answers that differ between consecutive versions.', params: SubmissionParams, response: { 200: Type.Array(Diff) } } },
    async (request) => {
      const form = await openForm(request, ctx);
      const { versions } = await data.submissionVersions(form, request.params.instanceId);
      return versions.slice(1).map((v, i) => ({ from: versions[i]!.instance_id, to: v.instance_id, changes: diffAnswers(data.answersOf(versions[i]!), data.answersOf(v)) }));
    },
  );

  app.get(
    `${base}/:instanceId/attachments`,
    { config: { permission: 'submission.read' }, schema: { tags, summary: "The files of a submission's current version, received or still expected.", params: SubmissionParams, response: { 200: Type.Array(Attachment) } } },
    async (request) => {
      const form = await openForm(request, ctx);
      const row = await data.getSubmission(form, request.params.instanceId);
      const files = (await data.attachmentsByVersion(form, [row.version_id])).get(row.version_id) ?? [];
      return presentAttachments(row, data.answersOf(row), files, attachmentBaseFor(ctx, form)(row));
    },
  );

  app.get(
    `${base}/:instanceId/attachments/:name`,
    { config: { permission: 'submission.read' }, schema: { tags, summary: 'Download a file of a submission (Range requests supported).', params: AttachmentParams, response: binary } },
    async (request, reply) => {
      const form = await openForm(request, ctx);
      const file = await data.submissionAttachment(form, request.params.instanceId, request.params.name);
      return sendFile(reply, file, request.headers.range);
    },
  );
}

/**
 * A stored file with its type, an RFC 6266 name and one byte range when asked. The sandbox CSP
 * keeps an uploaded HTML or SVG file from running as this site if someone opens it in a browser.
 */
export async function sendFile(reply: FastifyReply, file: data.AttachmentDownload, rangeHeader: string | undefined) {
  reply.headers({ 'content-disposition': contentDisposition(file.name), 'accept-ranges': 'bytes', 'content-security-policy': "default-src 'none'; sandbox", 'x-content-type-options': 'nosniff' }).type(file.contentType);
  const range = parseRange(rangeHeader, file.size);
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${file.size}`);
    throw new AppError('submission.range_not_satisfiable', `The file has ${file.size} bytes.`);
  }
  if (range === null) return reply.header('content-length', file.size).send(await file.open());
  return reply
    .status(206)
    .headers({ 'content-range': `bytes ${range.start}-${range.end}/${file.size}`, 'content-length': range.end - range.start + 1 })
    .send(sliceStream(await file.open(), range));
}
