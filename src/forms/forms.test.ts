import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { buildZip, xlsxParts, zerosDeflated } from '../xlsform/workbook/fixtures.test-support.js';

const corpus = path.resolve(import.meta.dirname, '../../../shared/testdata/xlsform/forms');
const workbook = (name: string) => readFileSync(path.join(corpus, name));

const xform = (version: string, ageType = 'int', formId = 'survey') => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>Survey</h:title><model>
  <instance><data id="${formId}" version="${version}"><age/><meta><instanceID/></meta></data></instance>
  <instance id="villages" src="jr://file-csv/villages.csv"/>
  <bind nodeset="/data/age" type="${ageType}"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/age"><label>Age</label></input></h:body>
</h:html>`;

/** An .xlsx whose one sheet inflates to a gigabyte of zeros. */
const zipBomb = () =>
  buildZip([...xlsxParts({ sheets: [] }), { name: 'xl/worksheets/sheet1.xml', deflated: zerosDeflated(1000), declaredSize: 1000 * 1024 * 1024 }]);

describeEachDatabase('forms', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_FORM_MAX_BYTES: String(2 * 1024 * 1024), FIELDKEEP_MEDIA_MAX_BYTES: '4096' });
  let owner: TestUser;
  let collector: TestUser;
  let admin: TestUser;
  let forms: string;

  const upload = (url: string, body: Uint8Array | string, user: TestUser = owner, contentType = 'application/octet-stream') =>
    fetch(url, { method: 'POST', headers: { ...user.headers, 'content-type': contentType }, body: typeof body === 'string' ? body : new Uint8Array(body) }).then(async (r) => ({ status: r.status, body: await r.json() }));

  beforeAll(async () => {
    owner = await createTestUser(env(), 'owner');
    collector = await createTestUser(env(), 'collector');
    admin = await createTestUser(env(), 'admin', { admin: true });
    const project = await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'Household survey' });
    forms = `${env().url}/api/v1/projects/${project.body.id}/forms`;
    await call(`${env().url}/api/v1/projects/${project.body.id}/members`, 'POST', owner.headers, { username: 'collector', role: 'collector' });
  });

  it('converts an uploaded XLSForm into a draft, publishes it, and serves the exact XForm whose hash it lists', async () => {
    const created = await upload(`${forms}?fileName=gps.xls`, workbook('kpi__gps.xls'));
    expect(created.status).toBe(201);
    expect(created.body.form).toMatchObject({ xmlFormId: 'gps', state: 'open', published: null, draft: { source: { kind: 'xlsform', fileName: 'gps.xls' } } });
    const published = await call(`${forms}/gps/draft/publish`, 'POST', owner.headers);
    expect(published.status).toBe(200);
    expect(published.body.draft).toBeNull();
    const xml = await fetch(`${forms}/gps/xform`, { headers: owner.headers });
    expect(xml.headers.get('content-type')).toMatch(/^application\/xml/);
    const bytes = Buffer.from(await xml.arrayBuffer());
    expect(createHash('md5').update(bytes).digest('hex')).toBe(published.body.published.hash);
    const source = await fetch(`${forms}/gps/versions/${published.body.published.id}/source`, { headers: owner.headers });
    expect(Buffer.from(await source.arrayBuffer()).equals(workbook('kpi__gps.xls'))).toBe(true);
  });

  it('refuses a second form with the same id', async () => {
    const again = await upload(`${forms}?fileName=gps.xls`, workbook('kpi__gps.xls'));
    expect(again).toMatchObject({ status: 409, body: { code: 'form.already_exists' } });
  });

  it('keeps every published version, and refuses to publish a version string twice', async () => {
    expect((await upload(`${forms}?publish=true`, xform('1'), owner, 'application/xml')).status).toBe(201);
    expect((await upload(`${forms}/survey/draft`, xform('1'), owner, 'application/xml')).status).toBe(201);
    const repeat = await call(`${forms}/survey/draft/publish`, 'POST', owner.headers);
    expect(repeat).toMatchObject({ status: 409, body: { code: 'form.version_exists' } });
    expect((await upload(`${forms}/survey/draft`, xform('2', 'decimal'), owner, 'application/xml')).status).toBe(201);
    expect((await call(`${forms}/survey/draft/publish`, 'POST', owner.headers)).status).toBe(200);
    const versions = await call(`${forms}/survey/versions`, 'GET', owner.headers);
    expect(versions.body.map((v: { version: string }) => v.version)).toEqual(['2', '1']);
    const first = await fetch(`${forms}/survey/versions/${versions.body[1].id}/xform`, { headers: owner.headers });
    expect(await first.text()).toBe(xform('1'));
  });

  it('asks for consent before publishing a change existing data would not fit', async () => {
    await upload(`${forms}/survey/draft`, xform('3', 'date'), owner, 'application/xml');
    const refused = await call(`${forms}/survey/draft/publish`, 'POST', owner.headers);
    expect(refused).toMatchObject({ status: 409, body: { code: 'form.incompatible_change', changes: [expect.objectContaining({ path: '/data/age', from: 'decimal', to: 'date' })] } });
    const accepted = await call(`${forms}/survey/draft/publish?acceptChanges=true`, 'POST', owner.headers);
    expect(accepted.status).toBe(200);
    expect(accepted.body.published.version).toBe('3');
  });

  it('refuses a draft that belongs to another form', async () => {
    const mismatch = await upload(`${forms}/survey/draft`, xform('9', 'int', 'other'), owner, 'application/xml');
    expect(mismatch).toMatchObject({ status: 409, body: { code: 'form.id_mismatch' } });
  });

  it.each([
    ['an empty body', Buffer.alloc(0), 'form.unrecognised_file'],
    ['a PDF', Buffer.from('%PDF-1.7 not a form'), 'form.unrecognised_file'],
    ['an XForm with a DOCTYPE', Buffer.from('<?xml version="1.0"?><!DOCTYPE h [<!ENTITY a "aaaa">]><h:html/>'), 'form.invalid_xform'],
    ['an XLSForm with an error', workbook('onadata__group_names_must_be_unique.xlsx'), 'form.invalid_xlsform'],
    ['a zip bomb', zipBomb(), 'form.invalid_xlsform'],
  ])('answers %s with 400 and a clear code', async (_label, body, code) => {
    const response = await upload(`${forms}?fileName=x.xlsx`, body);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe(code);
  });

  it('refuses an oversize upload with 413', async () => {
    const response = await upload(forms, Buffer.alloc(3 * 1024 * 1024, 0x20));
    expect(response).toMatchObject({ status: 413, body: { code: 'request.body_too_large' } });
  });

  it('lists the media a form names, stores uploads with their MD5, replaces and deletes them', async () => {
    const before = await call(`${forms}/survey/media`, 'GET', owner.headers);
    expect(before.body).toEqual([{ name: 'villages.csv', uploaded: false }]);
    const csv = 'name,label\nkibera,Kibera\n';
    const put = await fetch(`${forms}/survey/media/villages.csv`, { method: 'PUT', headers: { ...owner.headers, 'content-type': 'text/csv' }, body: csv });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ name: 'villages.csv', uploaded: true, md5: createHash('md5').update(csv).digest('hex'), size: csv.length, contentType: 'text/csv' });
    const download = await fetch(`${forms}/survey/media/villages.csv`, { headers: owner.headers });
    expect(await download.text()).toBe(csv);
    const replaced = await fetch(`${forms}/survey/media/villages.csv`, { method: 'PUT', headers: { ...owner.headers, 'content-type': 'text/csv' }, body: 'name,label\n' });
    expect((await replaced.json()).size).toBe(11);
    expect((await call(`${forms}/survey/media/villages.csv`, 'DELETE', owner.headers)).status).toBe(204);
    expect((await call(`${forms}/survey/media/villages.csv`, 'GET', owner.headers)).body.code).toBe('media.not_found');
  });

  it('refuses media names that are paths and media over the size limit', async () => {
    const traversal = await fetch(`${forms}/survey/media/..%2F..%2Fetc%2Fpasswd`, { method: 'PUT', headers: owner.headers, body: 'x' });
    expect((await traversal.json()).code).toBe('media.bad_name');
    const large = await fetch(`${forms}/survey/media/big.jpg`, { method: 'PUT', headers: { ...owner.headers, 'content-type': 'image/jpeg' }, body: Buffer.alloc(5000) });
    expect(large.status).toBe(413);
  });

  it('moves a form between open, closing and closed, and refuses other states', async () => {
    expect((await call(`${forms}/survey`, 'PATCH', owner.headers, { state: 'closing' })).body.state).toBe('closing');
    expect((await call(`${forms}/survey`, 'PATCH', owner.headers, { state: 'paused' })).body.code).toBe('request.invalid');
  });

  it('lets a collector read forms but not change them, and keeps an admin without a role out', async () => {
    expect((await call(forms, 'GET', collector.headers)).status).toBe(200);
    expect((await upload(`${forms}/survey/draft`, xform('4'), collector, 'application/xml')).body.code).toBe('access.denied');
    expect((await call(`${forms}/survey/xform`, 'GET', admin.headers)).body.code).toBe('access.admin_without_grant');
  });

  it('records every change in the audit log', async () => {
    const log = await call(`${forms.replace('/forms', '')}/audit?action=form.`, 'GET', owner.headers);
    const actions = new Set(log.body.entries.map((e: { action: string }) => e.action));
    for (const action of ['form.create', 'form.publish', 'form.draft_update', 'form.media_put', 'form.media_delete', 'form.state']) expect(actions).toContain(action);
  });

  it('deletes a form', async () => {
    expect((await call(`${forms}/gps`, 'DELETE', owner.headers)).status).toBe(204);
    expect((await call(`${forms}/gps`, 'GET', owner.headers)).body.code).toBe('form.not_found');
  });
});
