import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import * as submissions from '../submissions/index.js';
import { openAsset, readsData, visibleAssets, type Asset, type AssetSource } from './assets.js';
import { assetUrl, presentAsset, presentKoboSubmission } from './presenters.js';

const AssetParams = Type.Object({ uid: Type.String({ minLength: 1, maxLength: 64 }) });
const Format = Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('xml')]));
const AssetListQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), offset: Type.Optional(Type.Integer({ minimum: 0 })), format: Type.Optional(Type.Literal('json')) },
  { additionalProperties: false },
);
const DataQuery = Type.Object(
  {
    start: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000_000 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, description: `At most ${submissions.MAX_PAGE}; more is read as ${submissions.MAX_PAGE}, as Kobo does.` })),
    sort: Type.Optional(Type.String({ maxLength: 300, description: 'JSON, e.g. {"_submission_time": -1}.' })),
    fields: Type.Optional(Type.String({ maxLength: 10_000, description: 'JSON array of field names, e.g. ["_id", "district"].' })),
    query: Type.Optional(Type.String({ maxLength: 20_000, description: 'MongoDB-style JSON: $and, $or, $in, $nin, $gt(e), $lt(e), $ne, $exists, $regex (literal, ^ and $ anchors).' })),
    format: Format,
    after: Type.Optional(Type.String({ maxLength: 2000, description: 'Set by Fieldkeep in `next` links: where the previous page ended, so following `next` costs the same on every page. Clients never need to write it.' })),
  },
  { additionalProperties: false },
);
type DataQuery = Static<typeof DataQuery>;
const Paged = Type.Object({ count: Type.Integer(), next: Type.Union([Type.String(), Type.Null()]), previous: Type.Union([Type.String(), Type.Null()]), results: Type.Array(Type.Record(Type.String(), Type.Unknown())) });

function callerOf(request: FastifyRequest, ctx: AppContext): AssetSource {
  return { ctx, source: { ...auditSource(request), actor: request.actor } };
}

function invalid(detail: string): never {
  throw new AppError('submission.query_invalid', detail);
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return invalid(`${name} is not valid JSON.`);
  }
}

/** Kobo's `sort`: `{"field": 1}` or `{"field": -1}`; one field (ties go by _id). */
function koboSort(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const sort = parseJson('sort', text);
  if (typeof sort !== 'object' || sort === null || Array.isArray(sort)) invalid('sort must be a JSON object such as {"_submission_time": -1}.');
  const entries = Object.entries(sort);
  if (entries.length === 0) return undefined;
  if (entries.length > 1) throw new AppError('submission.query_unsupported', 'sort by more than one field is not supported; give one field.');
  const [field, direction] = entries[0]!;
  if (direction !== 1 && direction !== -1) invalid(`sort direction for ${field} must be 1 or -1.`);
  return direction === -1 ? `-${field}` : field;
}

function koboFields(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  const fields = parseJson('fields', text);
  if (!Array.isArray(fields) || fields.length > 1000 || !fields.every((f) => typeof f === 'string' && submissions.FIELD_NAME.test(f))) invalid('fields must be a JSON array of field names, such as ["_id", "district"].');
  return fields as string[];
}

function pageUrl(base: string, query: DataQuery, start: number, limit: number, after?: string): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && key !== 'start' && key !== 'limit' && key !== 'after') params.set(key, String(value));
  params.set('start', String(start));
  params.set('limit', String(limit));
  if (after !== undefined) params.set('after', after);
  return `${base}?${params.toString()}`;
}

/**
 * KoBoToolbox API v2, read side: existing Kobo scripts, R and Python clients and dashboards work by
 * changing the base URL and token (`Authorization: Token …`). Signed-in people only; each asset is
 * authorised in `openAsset` (these paths name no project), and every read applies row filters.
 */
export function koboRoutes(app: App, ctx: AppContext): void {
  const tags = ['kobo'];

  app.get(
    '/api/v2/assets/',
    { config: { permission: 'authenticated' }, schema: { tags, summary: 'The forms you may see, as KoBoToolbox survey assets.', querystring: AssetListQuery, response: { 200: Paged } } },
    async (request) => {
      const caller = callerOf(request, ctx);
      const assets = await visibleAssets(caller);
      const offset = request.query.offset ?? 0;
      const limit = request.query.limit ?? 100;
      const pageOf = assets.slice(offset, offset + limit);
      const results = await Promise.all(pageOf.map(async (asset) => presentAsset(ctx.config.publicUrl, asset, asset.readsData ? await submissionCount(caller, asset) : 0)));
      const base = `${ctx.config.publicUrl}/api/v2/assets/`;
      return {
        count: assets.length,
        next: offset + limit < assets.length ? `${base}?limit=${limit}&offset=${offset + limit}` : null,
        previous: offset > 0 ? `${base}?limit=${limit}&offset=${Math.max(offset - limit, 0)}` : null,
        results,
      };
    },
  );

  app.get(
    '/api/v2/assets/:uid/',
    { config: { permission: 'authenticated' }, schema: { tags, summary: 'One form as a KoBoToolbox asset.', params: AssetParams, querystring: Type.Object({ format: Type.Optional(Type.Literal('json')) }, { additionalProperties: false }) } },
    async (request) => {
      const caller = callerOf(request, ctx);
      const asset = await openAsset(caller, request.params.uid, 'form.read', '/api/v2/assets/:uid/');
      return presentAsset(ctx.config.publicUrl, asset, readsData(caller, asset) ? await submissionCount(caller, asset) : 0);
    },
  );

  app.get(
    '/api/v2/assets/:uid/data/',
    { config: { permission: 'authenticated' }, schema: { tags, summary: "A form's submissions in KoBoToolbox's shape: {count, next, previous, results}.", params: AssetParams, querystring: DataQuery } },
    async (request, reply) => {
      const caller = callerOf(request, ctx);
      const asset = await openAsset(caller, request.params.uid, 'submission.read', '/api/v2/assets/:uid/data/');
      const form = await submissions.openFormData(scopeOf(caller, asset), asset.form.xml_form_id);
      const query = request.query;
      const start = query.start ?? 0;
      const limit = Math.min(query.limit ?? submissions.MAX_PAGE, submissions.MAX_PAGE);
      const fields = koboFields(query.fields);
      // `next` links carry a keyset cursor beside `start`: a client walking a form page by page
      // (what Kobo scripts do) never pays for an offset; `start` alone still works as Kobo's.
      const position = query.after === undefined ? { start } : { cursor: query.after };
      const page = await submissions.listSubmissions(form, { filter: query.query, sort: koboSort(query.sort), limit, ...position, withCount: true });
      const count = page.count ?? 0;
      const base = `${assetUrl(ctx.config.publicUrl, asset)}data/`;
      const next = start + page.rows.length < count && page.nextCursor !== null ? pageUrl(base, query, start + limit, limit, page.nextCursor) : null;
      const previous = start > 0 ? pageUrl(base, query, Math.max(start - limit, 0), limit) : null;
      if (query.format === 'xml') return reply.type('application/xml; charset=utf-8').send(Readable.from(xmlPage(ctx, page.rows, count, next, previous)));
      const results = await presentPage(ctx, form, asset, page.rows);
      return reply.type('application/json; charset=utf-8').send({ count, next, previous, results: fields === null ? results : results.map((r) => pick(r, fields)) });
    },
  );

  app.get(
    '/api/v2/assets/:uid/data/:id/',
    {
      config: { permission: 'authenticated' },
      schema: { tags, summary: 'One submission by its _id, in KoBoToolbox\'s shape (or its XML with format=xml).', params: Type.Object({ ...AssetParams.properties, id: Type.Integer({ minimum: 1 }) }), querystring: Type.Object({ format: Format }, { additionalProperties: false }) },
    },
    async (request, reply) => {
      const caller = callerOf(request, ctx);
      const asset = await openAsset(caller, request.params.uid, 'submission.read', '/api/v2/assets/:uid/data/:id/');
      const form = await submissions.openFormData(scopeOf(caller, asset), asset.form.xml_form_id);
      const row = await submissions.getSubmissionById(form, request.params.id);
      if (request.query.format === 'xml') return reply.type('application/xml; charset=utf-8').send(await submissionXml(ctx, row));
      const [presented] = await presentPage(ctx, form, asset, [row]);
      return reply.type('application/json; charset=utf-8').send(presented);
    },
  );
}

function scopeOf(caller: AssetSource, asset: Asset): submissions.DataScope {
  return { ctx: caller.ctx, access: asset.access, source: caller.source };
}

/** How many submissions the caller can see in the form (their row filter applies). */
async function submissionCount(caller: AssetSource, asset: Asset): Promise<number> {
  return submissions.countSubmissions(await submissions.openFormData(scopeOf(caller, asset), asset.form.xml_form_id), undefined);
}

async function presentPage(ctx: AppContext, form: submissions.FormData, asset: Asset, rows: submissions.SubmissionDataRow[]) {
  const [schemas, files] = await Promise.all([submissions.schemasOf(form, rows.map((r) => r.form_version_id)), submissions.attachmentsByVersion(form, rows.map((r) => r.version_id))]);
  const attachmentBase = submissions.attachmentBaseFor(ctx, form);
  return rows.map((row) => presentKoboSubmission(row, { form, asset, schema: schemas.get(row.form_version_id), files: files.get(row.version_id) ?? [], attachmentBase: attachmentBase(row) }));
}

function pick(whole: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const field of fields) if (field in whole) picked[field] = whole[field];
  return picked;
}

const xmlEntities: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' };
const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => xmlEntities[c]!);
const XML_DECLARATION = /^\uFEFF?\s*<\?xml[^?]*\?>\s*/;

/**
 * `format=xml`, byte for byte as kpi renders a page: its paging fields as `dicttoxml` writes them
 * (that library's declaration, empty elements for null), then, only when the page has results,
 * each submission's XML as received without its declaration, inside `<results>`.
 */
async function* xmlPage(ctx: AppContext, rows: submissions.SubmissionDataRow[], count: number, next: string | null, previous: string | null): AsyncGenerator<string> {
  yield `<?xml version="1.0" encoding="UTF-8" ?><root><count>${count}</count><next>${next === null ? '' : escapeXml(next)}</next><previous>${previous === null ? '' : escapeXml(previous)}</previous>`;
  if (rows.length === 0) return yield '</root>';
  yield '<results>';
  for (const row of rows) yield (await buffer(await ctx.blobs.get(row.xml_blob))).toString('utf8').replace(XML_DECLARATION, '');
  yield '</results></root>';
}

/** One submission's XML as kpi serves it: as received, with a declaration added if it had none. */
async function submissionXml(ctx: AppContext, row: submissions.SubmissionDataRow): Promise<Buffer> {
  const xml = await buffer(await ctx.blobs.get(row.xml_blob));
  return /^\s*<\?xml/i.test(xml.subarray(0, 64).toString('utf8')) ? xml : Buffer.concat([Buffer.from('<?xml version="1.0" encoding="utf-8"?>'), xml]);
}
