import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { grantEmergencyAccess } from '../projects/index.js';
import { addMemberTo, publishSurvey, submit } from '../submissions/data-fixtures.test-support.js';

const jpeg = Buffer.from('\xff\xd8\xff\xe0 kobo photo', 'latin1');

/** Kobo clients send `Authorization: Token <key>`; Fieldkeep API tokens work there unchanged. */
const kobo = (user: TestUser) => ({ authorization: user.headers.authorization!.replace(/^Bearer /, 'Token ') });

describeEachDatabase('KoBoToolbox API v2 compatibility', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  let owner: TestUser;
  let viewer: TestUser;
  let filtered: TestUser;
  let collector: TestUser;
  let outsider: TestUser;
  let admin: TestUser;
  let projectId: number;
  let uid: string;
  const ids: string[] = [];

  const v2 = (path: string) => `${env().url}/api/v2${path}`;
  const data = async (query: Record<string, string>, user: TestUser = owner) => {
    const response = await call(`${v2(`/assets/${uid}/data/`)}?${new URLSearchParams(query)}`, 'GET', kobo(user));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as { count: number; next: string | null; previous: string | null; results: Array<Record<string, any>> };
  };

  beforeAll(async () => {
    owner = await createTestUser(env(), 'k_owner');
    viewer = await createTestUser(env(), 'k_viewer');
    filtered = await createTestUser(env(), 'k_filtered');
    collector = await createTestUser(env(), 'k_collector');
    outsider = await createTestUser(env(), 'k_outsider');
    admin = await createTestUser(env(), 'k_admin', { admin: true });
    projectId = (await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'Kobo' })).body.id;
    await publishSurvey(env(), projectId, owner);
    await addMemberTo(env(), projectId, owner, 'k_viewer', 'viewer');
    await addMemberTo(env(), projectId, owner, 'k_filtered', 'viewer', { fieldIn: { field: 'district', values: ['east'] } });
    await addMemberTo(env(), projectId, owner, 'k_collector', 'collector');
    ids.push(await submit(env(), projectId, owner, { district: 'north', age: '30', weight: '1.50', where: '10 20 30 4', colors: 'red blue', note: 'one', photo: 'p.jpg', members: ['Kim'] }, { files: { 'p.jpg': jpeg } }));
    for (let i = 2; i <= 5; i += 1) ids.push(await submit(env(), projectId, owner, { district: i % 2 ? 'east' : 'south', age: String(i * 10), note: `n${i}` }));
    const assets = await call(v2('/assets/'), 'GET', kobo(owner));
    uid = assets.body.results[0].uid;
  });

  it('lists the forms a person may see as survey assets', async () => {
    const assets = await call(v2('/assets/'), 'GET', kobo(viewer));
    expect(assets.status).toBe(200);
    expect(assets.body).toMatchObject({ count: 1, next: null, previous: null });
    const [asset] = assets.body.results;
    expect(asset).toEqual({
      url: `${env().config.publicUrl}/api/v2/assets/${uid}/`,
      uid,
      kind: 'asset',
      name: 'Survey survey',
      asset_type: 'survey',
      owner__username: 'k_owner',
      date_created: expect.any(String),
      date_modified: expect.any(String),
      version_id: '1',
      deployed_version_id: '1',
      has_deployment: true,
      deployment__active: true,
      deployment__submission_count: 5,
      deployment_status: 'deployed',
      data: `${env().config.publicUrl}/api/v2/assets/${uid}/data/`,
      settings: { id_string: 'survey' },
    });
    expect(uid).toMatch(/^fkp\d+f\d+$/);
    expect((await call(v2('/assets/'), 'GET', kobo(filtered))).body.results[0].deployment__submission_count).toBe(2);
    expect((await call(v2('/assets/'), 'GET', kobo(collector))).body.results[0].deployment__submission_count).toBe(0);
    expect((await call(v2('/assets/'), 'GET', kobo(outsider))).body).toEqual({ count: 0, next: null, previous: null, results: [] });
    expect((await call(v2(`/assets/${uid}/`), 'GET', kobo(viewer))).body.uid).toBe(uid);
  });

  it("returns submissions in Kobo's shape, field by field, with string answers", async () => {
    const page = await data({ query: JSON.stringify({ note: 'one' }) });
    expect(page).toMatchObject({ count: 1, next: null, previous: null });
    const [s] = page.results;
    const attachmentUrl = `${env().config.publicUrl}/api/v1/projects/${projectId}/forms/survey/submissions/${encodeURIComponent(ids[0]!)}/attachments/p.jpg`;
    expect(s).toEqual({
      _id: expect.any(Number),
      district: 'north',
      age: '30',
      weight: '1.50',
      where: '10 20 30 4',
      colors: 'red blue',
      note: 'one',
      photo: 'p.jpg',
      member: [{ 'member/name': 'Kim' }],
      'meta/instanceID': ids[0],
      'meta/rootUuid': ids[0],
      __version__: '1',
      _xform_id_string: 'survey',
      _uuid: ids[0]!.slice(5),
      _attachments: [
        {
          download_url: attachmentUrl,
          download_large_url: attachmentUrl,
          download_medium_url: attachmentUrl,
          download_small_url: attachmentUrl,
          mimetype: 'image/jpeg',
          filename: `k_owner/attachments/${uid}/${ids[0]!.slice(5)}/p.jpg`,
          media_file_basename: 'p.jpg',
          instance: s!._id,
          xform: expect.any(Number),
          id: expect.any(Number),
          uid: expect.stringMatching(/^att\d+$/),
          question_xpath: 'photo',
          is_deleted: false,
        },
      ],
      _status: 'submitted_via_web',
      _geolocation: [10, 20],
      _submission_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
      _tags: [],
      _notes: [],
      _validation_status: {},
      _submitted_by: 'k_owner',
    });
    const photo = await fetch(`${env().url}${new URL(s!._attachments[0].download_url).pathname}`, { headers: kobo(owner) });
    expect(Buffer.from(await photo.arrayBuffer())).toEqual(jpeg);
    const single = await call(v2(`/assets/${uid}/data/${s!._id}/`), 'GET', kobo(owner));
    expect(single.body).toEqual(s);
    const singleXml = await fetch(`${v2(`/assets/${uid}/data/${s!._id}/`)}?format=xml`, { headers: kobo(owner) });
    const singleText = await singleXml.text();
    expect(singleText).toContain(`<orx:instanceID>${ids[0]}</orx:instanceID>`);
    expect(singleText.match(/<\?xml/g)).toHaveLength(1);
    expect(singleText).toMatch(/^<\?xml/);
    const other = (await data({ query: JSON.stringify({ note: 'n2' }) })).results[0]!;
    expect(other._geolocation).toEqual([null, null]);
    expect(other._attachments).toEqual([]);
  });

  it('pages with start and limit, keeping the other parameters in next and previous', async () => {
    const query = JSON.stringify({ age: { $gte: 20 }, note: { $regex: '^n' } });
    const first = await data({ start: '0', limit: '2', query, sort: '{"_id": 1}' });
    expect(first.count).toBe(4);
    expect(first.results.map((r) => r.note)).toEqual(['n2', 'n3']);
    expect(first.previous).toBeNull();
    const next = new URL(first.next!);
    expect(Object.fromEntries(next.searchParams)).toEqual({ query, sort: '{"_id": 1}', start: '2', limit: '2', after: expect.any(String) });
    const second = (await call(`${env().url}${next.pathname}${next.search}`, 'GET', kobo(owner))).body;
    expect(second.results.map((r: any) => r.note)).toEqual(['n4', 'n5']);
    expect(second.next).toBeNull();
    expect(new URL(second.previous).searchParams.get('start')).toBe('0');
    expect((await data({ limit: '50000' })).results).toHaveLength(5);
    const byStart = await data({ start: '2', limit: '2', query, sort: '{"_id": 1}' });
    expect(byStart.results.map((r) => r.note)).toEqual(['n4', 'n5']);
  });

  it('sorts, selects fields and answers MongoDB-style queries', async () => {
    expect((await data({ sort: '{"age": -1}', fields: '["note", "_id"]' })).results.map((r) => Object.keys(r))).toEqual(Array(5).fill(['note', '_id']));
    expect((await data({ sort: '{"age": -1}', fields: '["note"]' })).results.map((r) => r.note)).toEqual(['n5', 'n4', 'n3', 'one', 'n2']);
    const notes = async (query: unknown) => (await data({ query: JSON.stringify(query), fields: '["note"]' })).results.map((r) => r.note);
    expect(await notes({ $or: [{ district: 'north' }, { age: { $gt: 45 } }] })).toEqual(['one', 'n5']);
    expect(await notes({ district: { $in: ['east'] }, age: { $lt: 40 } })).toEqual(['n3']);
    expect(await notes({ weight: { $exists: true } })).toEqual(['one']);
    expect(await notes({ note: { $regex: '^N', $options: 'i' } })).toEqual(['n2', 'n3', 'n4', 'n5']);
    expect(await notes({ _submission_time: { $gte: '2000-01-01T00:00:00' } })).toHaveLength(5);
    expect(await notes({ _uuid: ids[2]!.slice(5) })).toEqual(['n3']);
    const unsupported = await call(`${v2(`/assets/${uid}/data/`)}?${new URLSearchParams({ query: '{"age": {"$mod": [2, 0]}}' })}`, 'GET', kobo(owner));
    expect([unsupported.status, unsupported.body.code]).toEqual([400, 'submission.query_unsupported']);
    expect(unsupported.body.detail).toMatch(/\$mod/);
    const twoSorts = await call(`${v2(`/assets/${uid}/data/`)}?${new URLSearchParams({ sort: '{"age": 1, "note": 1}' })}`, 'GET', kobo(owner));
    expect([twoSorts.status, twoSorts.body.code]).toEqual([400, 'submission.query_unsupported']);
  });

  it('gives the XML as received with format=xml', async () => {
    const response = await fetch(`${v2(`/assets/${uid}/data/`)}?format=xml&limit=2`, { headers: kobo(owner) });
    expect(response.headers.get('content-type')).toMatch(/^application\/xml/);
    const xml = await response.text();
    // kpi's SubmissionXMLRenderer: dicttoxml's declaration and paging fields, then the XMLs.
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8" \?><root><count>5<\/count><next>[^<]+start=2&amp;limit=2&amp;after=[^<&]+<\/next><previous><\/previous><results><data id="survey"/);
    expect(xml.match(/<data id="survey"/g)).toHaveLength(2);
    expect(xml.match(/<\?xml/g)).toHaveLength(1);
    expect(xml).toContain(`<orx:instanceID>${ids[1]}</orx:instanceID>`);
    expect(xml.endsWith('</results></root>')).toBe(true);
    const empty = await (await fetch(`${v2(`/assets/${uid}/data/`)}?format=xml&query=${encodeURIComponent('{"note": "none"}')}`, { headers: kobo(owner) })).text();
    expect(empty).toBe('<?xml version="1.0" encoding="UTF-8" ?><root><count>0</count><next></next><previous></previous></root>');
  });

  it('authorises each asset through the project policy and applies row filters', async () => {
    const refused = async (user: TestUser, path: string) => {
      const response = await call(v2(path), 'GET', kobo(user));
      return [response.status, response.body.code];
    };
    expect(await refused(outsider, `/assets/${uid}/data/`)).toEqual([404, 'asset.not_found']);
    expect(await refused(outsider, `/assets/${uid}/`)).toEqual([404, 'asset.not_found']);
    expect(await refused(collector, `/assets/${uid}/data/`)).toEqual([403, 'access.denied']);
    expect(await refused(viewer, '/assets/fkp999f1/data/')).toEqual([404, 'asset.not_found']);
    expect(await refused(viewer, '/assets/aNotOurs/data/')).toEqual([404, 'asset.not_found']);
    const annsId = (await data({ query: JSON.stringify({ 'meta/instanceID': ids[0] }) })).results[0]!._id as number;
    expect(await refused(filtered, `/assets/${uid}/data/${annsId}/`)).toEqual([404, 'submission.not_found']);
    expect(await refused(collector, `/assets/${uid}/data/${annsId}/`)).toEqual([403, 'access.denied']);
    const db = env().server.database.db;
    const before = await db.selectFrom('audit_log').select('id').where('action', '=', 'access.admin_refused').execute();
    expect(await refused(admin, `/assets/${uid}/data/`)).toEqual([403, 'access.admin_without_grant']);
    expect((await db.selectFrom('audit_log').select('id').where('action', '=', 'access.admin_refused').execute()).length).toBe(before.length + 1);
    expect((await call(v2(`/assets/${uid}/data/`), 'GET', {})).status).toBe(401);

    const visible = await data({ fields: '["note"]' }, filtered);
    expect(visible).toMatchObject({ count: 2 });
    expect(visible.results.map((r) => r.note)).toEqual(['n3', 'n5']);
    expect((await data({ query: JSON.stringify({ 'meta/instanceID': ids[0] }) }, filtered)).results).toEqual([]);
    const xml = await (await fetch(`${v2(`/assets/${uid}/data/`)}?format=xml`, { headers: kobo(filtered) })).text();
    expect(xml).not.toContain(ids[0]!);

    await grantEmergencyAccess(db, { projectId, username: 'k_admin', role: 'viewer', reason: 'kobo test', hours: 1 });
    expect((await data({}, admin)).count).toBe(5);
  });
});
