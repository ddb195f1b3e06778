import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { projectAccessOf } from '../access/index.js';
import { auditSource } from '../audit/index.js';
import type { FormScope } from '../forms/service.js';
import type { App, AppContext } from '../server/context.js';
import { formList, formXml, manifest, mediaFile, openRosaBase, type Download } from './discovery.js';
import { formListXml, manifestXml } from './documents.js';
import { openRosaPaths, registerOpenRosaRoutes } from './plugin.js';

const XmlFormId = Type.String({ minLength: 1, maxLength: 255 });
/** `token` is there on the `/key/<token>/…` variant of each path; the device hook has checked it. */
const ProjectParams = Type.Object({ projectId: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }), token: Type.Optional(Type.String()) });
const FormParams = Type.Object({ ...ProjectParams.properties, xmlFormId: XmlFormId });
const MediaParams = Type.Object({ ...FormParams.properties, name: Type.String({ minLength: 1, maxLength: 255 }) });
/** Collect adds `deviceID` to every request; other parameters are tolerated too (OpenRosa: servers must not require any). */
const FormListQuery = Type.Object({
  formID: Type.Optional(Type.String({ maxLength: 255, description: 'Only this form.' })),
  verbose: Type.Optional(Type.String({ description: '`true` adds descriptionText.' })),
  deviceID: Type.Optional(Type.String({ maxLength: 255, description: 'Sent by ODK Collect; advisory only.' })),
});
const xml = { 200: Type.String({ description: 'OpenRosa XML (text/xml)' }) };
const binary = { 200: { type: 'string', format: 'binary' } } as const;
const tags = ['openrosa'];
const TEXT_XML = 'text/xml; charset=utf-8';

function scopeOf(request: FastifyRequest, ctx: AppContext): FormScope {
  return { ctx, access: projectAccessOf(request), source: auditSource(request) };
}

function baseOf(request: FastifyRequest, ctx: AppContext): string {
  const params = request.params as Static<typeof ProjectParams>;
  return openRosaBase(ctx.config.publicUrl, Number(params.projectId), params.token);
}

function sendDownload(reply: FastifyReply, download: Download) {
  return reply.type(download.contentType).header('content-length', String(download.size)).send(download.content);
}

/**
 * OpenRosa form discovery (formList, manifest, form and media download), each at both paths:
 * `/projects/:projectId/…` for people (Basic or a token header) and `/key/:token/projects/:projectId/…`
 * for phones with a device token. Fastify answers HEAD on each from the GET handler, which is what
 * Enketo's HEAD on formList (its authentication test) needs.
 */
export function discoveryRoutes(app: App, ctx: AppContext): void {
  registerOpenRosaRoutes(app, ctx, (scope) => {
    for (const path of openRosaPaths('/projects/:projectId/formList')) {
      scope.get(
        path,
        { config: { permission: 'form.read' }, schema: { tags, summary: 'OpenRosa form list: open forms with a published version.', params: ProjectParams, querystring: FormListQuery, response: xml } },
        async (request, reply) => {
          const entries = await formList(scopeOf(request, ctx), baseOf(request, ctx), request.query.formID);
          return reply.type(TEXT_XML).send(formListXml(entries, request.query.verbose === 'true'));
        },
      );
    }
    for (const path of openRosaPaths('/projects/:projectId/forms/:xmlFormId/manifest')) {
      scope.get(
        path,
        { config: { permission: 'form.read' }, schema: { tags, summary: "OpenRosa manifest: the published form's uploaded media files.", params: FormParams, response: xml } },
        async (request, reply) => reply.type(TEXT_XML).send(manifestXml(await manifest(scopeOf(request, ctx), baseOf(request, ctx), request.params.xmlFormId))),
      );
    }
    for (const path of openRosaPaths('/projects/:projectId/forms/:xmlFormId/form.xml')) {
      scope.get(
        path,
        { config: { permission: 'form.read' }, schema: { tags, summary: 'The published XForm, the exact bytes the form list hashes.', params: FormParams, response: binary } },
        async (request, reply) => sendDownload(reply, await formXml(scopeOf(request, ctx), request.params.xmlFormId)),
      );
    }
    for (const path of openRosaPaths('/projects/:projectId/forms/:xmlFormId/media/:name')) {
      scope.get(
        path,
        { config: { permission: 'form.read' }, schema: { tags, summary: 'A media file of the published form.', params: MediaParams, response: binary } },
        async (request, reply) => sendDownload(reply, await mediaFile(scopeOf(request, ctx), request.params.xmlFormId, request.params.name)),
      );
    }
  });
}
