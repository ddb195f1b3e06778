import { Type } from 'typebox';
import { projectAccessOf } from '../access/project-access.js';
import { RowFilterSchema } from '../access/row-filter.js';
import { assignableRoles, projectRoles } from '../access/verbs.js';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import type { FastifyRequest } from 'fastify';
import * as projects from './service.js';
import * as sharing from './sharing.js';
import { listAllProjects } from './queries.js';

const ProjectParams = Type.Object({ projectId: Type.Integer({ minimum: 1 }) });
const MemberParams = Type.Object({ projectId: Type.Integer({ minimum: 1 }), userId: Type.Integer({ minimum: 1 }) });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({ maxLength: 5000 });
const AssignableRole = Type.Enum(assignableRoles);
const Role = Type.Enum(projectRoles);
const Username = Type.String({ minLength: 1, maxLength: 150 });

const Summary = Type.Object({ id: Type.Integer(), name: Type.String(), description: Type.String(), archived: Type.Boolean(), createdAt: Type.String() });
const ProjectView = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  description: Type.String(),
  archived: Type.Boolean(),
  owner: Type.Object({ id: Type.Integer(), username: Type.String() }),
  yourRoles: Type.Array(Role),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  emergencyAccess: Type.Optional(
    Type.Array(Type.Object({ username: Type.String(), role: Type.String(), reason: Type.String(), grantedAt: Type.String(), expiresAt: Type.String() }), {
      description: 'Owners only: emergency access given from the command line, shown until it expires.',
    }),
  ),
  pendingTransfer: Type.Optional(Type.Union([Type.Object({ toUsername: Type.String(), offeredAt: Type.String() }), Type.Null()])),
});
const Member = Type.Object({
  userId: Type.Integer(),
  username: Type.String(),
  role: Role,
  rowFilter: Type.Union([RowFilterSchema, Type.Null()]),
  since: Type.String(),
});
const Done = Type.Object({ ok: Type.Literal(true) });

function signedInUser(request: FastifyRequest): number {
  if (request.actor.kind !== 'user') throw new AppError('auth.required');
  return request.actor.userId;
}

/** Projects, their members, and ownership transfer: thin routes over `service.ts` and `sharing.ts`. */
export function projectRoutes(app: App, ctx: AppContext): void {
  const db = ctx.database.db;
  const base = '/api/v1/projects';

  app.post(
    base,
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['projects'],
        summary: 'Create a project; you become its owner.',
        body: Type.Object({ name: Name, description: Type.Optional(Description) }, { additionalProperties: false }),
        response: { 201: Type.Object({ id: Type.Integer() }) },
      },
    },
    async (request, reply) => {
      const id = await projects.createProject(db, signedInUser(request), request.body, auditSource(request));
      return reply.status(201).send({ id });
    },
  );

  app.get(
    base,
    {
      config: { permission: 'authenticated' },
      schema: { tags: ['projects'], summary: 'The projects you have a role in.', response: { 200: Type.Object({ projects: Type.Array(Summary) }) } },
    },
    async (request) => ({ projects: await projects.listProjectsFor(db, signedInUser(request)) }),
  );

  app.get(
    `${base}/:projectId`,
    { config: { permission: 'project.read' }, schema: { tags: ['projects'], summary: 'One project.', params: ProjectParams, response: { 200: ProjectView } } },
    async (request) => projects.getProject(db, projectAccessOf(request)),
  );

  app.patch(
    `${base}/:projectId`,
    {
      config: { permission: 'project.update' },
      schema: {
        tags: ['projects'],
        summary: "Change a project's name, description or archived flag.",
        params: ProjectParams,
        body: Type.Object({ name: Type.Optional(Name), description: Type.Optional(Description), archived: Type.Optional(Type.Boolean()) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: Done },
      },
    },
    async (request) => {
      await projects.updateProject(db, projectAccessOf(request).projectId, request.body, auditSource(request));
      return { ok: true as const };
    },
  );

  app.delete(
    `${base}/:projectId`,
    { config: { permission: 'project.delete' }, schema: { tags: ['projects'], summary: 'Delete a project (owner only).', params: ProjectParams, response: { 200: Done } } },
    async (request) => {
      await projects.deleteProject(db, projectAccessOf(request).projectId, auditSource(request));
      return { ok: true as const };
    },
  );

  app.get(
    `${base}/:projectId/members`,
    {
      config: { permission: 'member.read' },
      schema: { tags: ['sharing'], summary: 'Who has which role (the owner first).', params: ProjectParams, response: { 200: Type.Object({ members: Type.Array(Member) }) } },
    },
    async (request) => ({ members: await sharing.listMembers(db, projectAccessOf(request).projectId) }),
  );

  app.post(
    `${base}/:projectId/members`,
    {
      config: { permission: 'project.share' },
      schema: {
        tags: ['sharing'],
        summary: 'Give someone a role, optionally limited by a row filter.',
        params: ProjectParams,
        body: Type.Object({ username: Username, role: AssignableRole, rowFilter: Type.Optional(Type.Union([RowFilterSchema, Type.Null()])) }, { additionalProperties: false }),
        response: { 201: Member },
      },
    },
    async (request, reply) => reply.status(201).send(await sharing.addMember(db, projectAccessOf(request).projectId, request.body, auditSource(request))),
  );

  app.patch(
    `${base}/:projectId/members/:userId`,
    {
      config: { permission: 'project.share' },
      schema: {
        tags: ['sharing'],
        summary: "Change someone's role or row filter (null removes the filter).",
        params: MemberParams,
        body: Type.Object({ role: Type.Optional(AssignableRole), rowFilter: Type.Optional(Type.Union([RowFilterSchema, Type.Null()])) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: Done },
      },
    },
    async (request) => {
      await sharing.changeMember(db, projectAccessOf(request).projectId, request.params.userId, request.body, auditSource(request));
      return { ok: true as const };
    },
  );

  app.delete(
    `${base}/:projectId/members/:userId`,
    { config: { permission: 'project.share' }, schema: { tags: ['sharing'], summary: "Remove someone's role.", params: MemberParams, response: { 200: Done } } },
    async (request) => {
      await sharing.removeMember(db, projectAccessOf(request).projectId, request.params.userId, auditSource(request));
      return { ok: true as const };
    },
  );

  app.post(
    `${base}/:projectId/ownership-transfer`,
    {
      config: { permission: 'project.transfer' },
      schema: {
        tags: ['sharing'],
        summary: 'Offer the project to someone; it changes hands when they accept.',
        params: ProjectParams,
        body: Type.Object({ username: Username }, { additionalProperties: false }),
        response: { 201: Done },
      },
    },
    async (request, reply) => {
      await sharing.offerOwnership(db, projectAccessOf(request).projectId, signedInUser(request), request.body.username, auditSource(request));
      return reply.status(201).send({ ok: true as const });
    },
  );

  app.delete(
    `${base}/:projectId/ownership-transfer`,
    { config: { permission: 'project.transfer' }, schema: { tags: ['sharing'], summary: 'Withdraw an ownership offer.', params: ProjectParams, response: { 200: Done } } },
    async (request) => {
      await sharing.cancelOwnershipOffer(db, projectAccessOf(request).projectId, auditSource(request));
      return { ok: true as const };
    },
  );

  app.post(
    `${base}/:projectId/ownership-transfer/accept`,
    {
      // Any signed-in person may ask; only the one the project was offered to succeeds.
      config: { permission: 'authenticated' },
      schema: { tags: ['sharing'], summary: 'Accept ownership offered to you.', params: ProjectParams, response: { 200: Done } },
    },
    async (request) => {
      await sharing.acceptOwnership(db, request.params.projectId, signedInUser(request), auditSource(request));
      return { ok: true as const };
    },
  );

  app.get(
    '/api/v1/admin/projects',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Every project with its owner: names only, never contents.',
        response: {
          200: Type.Object({
            projects: Type.Array(Type.Object({ id: Type.Integer(), name: Type.String(), archived: Type.Boolean(), createdAt: Type.String(), owner: Type.Object({ id: Type.Integer(), username: Type.String() }) })),
          }),
        },
      },
    },
    async () => ({
      projects: (await listAllProjects(db)).map((p) => ({
        id: Number(p.id),
        name: p.name,
        archived: p.archived === 1,
        createdAt: p.created_at,
        owner: { id: Number(p.owner_id), username: p.owner_username },
      })),
    }),
  );
}
