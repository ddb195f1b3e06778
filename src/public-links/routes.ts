import { Type } from 'typebox';
import { projectAccessOf } from '../access/index.js';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { MAX_PUBLIC_LINK_DAYS, MAX_PUBLIC_LINK_LABEL, createPublicLink, listPublicLinks, revokePublicLink } from './service.js';

const FormParams = Type.Object({ projectId: Type.Integer({ minimum: 1 }), xmlFormId: Type.String({ minLength: 1, maxLength: 255 }) });
const LinkParams = Type.Object({ ...FormParams.properties, linkId: Type.Integer({ minimum: 1 }) });

const PublicLinkView = Type.Object({
  id: Type.Integer(),
  label: Type.String(),
  formId: Type.String(),
  once: Type.Boolean(),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked'), Type.Literal('used')]),
  createdAt: Type.String(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  usedAt: Type.Union([Type.String(), Type.Null()]),
});
const NewPublicLink = Type.Object({
  link: PublicLinkView,
  token: Type.String({ description: 'The link token (fk_pub_…). Shown this once; only its hash is kept.' }),
  serverUrl: Type.String({ description: 'The OpenRosa server URL for Collect or a web-form client; it contains the token.' }),
  fillUrl: Type.String({ description: 'The web page where anyone holding the link fills in the form in a browser; the token is in its fragment.' }),
});
const CreateBody = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: MAX_PUBLIC_LINK_LABEL, description: 'Where the link is handed out, e.g. "Market-day poster".' }),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PUBLIC_LINK_DAYS })),
    once: Type.Optional(Type.Boolean({ description: 'Single-use: the link stops working after its first submission.' })),
  },
  { additionalProperties: false },
);

/**
 * Public links to one form, managed by whoever may share the project (`project.share`): a link
 * lets people outside the project in, the same decision as adding a member or a device, and not
 * a change to the form itself (`form.update`).
 */
export function publicLinkRoutes(app: App, ctx: AppContext): void {
  const db = ctx.database.db;
  const base = '/api/v1/projects/:projectId/forms/:xmlFormId/public-links';
  const tags = ['public links'];

  app.get(
    base,
    { config: { permission: 'project.share' }, schema: { tags, summary: "The form's public links, revoked, expired and used ones included.", params: FormParams, response: { 200: Type.Array(PublicLinkView) } } },
    async (request) => listPublicLinks(db, projectAccessOf(request), request.params.xmlFormId),
  );

  app.post(
    base,
    {
      config: { permission: 'project.share' },
      schema: { tags, summary: 'Create a public link: anonymous submission to this form, optionally single-use.', params: FormParams, body: CreateBody, response: { 201: NewPublicLink } },
    },
    async (request, reply) => {
      const created = await createPublicLink(db, ctx.config.publicUrl, projectAccessOf(request), request.params.xmlFormId, request.body, auditSource(request));
      return reply.status(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.delete(
    `${base}/:linkId`,
    { config: { permission: 'project.share' }, schema: { tags, summary: 'Revoke a public link: it stops working at once.', params: LinkParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await revokePublicLink(db, projectAccessOf(request), request.params.xmlFormId, request.params.linkId, auditSource(request));
      return reply.status(204).send(null);
    },
  );
}
