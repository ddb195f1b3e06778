import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { ADMIN_LINK_LIFETIME_MS } from './admin-users.js';

const PUBLIC_URL = 'https://fieldkeep.test';
const NEW_PASSWORD = 'harbour quince lattice 42 ember';

describeEachDatabase('accounts for administrators', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_PUBLIC_URL: PUBLIC_URL });
  let admin: TestUser;
  let person: TestUser;
  const api = (p: string) => `${env().url}/api/v1${p}`;
  const auditOf = (action: string, userId: number) =>
    env().server.database.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('resource_id', '=', String(userId)).orderBy('id').execute();
  const tokenOf = (url: string) => new URL(url).hash.replace(/^#token=/, '');

  beforeAll(async () => {
    admin = await createTestUser(env(), 'au_admin', { admin: true });
    person = await createTestUser(env(), 'au_person', { email: 'person@example.org' });
  });

  it('lists every account without secrets', async () => {
    const listed = await call(api('/admin/users'), 'GET', admin.headers);
    expect(listed.status).toBe(200);
    expect(listed.headers.get('cache-control')).toBe('no-store');
    expect(listed.body.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['au_admin', 'au_person']));
    expect(listed.body.find((u: { username: string }) => u.username === 'au_person')).toEqual({
      id: person.id,
      username: 'au_person',
      email: 'person@example.org',
      isAdmin: false,
      twoFactorEnabled: false,
      disabled: false,
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(listed.body)).not.toMatch(/pbkdf2|password/i);
  });

  it('creates an account whose owner sets the password through the link; nobody else knows it', async () => {
    const created = await call(api('/admin/users'), 'POST', admin.headers, { username: 'au_new', email: ' new@example.org ' });
    expect(created.status).toBe(201);
    expect(created.body.user).toMatchObject({ username: 'au_new', email: 'new@example.org', isAdmin: false, disabled: false });
    const { url, expiresAt } = created.body.passwordLink;
    expect(url).toMatch(new RegExp(`^${PUBLIC_URL}/reset-password#token=[A-Za-z0-9]{43}$`));
    expect(Math.abs(Date.parse(expiresAt) - Date.now() - ADMIN_LINK_LIFETIME_MS)).toBeLessThan(60_000);

    const set = await call(api('/password-resets/confirm'), 'POST', {}, { token: tokenOf(url), newPassword: NEW_PASSWORD });
    expect(set.status).toBe(204);
    const signIn = await call(api('/sessions'), 'POST', {}, { username: 'au_new', password: NEW_PASSWORD });
    expect(signIn.status).toBe(201);
    // Used once.
    expect((await call(api('/password-resets/confirm'), 'POST', {}, { token: tokenOf(url), newPassword: `${NEW_PASSWORD} again` })).body.code).toBe('password.reset_invalid');

    const audits = await auditOf('user.created', created.body.user.id);
    expect(audits[0]).toMatchObject({ actor_label: 'au_admin' });
    const linkAudits = await auditOf('user.password_link_created', created.body.user.id);
    expect(linkAudits).toHaveLength(1);
    expect(linkAudits[0]!.details).not.toContain(tokenOf(url));
  });

  it('refuses bad or taken names with their own codes', async () => {
    expect((await call(api('/admin/users'), 'POST', admin.headers, { username: 'au_person' })).body.code).toBe('user.username_taken');
    expect((await call(api('/admin/users'), 'POST', admin.headers, { username: 'au_x', email: 'PERSON@example.org' })).body.code).toBe('user.email_taken');
    expect((await call(api('/admin/users'), 'POST', admin.headers, { username: 'has space' })).body.code).toBe('request.invalid');
    expect((await call(api('/admin/users'), 'POST', admin.headers, { username: 'au_y', email: 'not-an-address' })).body.code).toBe('request.invalid');
    expect((await call(api('/admin/users'), 'POST', admin.headers, { username: 'au_z', password: 'chosen by admin' })).status).toBe(400);
  });

  it('gives a new password link that replaces the last one, and changes nothing until used', async () => {
    const first = await call(api(`/admin/users/${person.id}/password-link`), 'POST', admin.headers);
    const second = await call(api(`/admin/users/${person.id}/password-link`), 'POST', admin.headers);
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.url).not.toBe(first.body.url);
    expect((await call(api('/users/me'), 'GET', person.headers)).status).toBe(200);
    expect((await call(api('/password-resets/confirm'), 'POST', {}, { token: tokenOf(first.body.url), newPassword: NEW_PASSWORD })).body.code).toBe('password.reset_invalid');
    expect((await call(api('/password-resets/confirm'), 'POST', {}, { token: tokenOf(second.body.url), newPassword: NEW_PASSWORD })).status).toBe(204);
    expect((await call(api('/admin/users/999999/password-link'), 'POST', admin.headers)).body.code).toBe('user.not_found');
  });

  it('disables an account at once (its tokens stop working) and enables it again; a disabled account gets no link', async () => {
    const target = await createTestUser(env(), 'au_leaver');
    expect((await call(api('/users/me'), 'GET', target.headers)).status).toBe(200);
    const disabled = await call(api(`/admin/users/${target.id}`), 'PATCH', admin.headers, { disabled: true });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ username: 'au_leaver', disabled: true });
    expect((await call(api('/users/me'), 'GET', target.headers)).status).toBe(401);
    expect((await call(api(`/admin/users/${target.id}/password-link`), 'POST', admin.headers)).body.code).toBe('user.disabled');
    expect((await auditOf('user.disabled', target.id))[0]).toMatchObject({ actor_label: 'au_admin' });

    const enabled = await call(api(`/admin/users/${target.id}`), 'PATCH', admin.headers, { disabled: false });
    expect(enabled.body.disabled).toBe(false);
    expect((await call(api(`/admin/users/${target.id}/password-link`), 'POST', admin.headers)).status).toBe(201);
  });

  it('promotes and demotes, but never lets an administrator lock themselves out', async () => {
    const promoted = await call(api(`/admin/users/${person.id}`), 'PATCH', admin.headers, { isAdmin: true });
    expect(promoted.body.isAdmin).toBe(true);
    expect((await call(api(`/admin/users/${person.id}`), 'PATCH', admin.headers, { isAdmin: false })).body.isAdmin).toBe(false);
    for (const change of [{ disabled: true }, { isAdmin: false }]) {
      const refused = await call(api(`/admin/users/${admin.id}`), 'PATCH', admin.headers, change);
      expect([refused.status, refused.body.code]).toEqual([409, 'user.self_change']);
    }
    expect((await call(api(`/admin/users/${admin.id}`), 'PATCH', admin.headers, {})).status).toBe(400);
    expect((await call(api('/admin/users/999999'), 'PATCH', admin.headers, { disabled: true })).body.code).toBe('user.not_found');
  });

  it('is for instance administrators only', async () => {
    expect((await call(api('/admin/users'), 'GET', person.headers)).body.code).toBe('access.denied');
    expect((await call(api('/admin/users'), 'POST', person.headers, { username: 'au_sneaky' })).body.code).toBe('access.denied');
    expect((await call(api(`/admin/users/${person.id}`), 'PATCH', person.headers, { isAdmin: true })).body.code).toBe('access.denied');
    expect((await call(api(`/admin/users/${admin.id}/password-link`), 'POST', person.headers)).body.code).toBe('access.denied');
    expect((await call(api('/admin/users'), 'GET', {})).body.code).toBe('auth.required');
  });
});
