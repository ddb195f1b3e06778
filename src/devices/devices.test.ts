import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectGet, collectXmlBody, parseCollectFormList } from '../../test/support/collect.js';
import { describeEachDatabase } from '../../test/support/databases.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { openRosaPaths } from '../openrosa/plugin.js';
import { checkDeviceToken, collectSettings, collectSettingsPayload, deviceServerUrl } from './index.js';

const PUBLIC_URL = 'https://fieldkeep.test';

const xform = (formId: string) => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>${formId}</h:title><model>
  <instance><data id="${formId}" version="1"><age/><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/age" type="int"/>
 </model></h:head>
 <h:body><input ref="/data/age"><label>Age</label></input></h:body>
</h:html>`;

describe('the Collect settings QR payload', () => {
  it('is base64 of zlib-compressed JSON with the general and admin objects Collect requires', () => {
    const url = deviceServerUrl('https://data.example.org', `fk_dev_${'a'.repeat(43)}`, 12);
    expect(url).toBe(`https://data.example.org/key/fk_dev_${'a'.repeat(43)}/projects/12`);
    const payload = collectSettingsPayload(collectSettings(url, 'Rains "2025" – Zone é'));
    expect(payload).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // Java's Inflater() reads the zlib wrapper (RFC 1950); inflateSync refuses raw deflate as Collect would.
    expect(JSON.parse(inflateSync(Buffer.from(payload, 'base64')).toString('utf8'))).toEqual({
      general: { server_url: url, username: '', password: '' },
      admin: {},
      project: { name: 'Rains "2025" – Zone é' },
    });
  });

  it('matches the path prefix the device hook recognises', () => {
    expect(openRosaPaths('/projects/:projectId/formList')).toContain('/key/:token/projects/:projectId/formList');
  });
});

describeEachDatabase('devices', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_PUBLIC_URL: PUBLIC_URL });
  let owner: TestUser;
  let manager: TestUser;
  let collector: TestUser;
  let project: number;
  const api = (p: string) => `${env().url}/api/v1${p}`;
  const local = (link: string) => env().url + link.slice(PUBLIC_URL.length);
  const formList = (token: string, projectId = project) => collectGet(`${env().url}/key/${token}/projects/${projectId}/formList`);

  beforeAll(async () => {
    owner = await createTestUser(env(), 'dv_owner');
    manager = await createTestUser(env(), 'dv_manager');
    collector = await createTestUser(env(), 'dv_collector');
    project = (await call(api('/projects'), 'POST', owner.headers, { name: 'Rainfall' })).body.id;
    await call(api(`/projects/${project}/members`), 'POST', owner.headers, { username: 'dv_manager', role: 'manager' });
    await call(api(`/projects/${project}/members`), 'POST', owner.headers, { username: 'dv_collector', role: 'collector' });
    const form = await fetch(api(`/projects/${project}/forms?publish=true`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: xform('rain') });
    expect(form.status).toBe(201);
  });

  it('creates a device once-shown: token, server URL, QR payload and SVG; stores only the hash; audits it', async () => {
    const created = await call(api(`/projects/${project}/devices`), 'POST', manager.headers, { label: ' Tablet 7 ', expiresInDays: 30 });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { token, serverUrl, collectSettings: payload, qrSvg, device } = created.body;
    expect(token).toMatch(/^fk_dev_[A-Za-z0-9]{43}$/);
    expect(serverUrl).toBe(`${PUBLIC_URL}/key/${token}/projects/${project}`);
    expect(JSON.parse(inflateSync(Buffer.from(payload, 'base64')).toString('utf8'))).toEqual({ general: { server_url: serverUrl, username: '', password: '' }, admin: {}, project: { name: 'Rainfall' } });
    expect(qrSvg).toMatch(/^<svg[^>]*>/);
    expect(device).toMatchObject({ label: 'Tablet 7', state: 'active', createdBy: 'dv_manager', revokedAt: null, lastUsedAt: null });
    expect(Date.parse(device.expiresAt) - Date.parse(device.createdAt)).toBe(30 * 86_400_000);

    const db = env().server.database.db;
    const row = await db.selectFrom('devices').selectAll().where('id', '=', device.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(token.slice(7));
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'device.create').where('resource_id', '=', String(device.id)).executeTakeFirstOrThrow();
    expect(audit.details).not.toContain(token.slice(7));

    const listed = await call(api(`/projects/${project}/devices`), 'GET', owner.headers);
    expect(listed.status).toBe(200);
    expect(listed.body.find((d: { id: number }) => d.id === device.id)).toEqual(device);
    expect(JSON.stringify(listed.body)).not.toContain(token);
  });

  it('lets only people who may share the project manage devices', async () => {
    expect((await call(api(`/projects/${project}/devices`), 'GET', collector.headers)).body.code).toBe('access.denied');
    expect((await call(api(`/projects/${project}/devices`), 'POST', collector.headers, { label: 'mine' })).body.code).toBe('access.denied');
    const bad = await call(api(`/projects/${project}/devices`), 'POST', owner.headers, { label: 'x', expiresInDays: 0 });
    expect(bad.status).toBe(400);
  });

  it('refuses malformed tokens with 401, and unknown, revoked and expired ones with 403, as OpenRosa messages', async () => {
    const revoked = (await call(api(`/projects/${project}/devices`), 'POST', owner.headers, { label: 'lost phone' })).body;
    expect((await formList(revoked.token)).status).toBe(200);
    expect((await call(api(`/projects/${project}/devices/${revoked.device.id}`), 'DELETE', owner.headers)).status).toBe(204);
    expect((await call(api(`/projects/${project}/devices/${revoked.device.id}`), 'DELETE', owner.headers)).status).toBe(204);
    expect((await call(api(`/projects/${project}/devices/999999`), 'DELETE', owner.headers)).body.code).toBe('device.not_found');

    const expired = (await call(api(`/projects/${project}/devices`), 'POST', owner.headers, { label: 'old', expiresInDays: 1 })).body;
    await env().server.database.db.updateTable('devices').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', expired.device.id).execute();

    const cases: Array<[string, string, number, string]> = [
      ['malformed', 'not-a-token', 401, 'device.token_malformed'],
      ['an API token in its place', `fk_pat_${'b'.repeat(43)}`, 401, 'device.token_malformed'],
      ['unknown', `fk_dev_${'c'.repeat(43)}`, 403, 'device.token_refused'],
      ['revoked', revoked.token, 403, 'device.token_refused'],
      ['expired', expired.token, 403, 'device.token_refused'],
    ];
    for (const [what, token, status, code] of cases) {
      const answer = await formList(token);
      expect(answer.status, what).toBe(status);
      expect(answer.headers.get('x-fieldkeep-error'), what).toBe(code);
      expect(answer.headers.get('x-openrosa-version'), what).toBe('1.0');
      // A challenge would make Collect ask for a password, which cannot help.
      expect(answer.headers.get('www-authenticate'), what).toBeNull();
      expect(answer.bytes.toString('utf8'), what).toMatch(/<OpenRosaResponse xmlns="http:\/\/openrosa.org\/http\/response" items="0"><message nature="error">/);
    }
    // A person's own credentials do not rescue a dead path token: the path decides.
    const withHeader = await collectGet(`${env().url}/key/${revoked.token}/projects/${project}/formList`, owner.headers);
    expect(withHeader.status).toBe(403);

    const states = (await call(api(`/projects/${project}/devices`), 'GET', owner.headers)).body as Array<{ id: number; state: string }>;
    expect(states.find((d) => d.id === revoked.device.id)?.state).toBe('revoked');
    expect(states.find((d) => d.id === expired.device.id)?.state).toBe('expired');
  });

  it('records last use at most once a minute', async () => {
    const { token, device } = (await call(api(`/projects/${project}/devices`), 'POST', owner.headers, { label: 'busy' })).body;
    const db = env().server.database.db;
    const lastUsed = async () => (await db.selectFrom('devices').select('last_used_at').where('id', '=', device.id).executeTakeFirstOrThrow()).last_used_at;
    expect((await formList(token)).status).toBe(200);
    const first = await lastUsed();
    expect(first).not.toBeNull();
    expect((await formList(token)).status).toBe(200);
    expect(await lastUsed()).toBe(first);
    const minuteLater = new Date(Date.parse(first!) + 61_000);
    expect((await checkDeviceToken(db, token, minuteLater)).ok).toBe(true);
    expect(await lastUsed()).toBe(minuteLater.toISOString());
  });

  it('accepts a device token as a Bearer header, as a collector of its own project only', async () => {
    const { token } = (await call(api(`/projects/${project}/devices`), 'POST', owner.headers, { label: 'scripted' })).body;
    const bearer = { authorization: `Bearer ${token}` };
    const list = parseCollectFormList(collectXmlBody(await collectGet(`${env().url}/projects/${project}/formList`, bearer)));
    expect(list.map((f) => f.formID)).toEqual(['rain']);
    expect(list[0]!.downloadUrl).toBe(`${PUBLIC_URL}/projects/${project}/forms/rain/form.xml`);
    expect((await call(api(`/projects/${project}/devices`), 'GET', bearer)).body.code).toBe('access.denied');
    expect((await call(api('/projects'), 'GET', bearer)).body.code).toBe('access.denied');
    const dead = await call(api(`/projects/${project}/forms`), 'GET', { authorization: `Bearer fk_dev_${'d'.repeat(43)}` });
    expect(dead.status).toBe(401);
    expect(dead.body.code).toBe('auth.invalid_token');
  });

  it('creates and revokes devices and uploads forms from the command line', async () => {
    const cliEnv = { ...env().storage.env, FIELDKEEP_PUBLIC_URL: PUBLIC_URL };
    const file = path.join(env().storage.dataDir, 'cli-form.xml');
    writeFileSync(file, xform('from_cli'));
    const upload = await runFieldkeep(['form', 'upload', '--project', String(project), '--publish', file], cliEnv);
    expect(upload.stderr).toBe('');
    expect(upload.stdout.trim()).toBe('from_cli');

    const created = await runFieldkeep(['device', 'create', '--project', String(project), '--name', 'CLI tablet', '--expires-days', '7'], cliEnv);
    expect(created.code, created.stderr).toBe(0);
    const serverUrl = created.stdout.trim();
    expect(serverUrl).toMatch(new RegExp(`^${PUBLIC_URL}/key/fk_dev_[A-Za-z0-9]{43}/projects/${project}$`));
    const list = parseCollectFormList(collectXmlBody(await collectGet(`${local(serverUrl)}/formList`)));
    expect(list.map((f) => f.formID)).toEqual(['from_cli', 'rain']);

    const listed = await runFieldkeep(['device', 'list', '--project', String(project)], cliEnv);
    const line = listed.stdout.split('\n').find((l) => l.endsWith('\tCLI tablet'));
    expect(line).toMatch(/^\d+\tactive\t/);
    const revoked = await runFieldkeep(['device', 'revoke', '--project', String(project), '--device', line!.split('\t')[0]!], cliEnv);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await collectGet(`${local(serverUrl)}/formList`)).status).toBe(403);

    const missing = await runFieldkeep(['device', 'create', '--project', '999999', '--name', 'x'], cliEnv);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such project/i);
  });
});
