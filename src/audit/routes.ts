import { Readable } from 'node:stream';
import { Type, type Static } from 'typebox';
import { projectAccessOf } from '../access/project-access.js';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { recordAudit, recordDataRead } from './record.js';
import { auditSource } from './request-source.js';
import { startAuditAnchor } from './anchor.js';
import type { AuditFilter } from './queries.js';
import { auditCsv, listAuditEntries } from './service.js';

const IsoTime = Type.String({ pattern: '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d(:\\d\\d(\\.\\d{1,3})?)?Z$', description: 'UTC time, e.g. 2026-05-01T00:00:00Z' });

const FilterQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z0-9_]*)*$', maxLength: 100, description: 'An action, or a prefix ending in "." such as "project."' })),
    actorId: Type.Optional(Type.Integer({ minimum: 1 })),
    from: Type.Optional(IsoTime),
    to: Type.Optional(IsoTime),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only entries older than this id (the previous page’s nextBefore).' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);
type FilterQuery = Static<typeof FilterQuery>;

const Entry = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.Object({ kind: Type.String(), id: Type.Union([Type.Integer(), Type.Null()]), label: Type.Union([Type.String(), Type.Null()]) }),
  address: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  resource: Type.Union([Type.Object({ type: Type.String(), id: Type.String() }), Type.Null()]),
  projectId: Type.Union([Type.Integer(), Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  hash: Type.String(),
});
const Page = Type.Object({ entries: Type.Array(Entry), nextBefore: Type.Union([Type.Integer(), Type.Null()]) });
const ProjectParams = Type.Object({ projectId: Type.Integer({ minimum: 1 }) });

function toFilter(query: FilterQuery, projectId?: number): AuditFilter {
  return {
    ...(projectId !== undefined ? { projectId } : {}),
    ...(query.action !== undefined ? { action: query.action } : {}),
    ...(query.actorId !== undefined ? { actorId: query.actorId } : {}),
    ...(query.from !== undefined ? { from: utcInstant(query.from, 'from') } : {}),
    ...(query.to !== undefined ? { to: utcInstant(query.to, 'to') } : {}),
    ...(query.before !== undefined ? { beforeId: query.before } : {}),
  };
}

/** The stored form of a time the pattern let through, refused when it names no real instant (a 13th month). */
function utcInstant(text: string, name: string): string {
  const time = new Date(text);
  if (Number.isNaN(time.getTime())) throw new AppError('request.invalid', `${name} is not a real time; give it as 2026-05-01T00:00:00Z.`);
  return time.toISOString();
}

/** A project's log for its owners and managers; the instance's log for administrators. Reading either is itself audited. */
export function auditRoutes(app: App, ctx: AppContext): void {
  const db = ctx.database.db;
  // The head is anchored in the log for as long as the server runs (see anchor.ts).
  let stopAnchor = () => {};
  app.addHook('onReady', async () => {
    stopAnchor = startAuditAnchor(db, app.log, ctx.config.auditAnchorIntervalMs);
  });
  app.addHook('onClose', async () => stopAnchor());
  const csvHeaders = (name: string) => ({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}.csv"` });

  app.get(
    '/api/v1/projects/:projectId/audit',
    {
      config: { permission: 'audit.read' },
      schema: { tags: ['audit'], summary: "The project's audit log, newest first, with filters.", params: ProjectParams, querystring: FilterQuery, response: { 200: Page } },
    },
    async (request) => {
      const { projectId } = projectAccessOf(request);
      await recordDataRead(db, { ...auditSource(request), action: 'audit.read', projectId, resource: { type: 'project', id: projectId } }, ctx.config.auditReadGroupMs);
      return listAuditEntries(db, toFilter(request.query, projectId), request.query.limit ?? 100, 'project');
    },
  );

  app.get(
    '/api/v1/projects/:projectId/audit.csv',
    {
      config: { permission: 'audit.read' },
      schema: { tags: ['audit'], summary: "The project's audit log as CSV.", params: ProjectParams, querystring: FilterQuery },
    },
    async (request, reply) => {
      const { projectId } = projectAccessOf(request);
      const filter = toFilter(request.query, projectId);
      await recordAudit(db, { ...auditSource(request), action: 'audit.export', projectId, resource: { type: 'project', id: projectId }, details: { filter } });
      return reply.headers(csvHeaders(`audit-project-${projectId}`)).send(Readable.from(auditCsv(db, filter, 'project')));
    },
  );

  app.get(
    '/api/v1/admin/audit',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['admin', 'audit'],
        summary: "The instance's audit log (sign-ins, account changes, admin actions; for project entries only who did what, when).",
        querystring: FilterQuery,
        response: { 200: Page },
      },
    },
    async (request) => {
      await recordDataRead(db, { ...auditSource(request), action: 'audit.read', resource: { type: 'instance', id: 'audit' } }, ctx.config.auditReadGroupMs);
      return listAuditEntries(db, toFilter(request.query), request.query.limit ?? 100, 'instance');
    },
  );

  app.get(
    '/api/v1/admin/audit.csv',
    {
      config: { permission: 'admin' },
      schema: { tags: ['admin', 'audit'], summary: "The instance's audit log as CSV.", querystring: FilterQuery },
    },
    async (request, reply) => {
      const filter = toFilter(request.query);
      await recordAudit(db, { ...auditSource(request), action: 'audit.export', resource: { type: 'instance', id: 'audit' }, details: { filter } });
      return reply.headers(csvHeaders('audit-instance')).send(Readable.from(auditCsv(db, filter, 'instance')));
    },
  );
}
