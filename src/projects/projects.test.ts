import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { verifyAuditChain } from '../audit/index.js';
import { grantEmergencyAccess } from './index.js';

describeEachDatabase('projects and sharing', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  let owner: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let admin: TestUser;
  let projectId: number;
  const api = (path: string) => `${env().url}/api/v1${path}`;
  const auditActions = async () =>
    (await env().server.database.db.selectFrom('audit_log').select(['action', 'project_id', 'actor_label']).orderBy('id').execute());

  beforeAll(async () => {
    owner = await createTestUser(env(), 'olivia', { email: 'olivia@example.org' });
    bob = await createTestUser(env(), 'bob');
    carol = await createTestUser(env(), 'carol');
    admin = await createTestUser(env(), 'root', { admin: true });
  });

  it('creates a project whose creator is its owner, audited', async () => {
    const created = await call(api('/projects'), 'POST', owner.headers, { name: 'Household survey', description: 'Round 1' });
    expect(created.status).toBe(201);
    projectId = created.body.id;
    const shown = await call(api(`/projects/${projectId}`), 'GET', owner.headers);
    expect(shown.body).toMatchObject({ id: projectId, name: 'Household survey', owner: { id: owner.id, username: 'olivia' }, yourRoles: ['owner'], emergencyAccess: [] });
    expect(await auditActions()).toContainEqual({ action: 'project.create', project_id: projectId, actor_label: 'olivia' });
  });

  it('documents its routes in the OpenAPI document', async () => {
    const openapi = await call(`${env().url}/api/openapi.json`, 'GET');
    expect(openapi.status).toBe(200);
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/projects/{projectId}/members/{userId}', '/api/v1/projects/{projectId}/audit', '/api/v1/admin/audit']),
    );
  });

  it('refuses a body that does not match the schema, once authorised', async () => {
    const bad = await call(api(`/projects/${projectId}`), 'PATCH', owner.headers, { name: '' });
    expect(bad.body.code).toBe('request.invalid');
  });

  it('shares, changes and removes roles, each audited, and lists members owner first', async () => {
    const added = await call(api(`/projects/${projectId}/members`), 'POST', owner.headers, {
      username: 'BOB',
      role: 'viewer',
      rowFilter: { fieldIn: { field: 'region', values: ['north'] } },
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ userId: bob.id, role: 'viewer', rowFilter: { fieldIn: { field: 'region', values: ['north'] } } });
    expect((await call(api(`/projects/${projectId}/members`), 'POST', owner.headers, { username: 'bob', role: 'editor' })).body.code).toBe('project.already_member');
    expect((await call(api(`/projects/${projectId}/members`), 'POST', owner.headers, { username: 'olivia', role: 'editor' })).body.code).toBe('project.owner_role_fixed');
    expect((await call(api(`/projects/${projectId}/members`), 'POST', owner.headers, { username: 'nobody', role: 'editor' })).body.code).toBe('project.user_not_found');
    expect((await call(api(`/projects/${projectId}/members`), 'POST', owner.headers, { username: 'carol', role: 'owner' })).body.code).toBe('request.invalid');

    expect((await call(api(`/projects/${projectId}/members/${bob.id}`), 'PATCH', owner.headers, { role: 'manager', rowFilter: null })).status).toBe(200);
    expect((await call(api(`/projects/${projectId}/members/${owner.id}`), 'PATCH', owner.headers, { role: 'viewer' })).body.code).toBe('project.owner_role_fixed');
    await call(api(`/projects/${projectId}/members`), 'POST', bob.headers, { username: 'carol', role: 'collector' });
    const members = await call(api(`/projects/${projectId}/members`), 'GET', bob.headers);
    expect(members.body.members.map((m: { username: string; role: string }) => [m.username, m.role])).toEqual([
      ['olivia', 'owner'],
      ['bob', 'manager'],
      ['carol', 'collector'],
    ]);
    expect((await call(api(`/projects/${projectId}/members/${carol.id}`), 'DELETE', bob.headers)).status).toBe(200);
    expect((await call(api(`/projects/${projectId}`), 'GET', carol.headers)).body.code).toBe('project.not_found');
    const actions = (await auditActions()).filter((a) => a.project_id === projectId).map((a) => `${a.action} by ${a.actor_label}`);
    expect(actions).toEqual(expect.arrayContaining(['project.share by olivia', 'project.share_change by olivia', 'project.share by bob', 'project.unshare by bob']));
  });

  it('lists for each person only the projects they have a role in', async () => {
    expect((await call(api('/projects'), 'GET', bob.headers)).body.projects.map((p: { id: number }) => p.id)).toEqual([projectId]);
    expect((await call(api('/projects'), 'GET', carol.headers)).body.projects).toEqual([]);
    expect((await call(api('/projects'), 'GET', admin.headers)).body.projects).toEqual([]);
    const overview = await call(api('/admin/projects'), 'GET', admin.headers);
    expect(overview.body.projects).toEqual([expect.objectContaining({ id: projectId, owner: { id: owner.id, username: 'olivia' } })]);
  });

  it('transfers ownership only when the new owner accepts; the old owner stays as manager', async () => {
    expect((await call(api(`/projects/${projectId}/ownership-transfer`), 'POST', bob.headers, { username: 'carol' })).body.code).toBe('access.denied');
    expect((await call(api(`/projects/${projectId}/ownership-transfer`), 'POST', owner.headers, { username: 'carol' })).status).toBe(201);
    expect((await call(api(`/projects/${projectId}`), 'GET', owner.headers)).body.pendingTransfer).toMatchObject({ toUsername: 'carol' });
    expect((await call(api(`/projects/${projectId}/ownership-transfer/accept`), 'POST', bob.headers)).body.code).toBe('project.transfer_not_found');
    expect((await call(api(`/projects/${projectId}/ownership-transfer/accept`), 'POST', carol.headers)).status).toBe(200);
    expect((await call(api(`/projects/${projectId}`), 'GET', carol.headers)).body).toMatchObject({ owner: { username: 'carol' }, yourRoles: ['owner'] });
    expect((await call(api(`/projects/${projectId}`), 'GET', owner.headers)).body.yourRoles).toEqual(['manager']);
    // And back, so the rest of the suite keeps its owner.
    await call(api(`/projects/${projectId}/ownership-transfer`), 'POST', carol.headers, { username: 'olivia' });
    expect((await call(api(`/projects/${projectId}/ownership-transfer/accept`), 'POST', owner.headers)).status).toBe(200);
    expect((await auditActions()).map((a) => a.action)).toEqual(expect.arrayContaining(['project.transfer_offer', 'project.transfer_accept']));
  });

  describe('emergency access', () => {
    it('gives the admin a time-limited role, audited, shown to the owner and only the owner', async () => {
      expect((await call(api(`/projects/${projectId}`), 'GET', admin.headers)).body.code).toBe('access.admin_without_grant');
      await grantEmergencyAccess(env().server.database.db, { projectId, username: 'root', role: 'viewer', reason: 'court order 17', hours: 2 });
      const seen = await call(api(`/projects/${projectId}`), 'GET', admin.headers);
      expect(seen.status).toBe(200);
      expect(seen.body.yourRoles).toEqual(['viewer']);
      expect(seen.body.emergencyAccess).toBeUndefined();
      const banner = (await call(api(`/projects/${projectId}`), 'GET', owner.headers)).body.emergencyAccess;
      expect(banner).toEqual([expect.objectContaining({ username: 'root', role: 'viewer', reason: 'court order 17' })]);
      expect((await call(api(`/projects/${projectId}`), 'GET', bob.headers)).body.emergencyAccess).toBeUndefined();
      expect(await auditActions()).toContainEqual({ action: 'access.emergency_grant', project_id: projectId, actor_label: 'command line' });
    });

    it('expires: a grant whose hours have passed gives nothing and leaves the banner', async () => {
      const other = (await call(api('/projects'), 'POST', owner.headers, { name: 'Expired' })).body.id as number;
      const threeHoursAgo = new Date(Date.now() - 3 * 3_600_000);
      await grantEmergencyAccess(env().server.database.db, { projectId: other, username: 'root', role: 'viewer', reason: 'old', hours: 2 }, threeHoursAgo);
      expect((await call(api(`/projects/${other}`), 'GET', admin.headers)).body.code).toBe('access.admin_without_grant');
      expect((await call(api(`/projects/${other}`), 'GET', owner.headers)).body.emergencyAccess).toEqual([]);
    });

    it('is given from the command line with a reason and hours, and refuses bad input', async () => {
      const settings = env().storage.env;
      const granted = await runFieldkeep(['access', 'grant-emergency', '--project', String(projectId), '--user', 'carol', '--reason', 'owner unreachable', '--hours', '1'], settings);
      expect(granted.stderr).toBe('');
      expect(granted.code).toBe(0);
      expect(granted.stdout).toContain('emergency viewer access for carol');
      // The owner has an email address; with the default log transport the email is written to the log.
      expect(granted.stdout).toContain('Emergency access to your Fieldkeep project');
      expect(granted.stdout).toContain('olivia@example.org');
      const noHours = await runFieldkeep(['access', 'grant-emergency', '--project', String(projectId), '--user', 'carol', '--reason', 'x', '--hours', '500'], settings);
      expect(noHours.code).not.toBe(0);
      expect(noHours.stderr).toContain('1 to 168');
    });
  });

  it('creates and shares projects from the command line', async () => {
    const settings = env().storage.env;
    const created = await runFieldkeep(['project', 'create', '--name', 'Scripted', '--owner', 'bob'], settings);
    expect(created.code).toBe(0);
    const id = Number(created.stdout.trim());
    expect(id).toBeGreaterThan(0);
    const shared = await runFieldkeep(['project', 'share', '--project', String(id), '--user', 'carol', '--role', 'editor'], settings);
    expect(shared.code).toBe(0);
    expect((await call(api(`/projects/${id}`), 'GET', carol.headers)).body.yourRoles).toEqual(['editor']);
    const again = await runFieldkeep(['project', 'share', '--project', String(id), '--user', 'carol', '--role', 'viewer'], settings);
    expect(again.code).toBe(0);
    expect((await call(api(`/projects/${id}`), 'GET', carol.headers)).body.yourRoles).toEqual(['viewer']);
  });

  describe('the audit log API', () => {
    it('filters a project log by action, actor and time, newest first, and pages', async () => {
      const base = api(`/projects/${projectId}/audit`);
      const all = await call(base, 'GET', owner.headers);
      expect(all.status).toBe(200);
      expect(all.body.entries.every((e: { projectId: number }) => e.projectId === projectId)).toBe(true);
      const ids = all.body.entries.map((e: { id: number }) => e.id);
      expect(ids).toEqual([...ids].sort((a: number, b: number) => b - a));
      const shares = await call(`${base}?action=project.share`, 'GET', owner.headers);
      expect(shares.body.entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['project.share']));
      expect(new Set(shares.body.entries.map((e: { action: string }) => e.action))).toEqual(new Set(['project.share']));
      const prefixed = await call(`${base}?action=project.`, 'GET', owner.headers);
      expect(prefixed.body.entries.every((e: { action: string }) => e.action.startsWith('project.'))).toBe(true);
      const byBob = await call(`${base}?actorId=${bob.id}`, 'GET', owner.headers);
      expect(byBob.body.entries.length).toBeGreaterThan(0);
      expect(byBob.body.entries.every((e: { actor: { id: number } }) => e.actor.id === bob.id)).toBe(true);
      expect((await call(`${base}?from=2026-13-01T00:00:00Z`, 'GET', owner.headers)).body.code).toBe('request.invalid');
      const future = await call(`${base}?from=2999-01-01T00:00:00Z`, 'GET', owner.headers);
      expect(future.body.entries).toEqual([]);
      const page = await call(`${base}?limit=2`, 'GET', owner.headers);
      expect(page.body.entries).toHaveLength(2);
      const next = await call(`${base}?limit=2&before=${page.body.nextBefore}`, 'GET', owner.headers);
      expect(next.body.entries[0].id).toBeLessThan(page.body.entries[1].id);
    });

    it('records reading the log, once for a run of pages', async () => {
      const reads = async () => (await auditActions()).filter((a) => a.action === 'audit.read' && a.project_id === projectId).length;
      const before = await reads();
      await call(api(`/projects/${projectId}/audit?limit=1`), 'GET', bob.headers);
      await call(api(`/projects/${projectId}/audit?limit=1&before=999999`), 'GET', bob.headers);
      expect(await reads()).toBe(before + 1);
    });

    it('downloads the log as CSV with formula-looking text neutralised', async () => {
      await call(api(`/projects/${projectId}`), 'PATCH', owner.headers, { description: '=HYPERLINK("http://evil")' });
      const csv = await call(api(`/projects/${projectId}/audit.csv`), 'GET', owner.headers);
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).toContain(`audit-project-${projectId}.csv`);
      const lines = (csv.body as string).trim().split('\r\n');
      expect(lines[0]).toBe('id,at,actor_kind,actor_id,actor_label,address,user_agent,action,resource_type,resource_id,project_id,details,hash');
      expect(lines.length).toBeGreaterThan(5);
      expect(csv.body).toContain('project.update');
      expect(csv.body).not.toMatch(/(^|,)=HYPERLINK/m);
    });

    it('gives admins the instance log with project particulars withheld', async () => {
      const log = await call(api('/admin/audit?limit=500'), 'GET', admin.headers);
      expect(log.status).toBe(200);
      const projectEntries = log.body.entries.filter((e: { projectId: number | null }) => e.projectId !== null);
      expect(projectEntries.length).toBeGreaterThan(0);
      expect(projectEntries.every((e: { details: unknown }) => e.details === null)).toBe(true);
      expect(log.body.entries.some((e: { action: string }) => e.action === 'user.created')).toBe(true);
      expect((await call(api('/admin/audit'), 'GET', owner.headers)).body.code).toBe('access.denied');
      const csv = await call(api('/admin/audit.csv?action=user.'), 'GET', admin.headers);
      expect(csv.status).toBe(200);
      expect(csv.body).toContain('user.created');
    });
  });

  it('deletes a project for its owner only, audited, and the chain stays intact', async () => {
    expect((await call(api(`/projects/${projectId}`), 'DELETE', bob.headers)).body.code).toBe('access.denied');
    expect((await call(api(`/projects/${projectId}`), 'DELETE', owner.headers)).status).toBe(200);
    expect((await call(api(`/projects/${projectId}`), 'GET', owner.headers)).body.code).toBe('project.not_found');
    expect(await auditActions()).toContainEqual({ action: 'project.delete', project_id: projectId, actor_label: 'olivia' });
    expect(await verifyAuditChain(env().server.database.db)).toMatchObject({ intact: true });
  });
});
