import { beforeAll, expect, it } from 'vitest';
import { collectGet, collectXmlBody, md5Hex, parseCollectFormList, parseCollectManifest, type CollectAnswer } from '../../test/support/collect.js';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { collectHeaders, collectVerdict, multipartBody, send, type RawResponse } from '../openrosa/submission-client.test-support.js';

const PUBLIC_URL = 'https://fieldkeep.test';

const xform = (formId: string) => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>${formId} survey</h:title><model>
  <instance><data id="${formId}" version="1"><age/><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/age" type="int"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/age"><label>Age</label></input></h:body>
</h:html>`;

let serial = 0;
const instance = (formId: string) =>
  `<?xml version='1.0' ?><data id="${formId}" version="1" xmlns:orx="http://openrosa.org/xforms"><age>${serial}</age>` +
  `<orx:meta><orx:instanceID>uuid:0b11c000-0000-4000-8000-${String(++serial).padStart(12, '0')}</orx:instanceID></orx:meta></data>`;

describeEachDatabase('public links', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_PUBLIC_URL: PUBLIC_URL });
  let owner: TestUser;
  let manager: TestUser;
  let collector: TestUser;
  let project: number;
  let otherProject: number;
  const tokens: string[] = [];
  const db = () => env().server.database.db;
  const api = (p: string) => `${env().url}/api/v1${p}`;
  const links = (formId: string, projectId = project) => api(`/projects/${projectId}/forms/${formId}/public-links`);
  const keyBase = (token: string, projectId = project) => `${env().url}/key/${token}/projects/${projectId}`;
  /** The public URL the server hands out, pointed at the test server. */
  const local = (link: string) => env().url + link.slice(PUBLIC_URL.length);

  async function createLink(formId: string, body: Record<string, unknown> = {}, by: TestUser = manager) {
    const created = await call(links(formId), 'POST', by.headers, { label: 'Market-day poster', ...body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    tokens.push(created.body.token);
    return created.body as { token: string; serverUrl: string; link: { id: number; state: string; once: boolean; usedAt: string | null } };
  }

  function submit(token: string, formId: string, projectId = project): Promise<RawResponse> {
    const body = multipartBody([{ name: 'xml_submission_file', filename: 'instance.xml', contentType: 'text/xml', body: instance(formId) }], { partLengths: true });
    return send(`${keyBase(token, projectId)}/submission?deviceID=enketo%3Aanonymous`, 'POST', collectHeaders({ 'content-type': body.contentType }), body.body);
  }

  function expectOpenRosaRefusal(answer: CollectAnswer | RawResponse, status: number, code: string) {
    const headers = answer.headers instanceof Headers ? Object.fromEntries(answer.headers) : answer.headers;
    const text = 'bytes' in answer ? answer.bytes.toString('utf8') : answer.body;
    expect(answer.status, text).toBe(status);
    expect(headers['x-fieldkeep-error']).toBe(code);
    expect(headers['x-openrosa-version']).toBe('1.0');
    // A challenge would make Collect ask for a password, which cannot help someone holding a link.
    expect(headers['www-authenticate']).toBeUndefined();
    expect(text).toMatch(/^<\?xml[^>]*>\s*<OpenRosaResponse xmlns="http:\/\/openrosa.org\/http\/response" items="0"><message nature="error">/);
  }

  beforeAll(async () => {
    owner = await createTestUser(env(), 'pl_owner');
    manager = await createTestUser(env(), 'pl_manager');
    collector = await createTestUser(env(), 'pl_collector');
    project = (await call(api('/projects'), 'POST', owner.headers, { name: 'Market survey' })).body.id;
    otherProject = (await call(api('/projects'), 'POST', owner.headers, { name: 'Elsewhere' })).body.id;
    await call(api(`/projects/${project}/members`), 'POST', owner.headers, { username: 'pl_manager', role: 'manager' });
    await call(api(`/projects/${project}/members`), 'POST', owner.headers, { username: 'pl_collector', role: 'collector' });
    for (const [projectId, formId] of [[project, 'prices'], [project, 'stalls'], [otherProject, 'prices']] as const) {
      const form = await fetch(api(`/projects/${projectId}/forms?publish=true`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: xform(formId) });
      expect(form.status).toBe(201);
    }
  });

  it('creates a link once-shown, stores only its hash, lists and revokes it, and audits every change', async () => {
    const created = await call(links('prices'), 'POST', manager.headers, { label: ' Market-day poster ', expiresInDays: 7, once: true });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { token, serverUrl, link } = created.body;
    tokens.push(token);
    expect(token).toMatch(/^fk_pub_[A-Za-z0-9]{43}$/);
    expect(serverUrl).toBe(`${PUBLIC_URL}/key/${token}/projects/${project}`);
    expect(link).toMatchObject({ label: 'Market-day poster', formId: 'prices', once: true, state: 'active', createdBy: 'pl_manager', revokedAt: null, usedAt: null });
    expect(Date.parse(link.expiresAt) - Date.parse(link.createdAt)).toBe(7 * 86_400_000);

    const row = await db().selectFrom('public_links').selectAll().where('id', '=', link.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(token.slice(7));

    const listed = await call(links('prices'), 'GET', owner.headers);
    expect(listed.status).toBe(200);
    expect(listed.body.find((l: { id: number }) => l.id === link.id)).toEqual(link);
    expect(JSON.stringify(listed.body)).not.toContain(token.slice(7));
    expect((await call(links('stalls'), 'GET', owner.headers)).body.find((l: { id: number }) => l.id === link.id)).toBeUndefined();

    // Revoking through another form's address finds nothing; revoking twice is audited once.
    expect((await call(`${links('stalls')}/${link.id}`, 'DELETE', owner.headers)).body.code).toBe('public_link.not_found');
    expect((await call(`${links('prices')}/${link.id}`, 'DELETE', owner.headers)).status).toBe(204);
    expect((await call(`${links('prices')}/${link.id}`, 'DELETE', owner.headers)).status).toBe(204);
    expect((await call(`${links('prices')}/999999`, 'DELETE', owner.headers)).body.code).toBe('public_link.not_found');
    const after = (await call(links('prices'), 'GET', owner.headers)).body.find((l: { id: number }) => l.id === link.id);
    expect(after.state).toBe('revoked');

    const audit = await db().selectFrom('audit_log').selectAll().where('resource_type', '=', 'public_link').where('resource_id', '=', String(link.id)).orderBy('id').execute();
    expect(audit.map((e) => e.action)).toEqual(['public_link.create', 'public_link.revoke']);
    expect(JSON.parse(audit[0]!.details)).toEqual({ formId: 'prices', label: 'Market-day poster', once: true, expiresAt: link.expiresAt });
    for (const entry of audit) expect(JSON.stringify(entry)).not.toContain(token.slice(7));
  });

  it('lets only people who may share the project manage links, for forms that exist', async () => {
    expect((await call(links('prices'), 'GET', collector.headers)).body.code).toBe('access.denied');
    expect((await call(links('prices'), 'POST', collector.headers, { label: 'mine' })).body.code).toBe('access.denied');
    expect((await call(links('nosuchform'), 'POST', owner.headers, { label: 'x' })).body.code).toBe('form.not_found');
    expect((await call(links('nosuchform'), 'GET', owner.headers)).body.code).toBe('form.not_found');
    for (const body of [{ label: 'x', expiresInDays: 0 }, { label: '' }, { label: 'x', once: 'yes' }, { label: 'x', extra: 1 }]) {
      expect((await call(links('prices'), 'POST', owner.headers, body)).status, JSON.stringify(body)).toBe(400);
    }
  });

  it('shows Collect only its own form: the list, the form, its manifest; other forms are not found', async () => {
    const { serverUrl, token } = await createLink('prices');
    const list = parseCollectFormList(collectXmlBody(await collectGet(`${local(serverUrl)}/formList`)));
    expect(list.map((f) => f.formID)).toEqual(['prices']);
    const entry = list[0]!;
    expect(entry.downloadUrl).toBe(`${serverUrl}/forms/prices/form.xml`);
    const download = await collectGet(local(entry.downloadUrl));
    expect(download.status).toBe(200);
    expect(`md5:${md5Hex(download.bytes)}`).toBe(entry.hash);
    expect(parseCollectManifest(collectXmlBody(await collectGet(`${local(serverUrl)}/forms/prices/manifest`)))).toEqual([]);

    expect(parseCollectFormList(collectXmlBody(await collectGet(`${local(serverUrl)}/formList?formID=stalls`)))).toEqual([]);
    for (const path of ['/forms/stalls/form.xml', '/forms/stalls/manifest', '/forms/stalls/media/a.png']) {
      expectOpenRosaRefusal(await collectGet(`${local(serverUrl)}${path}`), 404, 'form.not_found');
    }
    // The same link is no credential in another project, nor outside the /key/ path.
    expectOpenRosaRefusal(await collectGet(`${keyBase(token, otherProject)}/formList`), 403, 'public_link.wrong_project');
    expect((await collectGet(`${env().url}/projects/${project}/formList`, { authorization: `Bearer ${token}` })).status).toBe(401);
    expect((await call(api(`/projects/${project}`), 'GET', { authorization: `Bearer ${token}` })).body.code).toBe('auth.invalid_token');
  });

  it('accepts submissions to its own form only, recorded as the link', async () => {
    const { token, link } = await createLink('prices');
    for (const method of ['HEAD', 'GET']) expect((await send(`${keyBase(token)}/submission`, method, collectHeaders())).status).toBe(204);
    const accepted = await submit(token, 'prices');
    expect(accepted.status, accepted.body).toBe(201);
    expect(collectVerdict(accepted).success).toBe(true);
    const stored = await db().selectFrom('audit_log').selectAll().where('action', '=', 'submission.create').where('actor_kind', '=', 'public_link').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(JSON.parse(stored.details)).toMatchObject({ formId: 'prices' });
    expectOpenRosaRefusal(await submit(token, 'stalls'), 404, 'form.not_found');
    expect((await call(links('prices'), 'GET', owner.headers)).body.find((l: { id: number }) => l.id === link.id).state).toBe('active');
  });

  it('refuses revoked, expired and unknown links with 403 and an OpenRosa message', async () => {
    const revoked = await createLink('prices');
    expect((await collectGet(`${local(revoked.serverUrl)}/formList`)).status).toBe(200);
    expect((await call(`${links('prices')}/${revoked.link.id}`, 'DELETE', manager.headers)).status).toBe(204);
    const expired = await createLink('prices', { expiresInDays: 1 });
    await db().updateTable('public_links').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', expired.link.id).execute();
    expect((await call(links('prices'), 'GET', owner.headers)).body.find((l: { id: number }) => l.id === expired.link.id).state).toBe('expired');

    const cases: Array<[string, string, RegExp]> = [
      ['revoked', revoked.token, /withdrawn/],
      ['expired', expired.token, /expired/],
      ['unknown', `fk_pub_${'c'.repeat(43)}`, /not known/],
    ];
    for (const [what, token, message] of cases) {
      for (const path of ['/formList', '/forms/prices/form.xml']) {
        const answer = await collectGet(`${keyBase(token)}${path}`);
        expectOpenRosaRefusal(answer, 403, 'public_link.refused');
        expect(answer.bytes.toString('utf8'), what).toMatch(message);
      }
      expectOpenRosaRefusal(await submit(token, 'prices'), 403, 'public_link.refused');
    }
    // Not the shape of any token: the path-token answer devices get.
    expectOpenRosaRefusal(await collectGet(`${keyBase(`fk_pub_${'d'.repeat(42)}`)}/formList`), 401, 'device.token_malformed');
  });

  it('spends a single-use link on its first submission, exactly once when two arrive together', async () => {
    const { token, link, serverUrl } = await createLink('prices', { once: true });
    // A refused submission does not spend it.
    expectOpenRosaRefusal(await submit(token, 'stalls'), 404, 'form.not_found');
    expect((await collectGet(`${local(serverUrl)}/formList`)).status).toBe(200);

    const linkSubmissions = async () => (await db().selectFrom('audit_log').select('id').where('action', '=', 'submission.create').where('actor_kind', '=', 'public_link').execute()).length;
    const before = await linkSubmissions();
    const answers = await Promise.all([submit(token, 'prices'), submit(token, 'prices'), submit(token, 'prices')]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 403, 403]);
    for (const refused of answers.filter((a) => a.status === 403)) expectOpenRosaRefusal(refused, 403, 'public_link.refused');

    const listed = (await call(links('prices'), 'GET', owner.headers)).body.find((l: { id: number }) => l.id === link.id);
    expect(listed).toMatchObject({ once: true, state: 'used' });
    expect(listed.usedAt).not.toBeNull();
    const uses = await db().selectFrom('audit_log').selectAll().where('action', '=', 'public_link.use').where('resource_id', '=', String(link.id)).execute();
    expect(uses).toHaveLength(1);
    expect(await linkSubmissions()).toBe(before + 1);

    const after = await collectGet(`${local(serverUrl)}/formList`);
    expectOpenRosaRefusal(after, 403, 'public_link.refused');
    expect(after.bytes.toString('utf8')).toMatch(/already been used/);
    expectOpenRosaRefusal(await submit(token, 'prices'), 403, 'public_link.refused');
  });

  it('never writes a link token to the log', () => {
    expect(tokens.length).toBeGreaterThan(3);
    const logged = env().rawLogs.join('\n');
    expect(logged).toContain('/key/[redacted]/projects/');
    for (const token of tokens) expect(logged).not.toContain(token.slice(7));
  });
});
