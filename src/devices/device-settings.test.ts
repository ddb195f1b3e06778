import { inflateSync } from 'node:zlib';
import { beforeAll, expect, it } from 'vitest';
import { collectGet } from '../../test/support/collect.js';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { sealSecret } from '../accounts/sealed.js';
import { createDevice } from './index.js';

const PUBLIC_URL = 'https://fieldkeep.test';

describeEachDatabase('showing a device’s QR code again', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_PUBLIC_URL: PUBLIC_URL });
  let owner: TestUser;
  let collector: TestUser;
  let project: number;
  const api = (p: string) => `${env().url}/api/v1${p}`;
  const settings = (deviceId: number, user = owner) => call(api(`/projects/${project}/devices/${deviceId}/settings`), 'GET', user.headers);
  const newDevice = async (label: string) => (await call(api(`/projects/${project}/devices`), 'POST', owner.headers, { label })).body;

  beforeAll(async () => {
    owner = await createTestUser(env(), 'ds_owner');
    collector = await createTestUser(env(), 'ds_collector');
    project = (await call(api('/projects'), 'POST', owner.headers, { name: 'Boreholes' })).body.id;
    await call(api(`/projects/${project}/members`), 'POST', owner.headers, { username: 'ds_collector', role: 'collector' });
  });

  it('shows an active device’s server URL and Collect QR code as at creation, keeps the token only sealed, and audits each showing', async () => {
    const created = await newDevice('Tablet 9');
    expect(created.device.settingsAvailable).toBe(true);
    const shown = await settings(created.device.id);
    expect(shown.status).toBe(200);
    expect(shown.headers.get('cache-control')).toBe('no-store');
    expect(shown.body).toEqual(created);
    expect(JSON.parse(inflateSync(Buffer.from(shown.body.collectSettings, 'base64')).toString('utf8')).general.server_url).toBe(`${PUBLIC_URL}/key/${created.token}/projects/${project}`);
    // The code shown again works on a phone.
    expect((await collectGet(`${env().url}/key/${shown.body.token}/projects/${project}/formList`)).status).toBe(200);

    const db = env().server.database.db;
    const row = await db.selectFrom('devices').selectAll().where('id', '=', created.device.id).executeTakeFirstOrThrow();
    expect(row.token_sealed).toMatch(/^v1:/);
    expect(JSON.stringify(row)).not.toContain(created.token.slice(7));
    const audits = await db.selectFrom('audit_log').selectAll().where('action', '=', 'device.settings_show').where('resource_id', '=', String(created.device.id)).execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]!.actor_label).toBe('ds_owner');
    expect(audits[0]!.details).not.toContain(created.token.slice(7));
  });

  it('refuses revoked and expired devices, whose code would not work', async () => {
    const revoked = await newDevice('lost');
    await call(api(`/projects/${project}/devices/${revoked.device.id}`), 'DELETE', owner.headers);
    const expired = await newDevice('old');
    await env().server.database.db.updateTable('devices').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', expired.device.id).execute();
    for (const device of [revoked, expired]) {
      const answer = await settings(device.device.id);
      expect([answer.status, answer.body.code], device.device.label).toEqual([409, 'device.inactive']);
    }
    const listed = (await call(api(`/projects/${project}/devices`), 'GET', owner.headers)).body as Array<{ id: number; settingsAvailable: boolean }>;
    expect(listed.filter((d) => [revoked.device.id, expired.device.id].includes(d.id)).map((d) => d.settingsAvailable)).toEqual([false, false]);
  });

  it('says plainly when the token was not kept: made without it, or sealed under another server secret', async () => {
    const unsealed = await createDevice(env().server.database.db, PUBLIC_URL, project, { label: 'no copy' }, { actorLabel: 'test' });
    expect(unsealed.device.settingsAvailable).toBe(false);
    expect((await settings(unsealed.device.id)).body.code).toBe('device.settings_unavailable');

    const foreign = await newDevice('other secret');
    await env().server.database.db.updateTable('devices').set({ token_sealed: sealSecret('another server secret of at least 32 chars', foreign.token) }).where('id', '=', foreign.device.id).execute();
    const answer = await settings(foreign.device.id);
    expect([answer.status, answer.body.code]).toEqual([409, 'device.settings_unavailable']);
  });

  it('is only for people who may share the project, and only for its own devices', async () => {
    const device = await newDevice('shared');
    expect((await settings(device.device.id, collector)).body.code).toBe('access.denied');
    expect((await settings(999_999)).body.code).toBe('device.not_found');
    const other = (await call(api('/projects'), 'POST', owner.headers, { name: 'Elsewhere' })).body.id;
    const wrongProject = await call(api(`/projects/${other}/devices/${device.device.id}/settings`), 'GET', owner.headers);
    expect(wrongProject.body.code).toBe('device.not_found');
  });
});
