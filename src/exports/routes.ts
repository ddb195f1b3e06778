import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { projectAccessOf } from '../access/index.js';
import { JobSchema } from '../jobs/index.js';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { contentDisposition } from '../submissions/byte-range.js';
import type { DataScope } from '../submissions/index.js';
import { ExportFormatSchema, ExportOptionsSchema } from './options.js';
import { createSetting, deleteSetting, getSetting, listSettings, savedSetting, SettingBody, SettingView } from './saved-settings.js';
import { auditExport, prepareExport, type PreparedExport } from './service.js';
import { ExportCache, type ExportFile } from './sync-cache.js';
import { ExportJobBody, exportJobFile, ownExportJob, presentExportJob, queueExportJob } from './job.js';

const FormParams = Type.Object({ projectId: Type.String({ pattern: '^[0-9]+$' }), xmlFormId: Type.String({ minLength: 1, maxLength: 255 }) });
const DownloadParams = Type.Object({ ...FormParams.properties, format: ExportFormatSchema });
const SettingParams = Type.Object({ ...FormParams.properties, settingId: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }) });
const SettingDataParams = Type.Object({ ...SettingParams.properties, format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')]) });
const JobParams = Type.Object({ projectId: Type.String({ pattern: '^[0-9]+$' }), jobId: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }) });
const binary = { 200: { type: 'string', format: 'binary' } } as const;

const DecryptingExportBody = Type.Object(
  {
    passphrase: Type.String({
      minLength: 1,
      maxLength: 1024,
      description: "The passphrase of the project's key (its owner) or of your own key (a member holding a copy of the project's key). Used in memory for this export only; never stored or logged.",
    }),
    options: Type.Optional(ExportOptionsSchema),
  },
  { additionalProperties: false },
);
const NoQuery = Type.Object({}, { additionalProperties: false });

/**
 * A passphrase in the address is refused before anything else is looked at: addresses are kept in
 * logs, browser history and proxies (this server's log redacts it, but cannot speak for others).
 */
async function refusePassphraseInUrl(request: FastifyRequest): Promise<void> {
  const query = request.query as Record<string, unknown> | null;
  if (query && Object.keys(query).some((name) => name.toLowerCase() === 'passphrase')) throw new AppError('export.passphrase_in_url');
}

/** Export jobs are run later, from what is stored in the jobs table, and a passphrase is never stored. */
async function refusePassphraseInJob(request: FastifyRequest): Promise<void> {
  await refusePassphraseInUrl(request);
  const body = request.body as Record<string, unknown> | null;
  if (body && typeof body === 'object' && 'passphrase' in body) throw new AppError('export.decrypt_direct_only');
}

export function scopeOf(request: FastifyRequest, ctx: AppContext): DataScope {
  return { ctx, access: projectAccessOf(request), source: auditSource(request) };
}

/** The response headers of an export; the note (encrypted submissions) travels in a header too. */
function exportHeaders(reply: FastifyReply, prepared: ExportFile): FastifyReply {
  reply.type(prepared.contentType).header('content-disposition', contentDisposition(prepared.fileName));
  if (prepared.note !== null) reply.header('fieldkeep-export-note', prepared.note);
  return reply;
}

/** Streams a prepared export as the response body; a failure mid-way ends the response early and is logged. */
export function streamExport(request: FastifyRequest, reply: FastifyReply, prepared: PreparedExport) {
  const body = new PassThrough();
  prepared.write(body).catch((error: Error) => {
    if (error.name !== 'ExportAborted') request.log.error({ err: error }, 'export failed while streaming');
  });
  return exportHeaders(reply, prepared).header('cache-control', 'no-store').send(body);
}

/**
 * Direct exports: any size, streamed from the database as it is read (no Content-Length). The
 * verb is `export.create`, not `submission.read`: an export is its own permission, which every
 * role that reads submissions has today, and the caller's row filter applies as it does to reads.
 */
export function exportRoutes(app: App, ctx: AppContext): void {
  const tags = ['exports'];
  app.get(
    '/api/v1/projects/:projectId/forms/:xmlFormId/export.:format',
    {
      config: { permission: 'export.create' },
      preValidation: refusePassphraseInUrl,
      schema: {
        tags,
        summary: "Download the form's submissions as CSV (a ZIP of CSVs when the form has repeats), XLSX, GeoJSON, or a ZIP with the data and media files.",
        params: DownloadParams,
        querystring: ExportOptionsSchema,
        response: binary,
      },
    },
    async (request, reply) => {
      const prepared = await prepareExport(scopeOf(request, ctx), request.params.xmlFormId, request.params.format, request.query, 'download');
      return streamExport(request, reply, prepared);
    },
  );

  app.post(
    '/api/v1/projects/:projectId/forms/:xmlFormId/export.:format',
    {
      config: { permission: 'export.create' },
      preValidation: refusePassphraseInUrl,
      schema: {
        tags,
        summary:
          "Download the form's submissions decrypted on the server (ODK Central's way), if the project allows it: the passphrase in the JSON body (never in the URL), the options beside it. Direct download only; the columns _signature and _decryption_error say how each encrypted submission fared.",
        params: DownloadParams,
        querystring: NoQuery,
        body: DecryptingExportBody,
        response: binary,
      },
    },
    async (request, reply) => {
      const { passphrase, options = {} } = request.body;
      // The request lives as long as the response streams; it need not hold the passphrase meanwhile.
      request.body.passphrase = '';
      const prepared = await prepareExport(scopeOf(request, ctx), request.params.xmlFormId, request.params.format, options, 'download', { passphrase });
      return streamExport(request, reply, prepared);
    },
  );

  const settings = '/api/v1/projects/:projectId/forms/:xmlFormId/exports/settings';
  app.get(settings, { config: { permission: 'export.create' }, schema: { tags, summary: "The form's saved export settings.", params: FormParams, response: { 200: Type.Array(SettingView) } } }, async (request) =>
    listSettings(scopeOf(request, ctx), request.params.xmlFormId),
  );
  app.post(
    settings,
    { config: { permission: 'export.create' }, schema: { tags, summary: 'Save export options under a name, with stable CSV and XLSX URLs for Excel and Power BI.', params: FormParams, body: SettingBody, response: { 201: SettingView } } },
    async (request, reply) => reply.status(201).send(await createSetting(scopeOf(request, ctx), request.params.xmlFormId, request.body)),
  );
  app.get(`${settings}/:settingId`, { config: { permission: 'export.create' }, schema: { tags, summary: 'One saved export setting.', params: SettingParams, response: { 200: SettingView } } }, async (request) =>
    getSetting(scopeOf(request, ctx), request.params.xmlFormId, Number(request.params.settingId)),
  );
  app.delete(`${settings}/:settingId`, { config: { permission: 'export.create' }, schema: { tags, summary: 'Delete a saved export setting; its URLs stop working.', params: SettingParams, response: { 204: Type.Null() } } }, async (request, reply) => {
    await deleteSetting(scopeOf(request, ctx), request.params.xmlFormId, Number(request.params.settingId));
    return reply.status(204).send(null);
  });

  const cache = new ExportCache(ctx.config.dataDir, ctx.config.exports.cacheSeconds * 1000);
  app.addHook('onClose', () => cache.close());
  app.get(
    `${settings}/:settingId/data.:format`,
    {
      config: { permission: 'export.create' },
      schema: {
        tags,
        summary: "The current data under a saved setting, for Excel's and Power BI's web connectors (Basic or Token auth): data.csv is the main table, data.xlsx has a sheet per repeat too. The same file is served again for a short while (FIELDKEEP_EXPORT_CACHE_SECONDS).",
        params: SettingDataParams,
        response: binary,
      },
    },
    async (request, reply) => {
      const scope = scopeOf(request, ctx);
      const { xmlFormId, format } = request.params;
      const setting = await savedSetting(scope, xmlFormId, Number(request.params.settingId));
      const actor = request.actor;
      const who = actor.kind === 'user' ? `user:${actor.userId}` : actor.kind;
      const key = JSON.stringify([scope.access.projectId, setting.id, setting.updatedAt, format, who, scope.access.rowFilter, scope.access.emergencyGrants.length > 0]);
      const served = await cache.serve(key, () => prepareExport(scope, xmlFormId, format, setting.options, 'setting', { mainTableOnly: format === 'csv' }), (error) => {
        if (error.name !== 'ExportAborted') request.log.error({ err: error }, 'export failed while streaming');
      });
      if (served.cached) await auditExport(scope, xmlFormId, format, 'setting');
      return exportHeaders(reply, served.file).header('cache-control', `private, max-age=${ctx.config.exports.cacheSeconds}`).send(served.body);
    },
  );

  const jobUrl = (projectId: number, jobId: number) => `${ctx.config.publicUrl}/api/v1/projects/${projectId}/exports/jobs/${jobId}`;
  app.post(
    '/api/v1/projects/:projectId/forms/:xmlFormId/exports/jobs',
    {
      config: { permission: 'export.create' },
      preValidation: refusePassphraseInJob,
      schema: {
        tags,
        summary: 'Queue an export job; poll it for progress, then download its file until it expires (FIELDKEEP_EXPORT_RETENTION_HOURS). Jobs never decrypt: decrypted exports are direct downloads.',
        params: FormParams,
        body: ExportJobBody,
        response: { 202: JobSchema },
      },
    },
    async (request, reply) => {
      const scope = scopeOf(request, ctx);
      const job = await queueExportJob(scope, request.params.xmlFormId, request.body);
      return reply.status(202).send(presentExportJob(job, `${jobUrl(job.project_id!, job.id)}/file`));
    },
  );
  app.get(
    '/api/v1/projects/:projectId/exports/jobs/:jobId',
    { config: { permission: 'export.create' }, schema: { tags, summary: 'One of your export jobs: its state, progress and, once done, its file.', params: JobParams, response: { 200: JobSchema } } },
    async (request) => {
      const scope = scopeOf(request, ctx);
      const job = await ownExportJob(scope, Number(request.params.jobId));
      return presentExportJob(job, `${jobUrl(scope.access.projectId, job.id)}/file`);
    },
  );
  app.get(
    '/api/v1/projects/:projectId/exports/jobs/:jobId/file',
    { config: { permission: 'export.create' }, schema: { tags, summary: 'The file one of your export jobs produced.', params: JobParams, response: binary } },
    async (request, reply) => {
      const file = await exportJobFile(scopeOf(request, ctx), Number(request.params.jobId));
      return exportHeaders(reply, file).header('content-length', file.size).header('cache-control', 'no-store').send(await ctx.blobs.get(file.blobId));
    },
  );
}
