import { beforeAll, expect, it } from 'vitest';
import { collectGet, collectHeaders, collectXmlBody, md5Hex, parseCollectFormList, parseCollectManifest } from '../../test/support/collect.js';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { createAccountsContext, createUser } from '../accounts/index.js';
import { ensureSecretKey } from '../config/secret-key.js';

/** Links are built from this, not from where the test server happens to listen. */
const PUBLIC_URL = 'https://fieldkeep.test';

const xform = (formId: string, version: string, media: string[] = []) => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>Form ${formId}</h:title><model>
  <instance><data id="${formId}" version="${version}"><age/><meta><instanceID/></meta></data></instance>
  ${media.map((m, i) => `<instance id="m${i}" src="jr://${m}"/>`).join('\n  ')}
  <bind nodeset="/data/age" type="int"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/age"><label>Age</label></input></h:body>
</h:html>`;

const LOGO = Buffer.from('\x89PNG\r\n\x1a\n a small picture for the form', 'latin1');

describeEachDatabase('OpenRosa form discovery as ODK Collect, Enketo and people see it', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_PUBLIC_URL: PUBLIC_URL });
  let owner: TestUser;
  let basicHeader: string;
  let projectA: number;
  let projectB: number;
  let deviceUrl: string;
  let deviceToken: string;
  let otherDeviceUrl: string;

  /** A link the server handed out, pointed at the test server instead of the public name. */
  const local = (link: string) => {
    expect(link.startsWith(`${PUBLIC_URL}/`), link).toBe(true);
    return env().url + link.slice(PUBLIC_URL.length);
  };
  const api = (path: string) => `${env().url}/api/v1${path}`;

  async function publishForm(project: number, body: string, state?: string) {
    const created = await fetch(api(`/projects/${project}/forms?publish=true`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body });
    expect(created.status).toBe(201);
    const formId = ((await created.json()) as { form: { xmlFormId: string } }).form.xmlFormId;
    if (state) expect((await call(api(`/projects/${project}/forms/${formId}`), 'PATCH', owner.headers, { state })).status).toBe(200);
  }

  async function newDevice(project: number, label: string) {
    const created = await call(api(`/projects/${project}/devices`), 'POST', owner.headers, { label });
    expect(created.status).toBe(201);
    return created.body as { token: string; serverUrl: string };
  }

  beforeAll(async () => {
    owner = await createTestUser(env(), 'or_owner');
    const password = 'quiet lantern orbit 7 meadow';
    const accounts = createAccountsContext(env().server.database, ensureSecretKey(env().config), { info: () => {} });
    await createUser(accounts, { username: 'or_person', email: null, password, isAdmin: false }, { actorLabel: 'cli' });
    basicHeader = `Basic ${Buffer.from(`or_person:${password}`).toString('base64')}`;
    projectA = (await call(api('/projects'), 'POST', owner.headers, { name: 'Project A' })).body.id;
    projectB = (await call(api('/projects'), 'POST', owner.headers, { name: 'Project B' })).body.id;
    await call(api(`/projects/${projectA}/members`), 'POST', owner.headers, { username: 'or_person', role: 'collector' });

    await publishForm(projectA, xform('household', '2024.1', ['images/logo.png', 'file-csv/villages.csv']));
    await publishForm(projectA, xform('plain', '1'));
    await publishForm(projectA, xform('winding_down', '1'), 'closing');
    await publishForm(projectA, xform('finished', '1'), 'closed');
    const draft = await fetch(api(`/projects/${projectA}/forms`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: xform('unpublished', '1') });
    expect(draft.status).toBe(201);
    const media = await fetch(api(`/projects/${projectA}/forms/household/media/logo.png`), { method: 'PUT', headers: { ...owner.headers, 'content-type': 'image/png' }, body: LOGO });
    expect(media.status).toBe(200);
    await publishForm(projectB, xform('elsewhere', '1'));

    ({ serverUrl: deviceUrl, token: deviceToken } = await newDevice(projectA, 'Tablet 1'));
    ({ serverUrl: otherDeviceUrl } = await newDevice(projectB, 'Tablet B'));
  });

  it('lists only open published forms, with token-prefixed links whose hashes match the bytes served', async () => {
    expect(deviceUrl).toBe(`${PUBLIC_URL}/key/${deviceToken}/projects/${projectA}`);
    const answer = await collectGet(`${local(deviceUrl)}/formList`);
    expect(answer.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(answer.headers.get('x-openrosa-version')).toBe('1.0');
    expect(answer.headers.get('date')).toMatch(/GMT$/);
    const list = parseCollectFormList(collectXmlBody(answer));
    expect(list.map((f) => f.formID)).toEqual(['household', 'plain']);
    for (const form of list) {
      expect(form.downloadUrl).toBe(`${deviceUrl}/forms/${form.formID}/form.xml`);
      const download = await collectGet(local(form.downloadUrl));
      expect(download.status).toBe(200);
      expect(download.headers.get('x-openrosa-version')).toBe('1.0');
      expect(`md5:${md5Hex(download.bytes)}`).toBe(form.hash);
      expect(download.bytes.toString('utf8')).toContain(`id="${form.formID}"`);
    }
    const head = await collectGet(local(list[0]!.downloadUrl), {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.bytes.length).toBe(0);
    expect(Number(head.headers.get('content-length'))).toBe((await collectGet(local(list[0]!.downloadUrl))).bytes.length);
    expect(list[0]).toMatchObject({ name: 'Form household', version: '2024.1', manifestUrl: `${deviceUrl}/forms/household/manifest` });
    expect(list[1]!.manifestUrl).toBeNull();
  });

  it('serves a manifest of the uploaded media the form names, each hash matching its download', async () => {
    const manifest = parseCollectManifest(collectXmlBody(await collectGet(`${local(deviceUrl)}/forms/household/manifest`)));
    // villages.csv is named by the form but not uploaded yet: listing it would make every download fail.
    expect(manifest.map((m) => m.filename)).toEqual(['logo.png']);
    const file = await collectGet(local(manifest[0]!.downloadUrl));
    expect(file.status).toBe(200);
    expect(file.bytes.equals(LOGO)).toBe(true);
    expect(manifest[0]!.md5).toBe(md5Hex(file.bytes));
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(parseCollectManifest(collectXmlBody(await collectGet(`${local(deviceUrl)}/forms/plain/manifest`)))).toEqual([]);
  });

  it('honours formID and verbose, and tolerates requests without the OpenRosa header', async () => {
    const only = parseCollectFormList(collectXmlBody(await collectGet(`${local(deviceUrl)}/formList?formID=plain`)));
    expect(only.map((f) => f.formID)).toEqual(['plain']);
    const hidden = parseCollectFormList(collectXmlBody(await collectGet(`${local(deviceUrl)}/formList?formID=winding_down`)));
    expect(hidden).toEqual([]);
    const verbose = collectXmlBody(await collectGet(`${local(deviceUrl)}/formList?verbose=true`));
    expect(verbose).toContain('<descriptionText>Form plain</descriptionText>');
    const bare = await fetch(`${local(deviceUrl)}/formList`);
    expect(bare.status).toBe(200);
    expect(bare.headers.get('x-openrosa-version')).toBe('1.0');
  });

  it("answers Enketo's HEAD on formList with 200 and the OpenRosa headers", async () => {
    const head = await collectGet(`${local(deviceUrl)}/formList`, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('x-openrosa-version')).toBe('1.0');
    expect(head.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(head.bytes.length).toBe(0);
  });

  it('challenges a person for Basic, then serves them links without a token', async () => {
    const plainUrl = `${env().url}/projects/${projectA}/formList`;
    for (const method of ['GET', 'HEAD']) {
      const anonymous = await collectGet(plainUrl, {}, method);
      expect(anonymous.status, method).toBe(401);
      expect(anonymous.headers.get('www-authenticate'), method).toBe('Basic realm="Fieldkeep", charset="UTF-8"');
      expect(anonymous.headers.get('x-fieldkeep-error'), method).toBe('auth.required');
    }
    const list = parseCollectFormList(collectXmlBody(await collectGet(plainUrl, { authorization: basicHeader })));
    expect(list.map((f) => f.formID)).toEqual(['household', 'plain']);
    expect(list[0]!.downloadUrl).toBe(`${PUBLIC_URL}/projects/${projectA}/forms/household/form.xml`);
    const download = await collectGet(local(list[0]!.downloadUrl), { authorization: basicHeader });
    expect(`md5:${md5Hex(download.bytes)}`).toBe(list[0]!.hash);
    const wrong = await collectGet(plainUrl, { authorization: `Basic ${Buffer.from('or_person:not it').toString('base64')}` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('keeps a device to its own project', async () => {
    const intoB = await collectGet(`${env().url}/key/${deviceToken}/projects/${projectB}/formList`);
    expect(intoB.status).toBe(403);
    expect(intoB.headers.get('x-fieldkeep-error')).toBe('device.wrong_project');
    expect(intoB.bytes.toString('utf8')).toContain('<OpenRosaResponse xmlns="http://openrosa.org/http/response"');
    const ownB = parseCollectFormList(collectXmlBody(await collectGet(`${local(otherDeviceUrl)}/formList`)));
    expect(ownB.map((f) => f.formID)).toEqual(['elsewhere']);
    const formOfA = await collectGet(`${local(otherDeviceUrl)}/forms/household/form.xml`);
    expect(formOfA.status).toBe(404);
  });

  it('answers unknown forms and media, and unpublished forms, with OpenRosa errors', async () => {
    const cases: Array<[string, string]> = [
      ['/forms/nothing/form.xml', 'form.not_found'],
      ['/forms/unpublished/manifest', 'form.not_published'],
      ['/forms/household/media/villages.csv', 'media.not_found'],
      ['/forms/household/media/..%2Fsecret', 'media.not_found'],
    ];
    for (const [path, code] of cases) {
      const answer = await collectGet(`${local(deviceUrl)}${path}`);
      expect(answer.status, path).toBe(404);
      expect(answer.headers.get('x-fieldkeep-error'), path).toBe(code);
      expect(answer.headers.get('x-openrosa-version'), path).toBe('1.0');
    }
  });

  it('never writes a device token to the log', async () => {
    await collectGet(`${local(deviceUrl)}/formList`);
    await collectGet(`${env().url}/key/${deviceToken}/projects/${projectB}/formList`);
    const lines = env().rawLogs.filter((line) => line.includes('/key/'));
    expect(lines.length).toBeGreaterThan(0);
    expect(env().rawLogs.join('\n')).not.toContain(deviceToken);
    expect(lines.every((line) => line.includes('/key/[redacted]/'))).toBe(true);
  });

  it("accepts Collect's 12-hour Date header and answers with an HTTP date", async () => {
    const headers = collectHeaders(new Date('2024-02-05T15:04:05Z'));
    expect(headers.date).toBe('Mon, 05 Feb 2024 03:04:05 GMT');
    const answer = await fetch(`${local(deviceUrl)}/formList`, { headers });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('date')).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });
});
