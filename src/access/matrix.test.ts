import { Type } from 'typebox';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { loadConfig } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { buildServer, domainRoutes } from '../server/app.js';
import { createLogger } from '../server/logger.js';
import type { RegisteredRoute } from '../server/route-registry.js';
import { addMember, createProject, grantEmergencyAccess } from '../projects/index.js';
import { createDevice } from '../devices/index.js';
import { createPublicLink } from '../public-links/index.js';
import { routePermissions, type RoutePermission } from './permissions.js';
import { isProjectVerb, projectVerbs, roleVerbs, type ProjectRole } from './verbs.js';

/**
 * The role × verb × route matrix: every registered route, called by every kind of caller, must
 * allow or refuse exactly as its declared permission and the role table say. Refusals are
 * recognised by their codes; anything else (success, a validation error, a business conflict)
 * means the caller got past authorisation.
 */
/**
 * The role table, written out independently of `verbs.ts` so that a change to either shows here.
 * Columns: owner, manager, editor, viewer, reviewer, collector.
 */
const grid = `
  project.read       x x x x x x
  project.update     x x . . . .
  project.share      x x . . . .
  project.transfer   x . . . . .
  project.delete     x . . . . .
  member.read        x x . . . .
  form.read          x x x x x x
  form.create        x x . . . .
  form.update        x x . . . .
  form.delete        x x . . . .
  submission.create  x x x . . x
  submission.read    x x x x x .
  submission.update  x x x . . .
  submission.review  x x x . x .
  submission.delete  x x . . . .
  export.create      x x x x x .
  audit.read         x x . . . .
`;
const gridRoles: ProjectRole[] = ['owner', 'manager', 'editor', 'viewer', 'reviewer', 'collector'];
const allowedByGrid = new Map<string, Set<ProjectRole>>(
  grid
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([verb, ...marks]) => [verb!, new Set(gridRoles.filter((_, i) => marks[i] === 'x'))]),
);

/** `public_link`: whoever holds a public link to one form; it is no person, so it has no account headers. */
type Person = 'outsider' | 'admin' | 'admin_emergency' | 'admin_expired' | ProjectRole;
type Caller = 'anonymous' | 'public_link' | Person;
const callers: Caller[] = ['anonymous', 'outsider', 'admin', 'admin_emergency', 'admin_expired', 'owner', 'manager', 'editor', 'viewer', 'reviewer', 'collector', 'public_link'];
const memberRoles = ['manager', 'editor', 'viewer', 'reviewer', 'collector'] as const;
/** What a public link may do, written out independently of `verbs.ts`. */
const publicLinkGrid = new Set(['form.read', 'submission.create']);

type Outcome = 'allowed' | 'auth.required' | 'auth.invalid_token' | 'access.denied' | 'access.admin_without_grant' | 'project.not_found';

/**
 * A public link works only as the token in a `/key/:token/…` path, and there only for its own
 * form's discovery and submission. Anywhere else, sent as a Bearer token, it is no credential.
 */
function expectedForPublicLink(permission: RoutePermission, route: RegisteredRoute): Outcome {
  if (!isDeviceKeyRoute(route)) return 'auth.invalid_token';
  return publicLinkGrid.has(permission) ? 'allowed' : 'access.denied';
}

function expected(permission: RoutePermission, caller: Exclude<Caller, 'public_link'>): Outcome {
  if (permission === 'public') return 'allowed';
  if (caller === 'anonymous') return 'auth.required';
  if (permission === 'authenticated') return 'allowed';
  const isAdmin = caller.startsWith('admin');
  if (permission === 'admin') return isAdmin ? 'allowed' : 'access.denied';
  const role: ProjectRole | null = caller === 'admin_emergency' ? 'viewer' : caller === 'admin' || caller === 'admin_expired' || caller === 'outsider' ? null : (caller as ProjectRole);
  if (role === null) return isAdmin ? 'access.admin_without_grant' : 'project.not_found';
  return allowedByGrid.get(permission)?.has(role) ? 'allowed' : 'access.denied';
}

/**
 * On a route reached through a device token in its path (`/key/:token/…`, the OpenRosa routes for
 * phones), the matrix puts a token of the project's own device there. That token is the only
 * credential such a route considers, so whoever calls, a collector is asking — except the
 * public-link caller, whose own link token goes in the path instead.
 */
const isDeviceKeyRoute = (route: RegisteredRoute) => route.url.startsWith('/key/:token/');

/** The refusal code: in a problem+json body, or (OpenRosa routes answer XML) in `X-Fieldkeep-Error`. */
function observed(code: string | undefined): Outcome {
  return code === 'auth.required' || code === 'auth.invalid_token' || code === 'access.denied' || code === 'access.admin_without_grant' || code === 'project.not_found'
    ? code
    : 'allowed';
}

/** Real ids where the path names a project, a member or a form (when given); a harmless placeholder elsewhere. */
function pathFor(route: RegisteredRoute, projectId: number, memberId: number, pathToken = '', xmlFormId = '999999'): string {
  return route.url
    .replace(':token', pathToken)
    .replace(':xmlFormId', xmlFormId)
    .replace(':projectId', String(projectId))
    .replace(':userId', String(memberId))
    .replace(/:[A-Za-z_]+/g, '999999')
    .replace('*', 'index.html');
}

it('uses the role table the policy uses', () => {
  expect([...allowedByGrid.keys()].sort()).toEqual([...projectVerbs].sort());
  for (const role of gridRoles) {
    expect([...roleVerbs[role]].sort(), role).toEqual([...allowedByGrid].filter(([, roles]) => roles.has(role)).map(([verb]) => verb).sort());
  }
});

const matrixForm = (formId: string) => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">
 <h:head><h:title>${formId}</h:title><model><instance><data id="${formId}" version="1"><n/><meta><instanceID/></meta></data></instance></model></h:head>
 <h:body><input ref="/data/n"><label>N</label></input></h:body>
</h:html>`;

describeEachDatabase('the role × verb × route matrix', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const people = {} as Record<Person, TestUser>;
  const routes = () => env().server.registry.routes;
  /** A live public link of another project: what the public-link caller presents off the token paths. */
  let strayLinkToken: string;

  beforeAll(async () => {
    for (const caller of callers) {
      if (caller !== 'anonymous' && caller !== 'public_link') people[caller] = await createTestUser(env(), `m_${caller}`, { admin: caller.startsWith('admin') });
    }
    strayLinkToken = (await publicLinkIn(await freshProject(), 'stray')).token;
  });

  async function publishForm(projectId: number, formId: string): Promise<void> {
    const upload = await fetch(`${env().url}/api/v1/projects/${projectId}/forms?publish=true`, {
      method: 'POST',
      headers: { ...people.owner.headers, 'content-type': 'application/xml' },
      body: matrixForm(formId),
    });
    expect(upload.status).toBe(201);
  }

  /** Publishes a form in the project and makes a public link to it. */
  async function publicLinkIn(projectId: number, formId: string): Promise<{ token: string; formId: string }> {
    await publishForm(projectId, formId);
    const access = { projectId, onlyForm: null };
    const { token } = await createPublicLink(env().server.database.db, env().config.publicUrl, access, formId, { label: 'matrix' }, { actorLabel: 'matrix set-up' });
    return { token, formId };
  }

  /** A fresh project with one person in each role, so a call that changes it affects no other case. */
  async function freshProject(): Promise<number> {
    const db = env().server.database.db;
    const by = { actorLabel: 'matrix set-up' };
    const id = await createProject(db, people.owner.id, { name: 'matrix' }, by);
    for (const role of memberRoles) await addMember(db, id, { username: people[role].username, role }, by);
    await grantEmergencyAccess(db, { projectId: id, username: people.admin_emergency.username, role: 'viewer', reason: 'matrix', hours: 1 });
    await grantEmergencyAccess(db, { projectId: id, username: people.admin_expired.username, role: 'viewer', reason: 'matrix', hours: 1 }, new Date(Date.now() - 2 * 3_600_000));
    return id;
  }

  /**
   * What happened to `caller` on `route`. A HEAD answer has no body to carry a code, so HEAD is
   * held to answering with the same status as GET on the same path, and takes GET's outcome.
   */
  async function callAs(caller: Caller, route: RegisteredRoute, projectId: number): Promise<Outcome | string> {
    const path = await pathAs(caller, route, projectId);
    if (route.method !== 'HEAD') return (await send(caller, route.method, path)).outcome;
    const [head, get] = [await send(caller, 'HEAD', path), await send(caller, 'GET', path)];
    return head.status === get.status ? get.outcome : `HEAD ${head.status} but GET ${get.status}`;
  }

  /** On a token path: a public link to a real form of the project for the public-link caller, else a device's token. */
  async function pathAs(caller: Caller, route: RegisteredRoute, projectId: number): Promise<string> {
    if (!isDeviceKeyRoute(route)) return pathFor(route, projectId, people.collector.id);
    if (caller === 'public_link') {
      const link = await publicLinkIn(projectId, 'linked');
      return pathFor(route, projectId, people.collector.id, link.token, link.formId);
    }
    const device = await createDevice(env().server.database.db, env().config.publicUrl, projectId, { label: 'matrix' }, { actorLabel: 'matrix set-up' });
    return pathFor(route, projectId, people.collector.id, device.token);
  }

  function headersOf(caller: Caller): Record<string, string> {
    if (caller === 'anonymous') return {};
    if (caller === 'public_link') return { authorization: `Bearer ${strayLinkToken}` };
    return { ...people[caller].headers };
  }

  async function send(caller: Caller, method: string, path: string): Promise<{ status: number; outcome: Outcome }> {
    const headers = headersOf(caller);
    const hasBody = ['POST', 'PUT', 'PATCH'].includes(method);
    if (hasBody) headers['content-type'] = 'application/json';
    const response = await fetch(`${env().url}${path}`, { method, headers, ...(hasBody ? { body: '{}' } : {}) });
    const text = await response.text();
    const body = /json/.test(response.headers.get('content-type') ?? '') && text ? (JSON.parse(text) as { code?: string }) : undefined;
    return { status: response.status, outcome: observed(body?.code ?? response.headers.get('x-fieldkeep-error') ?? undefined) };
  }

  it('every route declares a known permission, and every project verb route names its project', () => {
    expect(routes().length).toBeGreaterThan(10);
    for (const route of routes()) {
      const permission = route.options.config?.permission;
      expect(permission, `${route.method} ${route.url}`).toBeDefined();
      expect(routePermissions, `${route.method} ${route.url}`).toContain(permission);
      if (isProjectVerb(permission!)) expect(route.url, `${route.method} ${route.url}`).toContain(':projectId');
    }
  });

  it('gives every caller exactly the expected allow or refusal on every route', async () => {
    const mismatches: string[] = [];
    let cells = 0;
    for (const route of routes()) {
      const permission = route.options.config!.permission!;
      for (const caller of callers) {
        const projectId = isProjectVerb(permission) || route.url.includes(':projectId') ? await freshProject() : 0;
        const want = caller === 'public_link' ? expectedForPublicLink(permission, route) : expected(permission, isDeviceKeyRoute(route) ? 'collector' : caller);
        const got = await callAs(caller, route, projectId);
        if (got !== want) {
          mismatches.push(`${route.method} ${route.url} as ${caller} (${permission}): expected ${want}, got ${got}`);
        }
        cells += 1;
      }
    }
    expect(mismatches).toEqual([]);
    expect(cells).toBe(routes().length * callers.length);
    // Every cell is a fresh project and one or two real requests: time grows with the route table.
  }, 300_000);

  it('shows a public link no other form: on every token path that names a form, another form is not found', async () => {
    const projectId = await freshProject();
    const link = await publicLinkIn(projectId, 'mine');
    await publishForm(projectId, 'theirs');
    const formPaths = routes().filter((r) => isDeviceKeyRoute(r) && r.url.includes(':xmlFormId'));
    expect(formPaths.length).toBeGreaterThanOrEqual(6);
    for (const route of formPaths) {
      const own = await fetch(`${env().url}${pathFor(route, projectId, 0, link.token, 'mine')}`, { method: route.method });
      expect(own.headers.get('x-fieldkeep-error'), `${route.method} ${route.url} (own form)`).not.toBe('form.not_found');
      const other = await fetch(`${env().url}${pathFor(route, projectId, 0, link.token, 'theirs')}`, { method: route.method });
      expect([other.status, other.headers.get('x-fieldkeep-error')], `${route.method} ${route.url} (another form)`).toEqual([404, 'form.not_found']);
    }
    const list = await (await fetch(`${env().url}/key/${link.token}/projects/${projectId}/formList`)).text();
    expect(list).toContain('<formID>mine</formID>');
    expect(list).not.toContain('theirs');
  });

  it('refuses an admin without a role every project route, and audits each refusal', async () => {
    const projectRoutes = routes().filter((r) => isProjectVerb(r.options.config!.permission!) && !isDeviceKeyRoute(r));
    expect(projectRoutes.length).toBeGreaterThan(5);
    const db = env().server.database.db;
    const projectId = await freshProject();
    for (const route of projectRoutes) {
      const before = await db.selectFrom('audit_log').select('id').where('action', '=', 'access.admin_refused').execute();
      const answer = await send('admin', route.method, pathFor(route, projectId, people.collector.id));
      expect(answer.status, `${route.method} ${route.url}`).toBe(403);
      if (route.method !== 'HEAD') expect(answer.outcome, `${route.method} ${route.url}`).toBe('access.admin_without_grant');
      const entries = await db.selectFrom('audit_log').selectAll().where('action', '=', 'access.admin_refused').orderBy('id').execute();
      expect(entries.length, `${route.method} ${route.url}`).toBe(before.length + 1);
      const entry = entries[entries.length - 1]!;
      expect(entry).toMatchObject({ actor_id: people.admin.id, project_id: projectId });
      expect(JSON.parse(entry.details)).toEqual({ verb: route.options.config!.permission, method: route.method, route: route.url });
    }
  });
});

describe('a route without a declared permission', () => {
  it('stops the server from starting', async () => {
    const config = loadConfig({ cwd: '/tmp', env: { FIELDKEEP_DATA_DIR: '/tmp/fieldkeep-never-used', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } });
    const database = openDatabase({ ...config, dbPoolSize: 1 });
    try {
      const undeclared = (app: Parameters<(typeof domainRoutes)[number]>[0]) => {
        app.get('/api/v1/forgotten', { schema: { response: { 200: Type.Object({}) } } }, async () => ({}));
      };
      await expect(buildServer({ config, database } as never, createLogger('silent'), [undeclared])).rejects.toThrow(/without a declared permission: GET \/api\/v1\/forgotten/);
    } finally {
      await database.close();
    }
  });
});
