import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { Type, type Static } from 'typebox';
import { projectAccessOf } from '../access/index.js';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { presentForm, presentSchema, presentVersion, FormSchemaView, FormView, FormVersionView, MediaView } from './presenters.js';
import * as forms from './service.js';

const ProjectParams = Type.Object({ projectId: Type.String({ pattern: '^[0-9]+$' }) });
const FormParams = Type.Object({ projectId: Type.String({ pattern: '^[0-9]+$' }), xmlFormId: Type.String({ minLength: 1, maxLength: 255 }) });
const VersionParams = Type.Object({ ...FormParams.properties, versionId: Type.String({ pattern: '^[0-9]+$' }) });
const MediaParams = Type.Object({ ...FormParams.properties, name: Type.String({ minLength: 1, maxLength: 255 }) });
const UploadQuery = Type.Object(
  {
    fileName: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'The upload\'s file name; an XLSForm without form_id takes its id from it.' })),
    publish: Type.Optional(Type.Boolean({ description: 'Publish at once instead of leaving a draft.' })),
    acceptChanges: Type.Optional(Type.Boolean({ description: 'Publish even if fields change in ways existing data would not fit.' })),
  },
  { additionalProperties: false },
);
const PublishQuery = Type.Object({ acceptChanges: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const StateBody = Type.Object({ state: Type.Union(forms.formStates.map((s) => Type.Literal(s))) }, { additionalProperties: false });
const Issue = Type.Object({ code: Type.String(), message: Type.String(), sheet: Type.Optional(Type.String()), row: Type.Optional(Type.Number()) });
const UploadResult = Type.Object({ form: FormView, warnings: Type.Array(Issue) });
const binary = { 200: { type: 'string', format: 'binary' } } as const;

function scopeOf(request: FastifyRequest, ctx: AppContext): forms.FormScope {
  return { ctx, access: projectAccessOf(request), source: auditSource(request) };
}

async function readUpload(request: FastifyRequest, maxBytes: number, fileName: string | undefined): Promise<forms.Upload> {
  const bytes = await readCapped(request, maxBytes);
  if (bytes.length === 0) throw new AppError('form.unrecognised_file', 'The request body is empty: send the XLSForm or XForm file as the body.');
  return { bytes, fileName: fileName ?? 'form' };
}

/**
 * The body, refused with a 413 as soon as it declares or reaches more than `maxBytes`: an oversize
 * upload is never held in memory. The stream is left unread (not destroyed), so the refusal can
 * still be answered on the connection.
 */
function readCapped(request: FastifyRequest, maxBytes: number): Promise<Buffer> {
  const tooLarge = () => new AppError('request.body_too_large', `A form file may be at most ${maxBytes} bytes.`);
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge());
  const body = request.body as Readable;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (error: unknown) => {
      body.off('data', take).off('end', done).off('error', stop);
      reject(error);
    };
    const take = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) stop(tooLarge());
      else chunks.push(chunk);
    };
    const done = () => resolve(Buffer.concat(chunks, size));
    body.on('data', take).on('end', done).on('error', stop);
  });
}

async function sendBlob(scope: forms.FormScope, reply: FastifyReply, blobId: string, contentType: string, fileName: string) {
  return reply
    .type(contentType)
    .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(fileName)}`)
    .send(await forms.readBlob(scope, blobId));
}

/**
 * Forms: upload (XLSForm or XForm) as a draft, publish with a new version, close, delete, read
 * every published version and the original upload, and manage media files. Uploads arrive as the
 * raw request body, streamed, in any content type.
 */
export function formRoutes(app: App, ctx: AppContext): void {
  app.register(async (scoped) => {
    const uploads = scoped as unknown as App;
    uploads.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const tags = ['forms'];
    const { formMaxBytes, mediaMaxBytes } = ctx.config;

    uploads.get('/api/v1/projects/:projectId/forms', { config: { permission: 'form.read' }, schema: { tags, summary: 'List the project\'s forms.', params: ProjectParams, response: { 200: Type.Array(FormView) } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      return Promise.all((await forms.listForms(scope)).map((form) => presentForm(scope, form)));
    });

    uploads.post(
      '/api/v1/projects/:projectId/forms',
      { config: { permission: 'form.create' }, bodyLimit: formMaxBytes, schema: { tags, summary: 'Upload a new form (XLSForm or XForm as the body); a draft unless publish=true.', params: ProjectParams, querystring: UploadQuery, response: { 201: UploadResult } } },
      async (request, reply) => {
        const scope = scopeOf(request, ctx);
        const query = request.query as Static<typeof UploadQuery>;
        const result = await forms.createForm(scope, await readUpload(request, formMaxBytes, query.fileName), { publish: query.publish ?? false, acceptChanges: query.acceptChanges ?? false });
        return reply.status(201).send({ form: await presentForm(scope, result.form), warnings: result.warnings });
      },
    );

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId', { config: { permission: 'form.read' }, schema: { tags, summary: 'One form.', params: FormParams, response: { 200: FormView } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      return presentForm(scope, await forms.getForm(scope, request.params.xmlFormId));
    });

    uploads.patch('/api/v1/projects/:projectId/forms/:xmlFormId', { config: { permission: 'form.update' }, schema: { tags, summary: 'Open, close (closing: still accepts data but is hidden from phones) a form.', params: FormParams, body: StateBody, response: { 200: FormView } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      const form = await forms.getForm(scope, request.params.xmlFormId);
      await forms.setState(scope, form, request.body.state);
      return presentForm(scope, await forms.getForm(scope, form.xml_form_id));
    });

    uploads.delete('/api/v1/projects/:projectId/forms/:xmlFormId', { config: { permission: 'form.delete' }, schema: { tags, summary: 'Delete a form.', params: FormParams, response: { 204: Type.Null() } } }, async (request, reply) => {
      const scope = scopeOf(request, ctx);
      await forms.deleteForm(scope, await forms.getForm(scope, request.params.xmlFormId));
      return reply.status(204).send(null);
    });

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId/versions', { config: { permission: 'form.read' }, schema: { tags, summary: 'Every published version, newest first.', params: FormParams, response: { 200: Type.Array(FormVersionView) } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      return (await forms.versions(scope, await forms.getForm(scope, request.params.xmlFormId))).map(presentVersion);
    });

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId/xform', { config: { permission: 'form.read' }, schema: { tags, summary: 'The published XForm, exactly as phones receive it.', params: FormParams, response: binary } }, async (request, reply) => {
      const scope = scopeOf(request, ctx);
      const version = await forms.versionOf(scope, await forms.getForm(scope, request.params.xmlFormId), 'published');
      return sendBlob(scope, reply, version.xform_blob, 'application/xml', `${request.params.xmlFormId}.xml`);
    });

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId/versions/:versionId/xform', { config: { permission: 'form.read' }, schema: { tags, summary: 'The XForm of one version.', params: VersionParams, response: binary } }, async (request, reply) => {
      const scope = scopeOf(request, ctx);
      const version = await forms.versionOf(scope, await forms.getForm(scope, request.params.xmlFormId), Number(request.params.versionId));
      return sendBlob(scope, reply, version.xform_blob, 'application/xml', `${request.params.xmlFormId}-${version.version || version.id}.xml`);
    });

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId/versions/:versionId/source', { config: { permission: 'form.read' }, schema: { tags, summary: 'The file uploaded for one version, as it was uploaded.', params: VersionParams, response: binary } }, async (request, reply) => {
      const scope = scopeOf(request, ctx);
      const version = await forms.versionOf(scope, await forms.getForm(scope, request.params.xmlFormId), Number(request.params.versionId));
      return sendBlob(scope, reply, version.source_blob, 'application/octet-stream', version.source_name);
    });

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId/draft', { config: { permission: 'form.read' }, schema: { tags, summary: 'The draft waiting to be published.', params: FormParams, response: { 200: FormVersionView } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      return presentVersion(await forms.versionOf(scope, await forms.getForm(scope, request.params.xmlFormId), 'draft'));
    });

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId/schema', { config: { permission: 'form.read' }, schema: { tags, summary: "The published version's fields: groups, repeats and questions with labels, hints, choices and bind expressions (the web application's preview).", params: FormParams, response: { 200: FormSchemaView } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      return presentSchema(await forms.versionOf(scope, await forms.getForm(scope, request.params.xmlFormId), 'published'));
    });

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId/draft/schema', { config: { permission: 'form.read' }, schema: { tags, summary: "The draft's fields, as …/schema gives the published version's.", params: FormParams, response: { 200: FormSchemaView } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      return presentSchema(await forms.versionOf(scope, await forms.getForm(scope, request.params.xmlFormId), 'draft'));
    });

    uploads.post(
      '/api/v1/projects/:projectId/forms/:xmlFormId/draft',
      { config: { permission: 'form.update' }, bodyLimit: formMaxBytes, schema: { tags, summary: 'Upload a new definition of this form as its draft.', params: FormParams, querystring: UploadQuery, response: { 201: UploadResult } } },
      async (request, reply) => {
        const scope = scopeOf(request, ctx);
        const form = await forms.getForm(scope, request.params.xmlFormId);
        const result = await forms.replaceDraft(scope, form, await readUpload(request, formMaxBytes, (request.query as Static<typeof UploadQuery>).fileName));
        return reply.status(201).send({ form: await presentForm(scope, await forms.getForm(scope, form.xml_form_id)), warnings: result.warnings });
      },
    );

    uploads.delete('/api/v1/projects/:projectId/forms/:xmlFormId/draft', { config: { permission: 'form.update' }, schema: { tags, summary: 'Discard the draft.', params: FormParams, response: { 204: Type.Null() } } }, async (request, reply) => {
      const scope = scopeOf(request, ctx);
      await forms.discardDraft(scope, await forms.getForm(scope, request.params.xmlFormId));
      return reply.status(204).send(null);
    });

    uploads.post('/api/v1/projects/:projectId/forms/:xmlFormId/draft/publish', { config: { permission: 'form.update' }, schema: { tags, summary: 'Publish the draft; its version must be new.', params: FormParams, querystring: PublishQuery, response: { 200: FormView } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      const form = await forms.getForm(scope, request.params.xmlFormId);
      await forms.publishDraft(scope, form, { acceptChanges: request.query.acceptChanges ?? false });
      return presentForm(scope, await forms.getForm(scope, form.xml_form_id));
    });

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId/media', { config: { permission: 'form.read' }, schema: { tags, summary: 'The form\'s media files, and those it names but lacks.', params: FormParams, response: { 200: Type.Array(MediaView) } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      const form = await forms.getForm(scope, request.params.xmlFormId);
      return (await presentForm(scope, form)).media;
    });

    uploads.put('/api/v1/projects/:projectId/forms/:xmlFormId/media/:name', { config: { permission: 'form.update' }, bodyLimit: mediaMaxBytes, schema: { tags, summary: 'Upload or replace a media file (the raw body).', params: MediaParams, response: { 200: MediaView } } }, async (request) => {
      const scope = scopeOf(request, ctx);
      const form = await forms.getForm(scope, request.params.xmlFormId);
      const contentType = request.headers['content-type']?.split(';')[0]?.trim() || 'application/octet-stream';
      const stored = await forms.putMedia(scope, form, request.params.name, request.body as Readable, contentType, mediaMaxBytes);
      return { name: stored.name, md5: stored.md5, size: stored.size, contentType: stored.contentType, uploaded: true };
    });

    uploads.get('/api/v1/projects/:projectId/forms/:xmlFormId/media/:name', { config: { permission: 'form.read' }, schema: { tags, summary: 'Download a media file.', params: MediaParams, response: binary } }, async (request, reply) => {
      const scope = scopeOf(request, ctx);
      const media = await forms.getMedia(scope, await forms.getForm(scope, request.params.xmlFormId), request.params.name);
      return sendBlob(scope, reply, media.blob_id, media.content_type, media.name);
    });

    uploads.delete('/api/v1/projects/:projectId/forms/:xmlFormId/media/:name', { config: { permission: 'form.update' }, schema: { tags, summary: 'Delete a media file.', params: MediaParams, response: { 204: Type.Null() } } }, async (request, reply) => {
      const scope = scopeOf(request, ctx);
      await forms.removeMedia(scope, await forms.getForm(scope, request.params.xmlFormId), request.params.name);
      return reply.status(204).send(null);
    });
  });
}
