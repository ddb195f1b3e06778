import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { typeStoredAnswers } from '../db/migrations/0009-submission-data.js';
import { addMemberTo, publishSurvey, submit, type Answers } from './data-fixtures.test-support.js';

const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('JPEG bytes '.repeat(40))]);

describeEachDatabase('the submission data API', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  let owner: TestUser;
  let ann: TestUser;
  let bob: TestUser;
  let north: TestUser;
  let projectId: number;
  const ids: Record<string, string> = {};

  const api = (path: string) => `${env().url}/api/v1/projects/${projectId}/forms/survey/submissions${path}`;
  const list = async (query: Record<string, string>, user: TestUser = owner) => {
    const response = await call(`${api('')}?${new URLSearchParams(query)}`, 'GET', user.headers);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as { results: Array<Record<string, any>>; next: string | null; count?: number };
  };
  const matching = async (filter: unknown, user: TestUser = owner) => (await list({ filter: JSON.stringify(filter), fields: 'note', limit: '1000', sort: 'note' }, user)).results.map((r) => r.note ?? null);

  const rows: Array<[key: string, user: () => TestUser, answers: Answers]> = [
    ['a1', () => ann, { district: 'north', age: '30', weight: '60.5', seen: '2024-05-01T10:00:00.000+02:00', where: '-1.5 36.8 1700 5', colors: 'red blue', note: 'a1 Hello World', photo: 'p1.jpg', members: ['Kim', 'Lee'] }],
    ['a2', () => ann, { district: 'south', age: '45', weight: '80', seen: '2024-06-01T09:00:00.000Z', colors: 'blue', note: 'a2 hello there' }],
    ['b1', () => bob, { district: 'north', age: '18', weight: '55.25', seen: '2024-07-01T00:00:00.000Z', colors: 'green', note: 'b1 x.y' }],
    ['b2', () => bob, { district: 'east', age: '70', note: 'b2 done' }],
    ['o1', () => owner, { district: 'south', age: '5', weight: '20', note: 'o1 small' }],
  ];

  beforeAll(async () => {
    owner = await createTestUser(env(), 'data_owner');
    ann = await createTestUser(env(), 'ann');
    bob = await createTestUser(env(), 'bob');
    north = await createTestUser(env(), 'northie');
    projectId = (await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'Data' })).body.id;
    await publishSurvey(env(), projectId, owner);
    await addMemberTo(env(), projectId, owner, 'ann', 'editor', { submittedByMe: true });
    await addMemberTo(env(), projectId, owner, 'bob', 'editor');
    await addMemberTo(env(), projectId, owner, 'northie', 'viewer', { fieldIn: { field: 'district', values: ['north'] } });
    for (const [key, user, answers] of rows) ids[key] = await submit(env(), projectId, user(), answers, answers.photo ? { files: { [answers.photo]: jpeg } } : {});
  });

  it('presents a submission with typed answers and every system field, Kobo-named', async () => {
    const one = await call(api(`/${encodeURIComponent(ids.a1!)}`), 'GET', owner.headers);
    expect(one.status).toBe(200);
    const s = one.body;
    expect(s).toMatchObject({
      district: 'north',
      age: 30,
      weight: 60.5,
      seen: '2024-05-01T08:00:00.000Z',
      where: [-1.5, 36.8, 1700, 5],
      colors: 'red blue',
      note: 'a1 Hello World',
      photo: 'p1.jpg',
      member: [{ 'member/name': 'Kim' }, { 'member/name': 'Lee' }],
      _uuid: ids.a1!.slice(5),
      _submitted_by: 'ann',
      _validation_status: {},
      _geolocation: [-1.5, 36.8],
      _status: 'submitted_via_web',
      _edited: false,
      _review_comments: [],
      __version__: '1',
      'meta/instanceID': ids.a1,
      'meta/deprecatedID': null,
      'meta/rootUuid': ids.a1,
    });
    expect(typeof s._id).toBe('number');
    expect(s._submission_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(s._attachments).toEqual([
      { name: 'p1.jpg', contentType: 'image/jpeg', size: jpeg.length, received: true, question: 'photo', url: `${env().config.publicUrl}${new URL(api(`/${encodeURIComponent(ids.a1!)}/attachments/p1.jpg`)).pathname}` },
    ]);
    const split = await call(api(`/${encodeURIComponent(ids.a1!)}?selectMultiple=split`), 'GET', owner.headers);
    expect(split.body.colors).toEqual(['red', 'blue']);
  });

  it('returns the XML exactly as received', async () => {
    const response = await fetch(api(`/${encodeURIComponent(ids.b1!)}.xml`), { headers: owner.headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/xml/);
    const xml = await response.text();
    expect(xml).toContain(`<orx:instanceID>${ids.b1}</orx:instanceID>`);
    expect(xml.startsWith("<?xml version='1.0' ?><data id=\"survey\"")).toBe(true);
  });

  it('filters with every operator, in the database', async () => {
    expect(await matching({ district: 'north' })).toEqual(['a1 Hello World', 'b1 x.y']);
    expect(await matching({ age: 30 })).toEqual(['a1 Hello World']);
    expect(await matching({ age: '30' })).toEqual(['a1 Hello World']);
    expect(await matching({ age: { $gt: 30 } })).toEqual(['a2 hello there', 'b2 done']);
    expect(await matching({ age: { $gte: 30, $lt: 70 } })).toEqual(['a1 Hello World', 'a2 hello there']);
    expect(await matching({ age: { $lte: 18 } })).toEqual(['b1 x.y', 'o1 small']);
    expect(await matching({ weight: { $gt: 55.2, $lt: 60.6 } })).toEqual(['a1 Hello World', 'b1 x.y']);
    expect(await matching({ district: { $ne: 'north' } })).toEqual(['a2 hello there', 'b2 done', 'o1 small']);
    expect(await matching({ weight: { $ne: 80 } })).toEqual(['a1 Hello World', 'b1 x.y', 'b2 done', 'o1 small']);
    expect(await matching({ district: { $in: ['east', 'south'] } })).toEqual(['a2 hello there', 'b2 done', 'o1 small']);
    expect(await matching({ age: { $in: [5, 70] } })).toEqual(['b2 done', 'o1 small']);
    expect(await matching({ district: { $nin: ['north', 'south'] } })).toEqual(['b2 done']);
    expect(await matching({ weight: { $exists: false } })).toEqual(['b2 done']);
    expect(await matching({ weight: null })).toEqual(['b2 done']);
    expect(await matching({ where: { $exists: true } })).toEqual(['a1 Hello World']);
    expect(await matching({ note: { $contains: 'hello' } })).toEqual(['a2 hello there']);
    expect(await matching({ note: { $regex: 'hello', $options: 'i' } })).toEqual(['a1 Hello World', 'a2 hello there']);
    expect(await matching({ note: { $regex: '^b' } })).toEqual(['b1 x.y', 'b2 done']);
    expect(await matching({ note: { $regex: 'x\\.y$' } })).toEqual(['b1 x.y']);
    expect(await matching({ note: { $regex: '^o1 small$' } })).toEqual(['o1 small']);
    expect(await matching({ colors: { $regex: 'blue' } })).toEqual(['a1 Hello World', 'a2 hello there']);
    expect(await matching({ seen: { $gte: '2024-05-01T08:00:00.000Z', $lt: '2024-07-01' } })).toEqual(['a1 Hello World', 'a2 hello there']);
    expect(await matching({ _submitted_by: 'bob' })).toEqual(['b1 x.y', 'b2 done']);
    expect(await matching({ _submitted_by: { $in: ['ann', 'data_owner'] } })).toEqual(['a1 Hello World', 'a2 hello there', 'o1 small']);
    expect(await matching({ _uuid: ids.b2!.slice(5) })).toEqual(['b2 done']);
    expect(await matching({ 'meta/instanceID': ids.o1 })).toEqual(['o1 small']);
    expect(await matching({ $or: [{ district: 'east' }, { $and: [{ district: 'north' }, { age: { $lt: 20 } }] }] })).toEqual(['b1 x.y', 'b2 done']);
    expect(await matching({ _submission_time: { $gte: '2000-01-01', $lt: '2999-01-01T00:00:00' } })).toHaveLength(5);
    expect(await matching({ _submission_time: { $lt: '2000-01-01' } })).toEqual([]);
    const first = await list({ sort: '_id', limit: '1' });
    expect(await matching({ _id: first.results[0]!._id })).toEqual(['a1 Hello World']);
  });

  it('refuses what it cannot answer exactly, with the reason', async () => {
    const refused = async (filter: unknown, code: string, pattern: RegExp) => {
      const response = await call(`${api('')}?${new URLSearchParams({ filter: JSON.stringify(filter) })}`, 'GET', owner.headers);
      expect([response.status, response.body.code], JSON.stringify(filter)).toEqual([400, code]);
      expect(response.body.detail).toMatch(pattern);
    };
    await refused({ age: { $where: 'x' } }, 'submission.query_unsupported', /\$where/);
    await refused({ $nor: [{ age: 1 }] }, 'submission.query_unsupported', /\$nor/);
    await refused({ note: { $regex: 'a.*b' } }, 'submission.query_unsupported', /only literal text/);
    await refused({ note: { $regex: '\\d+' } }, 'submission.query_unsupported', /character classes/);
    await refused({ note: { $regex: 'a', $options: 'm' } }, 'submission.query_unsupported', /\$options/);
    await refused({ 'member/name': 'Kim' }, 'submission.query_unsupported', /inside a repeat/);
    await refused({ _tags: 'x' }, 'submission.query_unsupported', /cannot be used/);
    await refused({ age: { a: 1 } }, 'submission.query_unsupported', /sub-documents/);
    await refused({ "x'; drop table submissions; --": 1 }, 'submission.query_invalid', /not a field name/);
    await refused([1], 'submission.query_invalid', /JSON object/);
    const deep = JSON.parse('{"$and":[' .repeat(9) + '{"a":1}' + ']}'.repeat(9)) as unknown;
    await refused(deep, 'submission.query_invalid', /deeper/);
    const notJson = await call(`${api('')}?filter=%7Bnope`, 'GET', owner.headers);
    expect([notJson.status, notJson.body.code]).toEqual([400, 'submission.query_invalid']);
  });

  it('pages by cursor without repeating or skipping rows while others insert', async () => {
    const seen: Array<{ _id: number; instanceId: string }> = [];
    let paging = true;
    // Phones keep submitting while a client pages: rows sorted after the cursor appear, nothing shifts.
    const inserting = (async () => {
      for (let i = 0; i < 4 && paging; i += 1) await submit(env(), projectId, bob, { district: 'west', age: String(100 + i), note: `late ${i}` });
    })();
    let cursor: string | null = null;
    do {
      const page = await list({ limit: '2', fields: '_id,meta/instanceID', ...(cursor ? { cursor } : {}) });
      seen.push(...page.results.map((r) => ({ _id: r._id as number, instanceId: r['meta/instanceID'] as string })));
      cursor = page.next;
    } while (cursor !== null);
    paging = false;
    await inserting;
    const seenIds = seen.map((r) => r._id);
    expect(seenIds).toEqual([...seenIds].sort((a, b) => a - b));
    expect(new Set(seenIds).size).toBe(seenIds.length);
    expect(seen.slice(0, 5).map((r) => r.instanceId)).toEqual([ids.a1, ids.a2, ids.b1, ids.b2, ids.o1]);
    const all = (await list({ limit: '1000', fields: '_id' })).results.map((r) => r._id as number);
    // Whatever was submitted after the last page was read comes after it: nothing was skipped.
    const after = await list({ limit: '1000', fields: '_id', filter: JSON.stringify({ _id: { $gt: seenIds[seenIds.length - 1] } }) });
    expect([...seenIds, ...after.results.map((r) => r._id as number)]).toEqual(all);
  });

  it('pages in any sort order, with rows lacking the value last', async () => {
    for (const sort of ['age', '-age', 'weight', '-weight', '-_id', '_submission_time', 'note']) {
      const all = (await list({ sort, limit: '1000', fields: '_id,age,weight' })).results;
      const paged: Array<Record<string, unknown>> = [];
      let cursor: string | null = null;
      do {
        const page = await list({ sort, limit: '3', fields: '_id,age,weight', ...(cursor ? { cursor } : {}) });
        paged.push(...page.results);
        cursor = page.next;
      } while (cursor !== null);
      expect(paged, sort).toEqual(all);
    }
    const byWeight = (await list({ sort: 'weight', limit: '1000', fields: 'weight' })).results.map((r) => r.weight ?? null);
    expect(byWeight.slice(0, 4)).toEqual([20, 55.25, 60.5, 80]);
    expect(byWeight.slice(4).every((w) => w === null)).toBe(true);
    const bad = await call(`${api('')}?sort=age&cursor=${(await list({ sort: '-age', limit: '1' })).next}`, 'GET', owner.headers);
    expect([bad.status, bad.body.code]).toEqual([400, 'submission.cursor_invalid']);
  });

  it('counts, with and without a filter', async () => {
    const total = (await list({ count: 'true', limit: '1' })).count!;
    expect(total).toBeGreaterThanOrEqual(5);
    expect((await call(`${api('.count')}?${new URLSearchParams({ filter: '{"district":"north"}' })}`, 'GET', owner.headers)).body).toEqual({ count: 2 });
    expect((await list({ count: 'true', limit: '1', filter: '{"age":{"$lt":20}}' })).count).toBe(2);
  });

  it('keeps every version of an edited submission and shows what changed', async () => {
    const original = await submit(env(), projectId, owner, { district: 'north', age: '40', note: 'to edit', colors: 'red' });
    const edit = await submit(env(), projectId, owner, { district: 'south', age: '41', note: 'to edit', weight: '9' }, { deprecatedId: original });
    const current = await call(api(`/${encodeURIComponent(original)}`), 'GET', owner.headers);
    expect(current.body).toMatchObject({ age: 41, _edited: true, 'meta/instanceID': edit, 'meta/deprecatedID': original, 'meta/rootUuid': original, _uuid: edit.slice(5) });
    const versions = await call(api(`/${encodeURIComponent(original)}/versions`), 'GET', owner.headers);
    expect(versions.body.map((v: any) => [v.instanceId, v.deprecatedId, v.current, v.data.age])).toEqual([
      [original, null, false, 40],
      [edit, original, true, 41],
    ]);
    const diffs = await call(api(`/${encodeURIComponent(original)}/diffs`), 'GET', owner.headers);
    expect(diffs.body).toEqual([
      {
        from: original,
        to: edit,
        changes: [
          { path: 'district', before: 'north', after: 'south' },
          { path: 'age', before: '40', after: '41' },
          { path: 'weight', before: null, after: '9' },
          { path: 'meta/instanceID', before: original, after: edit },
          { path: 'meta/deprecatedID', before: null, after: original },
          { path: 'colors', before: 'red', after: null },
        ],
      },
    ]);
    const byEditId = await call(api(`/${encodeURIComponent(edit)}`), 'GET', owner.headers);
    expect(byEditId.status).toBe(404);
  });

  it('serves attachments with their type, an RFC 6266 name and byte ranges', async () => {
    const url = api(`/${encodeURIComponent(ids.a1!)}/attachments/p1.jpg`);
    const whole = await fetch(url, { headers: owner.headers });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('image/jpeg');
    expect(whole.headers.get('content-disposition')).toBe(`attachment; filename="p1.jpg"; filename*=UTF-8''p1.jpg`);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(jpeg);
    const part = await fetch(url, { headers: { ...owner.headers, range: 'bytes=2-9' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 2-9/${jpeg.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(jpeg.subarray(2, 10));
    const tail = await fetch(url, { headers: { ...owner.headers, range: 'bytes=-4' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(jpeg.subarray(jpeg.length - 4));
    const beyond = await fetch(url, { headers: { ...owner.headers, range: `bytes=${jpeg.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${jpeg.length}`);
    const listed = await call(api(`/${encodeURIComponent(ids.a1!)}/attachments`), 'GET', owner.headers);
    expect(listed.body).toEqual([expect.objectContaining({ name: 'p1.jpg', received: true, question: 'photo' })]);
    expect((await fetch(api(`/${encodeURIComponent(ids.a1!)}/attachments/nope.jpg`), { headers: owner.headers })).status).toBe(404);
  });

  it('audits reads once per group, not once per page', async () => {
    const db = env().server.database.db;
    const before = await db.selectFrom('audit_log').select('id').where('action', '=', 'submission.read').where('actor_id', '=', bob.id).execute();
    await list({ limit: '1' }, bob);
    await list({ limit: '2' }, bob);
    const after = await db.selectFrom('audit_log').selectAll().where('action', '=', 'submission.read').where('actor_id', '=', bob.id).execute();
    expect(after.length).toBe(before.length + 1);
    expect(after[after.length - 1]).toMatchObject({ project_id: projectId, resource_type: 'form', resource_id: 'survey' });
  });

  it('types the answers of versions stored before migration 0009 as ingest does', async () => {
    const db = env().server.database.db;
    const stored = await db.selectFrom('submission_versions').select(['id', 'data_json']).orderBy('id').execute();
    await db.updateTable('submission_versions').set({ data_json: null }).execute();
    await typeStoredAnswers(db);
    const typed = await db.selectFrom('submission_versions').select(['id', 'data_json']).orderBy('id').execute();
    const parsed = (rows: typeof stored) => rows.map((r) => [r.id, typeof r.data_json === 'string' ? JSON.parse(r.data_json) : r.data_json]);
    expect(parsed(typed)).toEqual(parsed(stored));
    expect(stored.every((r) => r.data_json !== null)).toBe(true);
  });

  it('applies row filters to every read: a filtered-out submission cannot be reached by any route', async () => {
    expect((await list({ limit: '1000', fields: 'note', sort: 'note' }, ann)).results.map((r) => r.note)).toEqual(['a1 Hello World', 'a2 hello there']);
    expect((await list({ limit: '1000', fields: 'note', sort: 'note', filter: '{"district":{"$exists":true}}' }, north)).results.map((r) => r.note)).toEqual(['a1 Hello World', 'b1 x.y']);
    expect((await list({ count: 'true', limit: '1', filter: '{"age":{"$gte":0}}' }, ann)).count).toBe(2);
    expect((await call(`${api('.count')}`, 'GET', north.headers)).body).toEqual({ count: 2 });
    const hidden: Array<[TestUser, string]> = [
      [ann, ids.b1!],
      [north, ids.a2!],
      [north, ids.o1!],
    ];
    for (const [user, instanceId] of hidden) {
      const one = `/${encodeURIComponent(instanceId)}`;
      for (const path of [one, `${one}.xml`, `${one}/versions`, `${one}/diffs`, `${one}/attachments`, `${one}/attachments/p1.jpg`]) {
        const response = await call(api(path), 'GET', user.headers);
        expect([response.status, response.body.code], path).toEqual([404, 'submission.not_found']);
      }
      for (const filter of [{ 'meta/instanceID': instanceId }, { _uuid: instanceId.slice(5) }]) {
        expect((await list({ filter: JSON.stringify(filter) }, user)).results).toEqual([]);
      }
    }
    const annPhoto = await fetch(api(`/${encodeURIComponent(ids.a1!)}/attachments/p1.jpg`), { headers: north.headers });
    expect(annPhoto.status).toBe(200);
  });
});
