import { buffer } from 'node:stream/consumers';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { openBlobStore, type FsBlobStore } from '../blobs/index.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { collectHeaders, multipartBody, send, type Part } from '../openrosa/submission-client.test-support.js';
import { KAT_INSTANCE_ID, katXForm, postKatEnvelope } from '../project-keys/encrypted-fixtures.test-support.js';
import { koboValidationStatus, reviewStatusOfKoboUid } from './review.js';
import { purgeTrash } from './trash.js';

const DAY_MS = 24 * 3_600_000;

const visitForm = `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
 <h:head><h:title>Visit</h:title><model>
  <instance><data id="visit" version="1"><name/><age/><region/><photo/><meta><instanceID/><instanceName/></meta></data></instance>
  <bind nodeset="/data/name" type="string"/><bind nodeset="/data/age" type="int"/><bind nodeset="/data/region" type="string"/>
  <bind nodeset="/data/photo" type="binary"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/name"/><input ref="/data/age"/>
  <select1 ref="/data/region"><item><label>N</label><value>north</value></item><item><label>S</label><value>south</value></item></select1>
  <upload ref="/data/photo" mediatype="image/*"/></h:body>
</h:html>`;


interface Visit {
  instanceId: string;
  name?: string;
  region?: 'north' | 'south';
  photo?: { name: string; bytes: Buffer };
  deprecatedId?: string;
}

const visitXml = (v: Visit) =>
  `<?xml version='1.0' ?><data id="visit" version="1" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">` +
  `<name>${v.name ?? 'Ada'}</name><age>30</age><region>${v.region ?? 'north'}</region><photo>${v.photo?.name ?? ''}</photo>` +
  `<orx:meta><orx:instanceID>${v.instanceId}</orx:instanceID>${v.deprecatedId ? `<orx:deprecatedID>${v.deprecatedId}</orx:deprecatedID>` : ''}</orx:meta></data>`;

let serial = 0;
const newInstanceId = () => `uuid:7a11e000-0000-4000-8000-${String(++serial).padStart(12, '0')}`;
const jpeg = (label: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`JPEG ${label} `.repeat(40))]);

describeEachDatabase('Submission review, edits and trash', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  let owner: TestUser;
  let reviewer: TestUser;
  let viewer: TestUser;
  let collector: TestUser;
  let northManager: TestUser;
  let projectId: number;
  let blobs: FsBlobStore;

  const db = () => env().server.database.db;
  const api = (suffix = '') => `${env().url}/api/v1/projects/${projectId}/forms/visit${suffix}`;
  const one = (instanceId: string, suffix = '') => api(`/submissions/${encodeURIComponent(instanceId)}${suffix}`);
  const purgeContext = (blobDeleteGraceMs = 0) => ({ database: env().server.database, blobs, retentionDays: env().config.trashRetentionDays, blobDeleteGraceMs });

  async function postParts(parts: Part[], url = `${env().url}/projects/${projectId}/submission`, headers: Record<string, string> = collector.headers) {
    const body = multipartBody(parts, { partLengths: true });
    return send(url, 'POST', collectHeaders({ ...headers, 'content-type': body.contentType }), body.body);
  }

  const visitParts = (v: Visit): Part[] => [
    { name: 'xml_submission_file', filename: 'visit.xml', contentType: 'text/xml', body: visitXml(v) },
    ...(v.photo ? [{ name: v.photo.name, filename: v.photo.name, contentType: 'image/jpeg', body: v.photo.bytes }] : []),
  ];

  async function submit(v: Partial<Visit> = {}): Promise<string> {
    const visit = { instanceId: newInstanceId(), ...v };
    const response = await postParts(visitParts(visit));
    expect(response.status, response.body).toBe(201);
    return visit.instanceId;
  }

  const submissionRow = (instanceId: string) => db().selectFrom('submissions').selectAll().where('instance_id', '=', instanceId).executeTakeFirstOrThrow();
  const versionsOf = async (instanceId: string) =>
    db().selectFrom('submission_versions').selectAll().where('submission_id', '=', (await submissionRow(instanceId)).id).orderBy('id').execute();
  const attachmentsOf = (versionId: number) => db().selectFrom('submission_attachments').selectAll().where('version_id', '=', versionId).execute();
  const auditOf = async (action: string, instanceId: string) => {
    const id = String((await submissionRow(instanceId)).id);
    return db().selectFrom('audit_log').selectAll().where('action', '=', action).where('resource_type', '=', 'submission').where('resource_id', '=', id).orderBy('id').execute();
  };

  beforeAll(async () => {
    owner = await createTestUser(env(), 'owner');
    reviewer = await createTestUser(env(), 'reviewer');
    viewer = await createTestUser(env(), 'viewer');
    collector = await createTestUser(env(), 'collector');
    northManager = await createTestUser(env(), 'northmanager');
    projectId = (await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'Visits' })).body.id;
    for (const [username, role] of [['reviewer', 'reviewer'], ['viewer', 'viewer'], ['collector', 'collector']]) {
      expect((await call(`${env().url}/api/v1/projects/${projectId}/members`, 'POST', owner.headers, { username, role })).status).toBe(201);
    }
    const limited = { username: 'northmanager', role: 'manager', rowFilter: { fieldIn: { field: 'region', values: ['north'] } } };
    expect((await call(`${env().url}/api/v1/projects/${projectId}/members`, 'POST', owner.headers, limited)).status).toBe(201);
    for (const xml of [visitForm, katXForm]) {
      const response = await fetch(`${env().url}/api/v1/projects/${projectId}/forms?publish=true`, { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: xml });
      expect(response.status).toBe(201);
    }
    blobs = openBlobStore(ensureSecretKey(env().config));
  });

  describe('review', () => {
    it('sets, reads and clears the status of one submission, with who and when, audited', async () => {
      const instanceId = await submit();
      const set = await call(one(instanceId, '/review'), 'PUT', reviewer.headers, { status: 'on_hold' });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      expect(set.body).toMatchObject({ status: 'on_hold', reviewedBy: { id: reviewer.id, username: 'reviewer' } });
      expect(Date.now() - Date.parse(set.body.reviewedAt)).toBeLessThan(60_000);
      expect((await call(one(instanceId, '/review'), 'GET', viewer.headers)).body).toEqual(set.body);
      expect((await call(one(instanceId, '/review'), 'PUT', viewer.headers, { status: 'approved' })).body.code).toBe('access.denied');
      expect((await call(one(instanceId, '/review'), 'PUT', reviewer.headers, { status: 'maybe' })).status).toBe(400);
      expect((await call(one(instanceId, '/review'), 'PUT', reviewer.headers, { status: null })).body).toEqual({ status: null, reviewedAt: null, reviewedBy: null });
      const entries = await auditOf('submission.review', instanceId);
      expect(entries.map((e) => JSON.parse(e.details).status)).toEqual(['on_hold', null]);
      expect(entries[0]).toMatchObject({ actor_id: reviewer.id, project_id: projectId });
    });

    it('gives the KoBoToolbox validation_status shape', () => {
      expect(koboValidationStatus(null, null, null)).toEqual({});
      expect(koboValidationStatus('not_approved', '2026-05-01T00:00:10.500Z', 'ann')).toEqual({
        timestamp: 1777593610,
        uid: 'validation_status_not_approved',
        by_whom: 'ann',
        label: 'Not Approved',
        color: '#ff0000',
      });
      expect(reviewStatusOfKoboUid('validation_status_on_hold')).toBe('on_hold');
      expect(reviewStatusOfKoboUid('on_hold')).toBeUndefined();
      expect(reviewStatusOfKoboUid('validation_status_toString')).toBeUndefined();
    });

    it('sets many by instanceIds, all or nothing', async () => {
      const ids = [await submit(), await submit()];
      const missing = await call(api('/submissions/review'), 'POST', reviewer.headers, { status: 'approved', instanceIds: [...ids, 'uuid:nope'] });
      expect(missing.status).toBe(404);
      expect(missing.body.detail).toContain('uuid:nope');
      expect((await submissionRow(ids[0]!)).review_status).toBeNull();
      const done = await call(api('/submissions/review'), 'POST', reviewer.headers, { status: 'approved', instanceIds: ids });
      expect(done.body).toEqual({ count: 2 });
      for (const id of ids) {
        expect((await submissionRow(id)).review_status).toBe('approved');
        expect(await auditOf('submission.review', id)).toHaveLength(1);
      }
      expect((await call(api('/submissions/review'), 'POST', reviewer.headers, { status: 'approved' })).body.code).toBe('submission.bulk_target_invalid');
    });

    it('sets many by a filter only with confirm: true, and refuses unknown fields', async () => {
      const name = 'Filtered';
      const ids = [await submit({ name, region: 'south' }), await submit({ name, region: 'south' }), await submit({ name, region: 'north' })];
      const where = { name, region: 'south' };
      const unconfirmed = await call(api('/submissions/review'), 'POST', reviewer.headers, { status: 'not_approved', where });
      expect(unconfirmed).toMatchObject({ status: 400, body: { code: 'submission.bulk_unconfirmed' } });
      expect((await call(api('/submissions/review'), 'POST', reviewer.headers, { status: 'not_approved', where, confirm: false })).body.code).toBe('submission.bulk_unconfirmed');
      const unknown = await call(api('/submissions/review'), 'POST', reviewer.headers, { status: 'not_approved', where: { distrct: 'x' }, confirm: true });
      expect(unknown).toMatchObject({ status: 400, body: { code: 'submission.filter_invalid' } });
      expect(unknown.body.detail).toContain('distrct');
      expect((await submissionRow(ids[0]!)).review_status).toBeNull();
      const done = await call(api('/submissions/review'), 'POST', reviewer.headers, { status: 'not_approved', where, confirm: true });
      expect(done.body).toEqual({ count: 2 });
      expect((await Promise.all(ids.map(submissionRow))).map((s) => s.review_status)).toEqual(['not_approved', 'not_approved', null]);
      const bySystem = await call(api('/submissions/review'), 'POST', reviewer.headers, { status: 'on_hold', where: { name, _validation_status: null }, confirm: true });
      expect(bySystem.body).toEqual({ count: 1 });
      expect((await submissionRow(ids[2]!)).review_status).toBe('on_hold');
      expect(JSON.parse((await auditOf('submission.review', ids[0]!))[0]!.details)).toMatchObject({ bulk: 'filter', where });
    });
  });

  describe('comments', () => {
    it('are added by reviewers and listed to readers, oldest first', async () => {
      const instanceId = await submit();
      const added = await call(one(instanceId, '/comments'), 'POST', reviewer.headers, { body: '  Check the age.  ' });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ body: 'Check the age.', author: { id: reviewer.id, username: 'reviewer' } });
      await call(one(instanceId, '/comments'), 'POST', owner.headers, { body: 'Done.' });
      expect((await call(one(instanceId, '/comments'), 'POST', viewer.headers, { body: 'Me too' })).body.code).toBe('access.denied');
      expect((await call(one(instanceId, '/comments'), 'POST', reviewer.headers, { body: '   ' })).body.code).toBe('submission.comment_invalid');
      const listed = await call(one(instanceId, '/comments'), 'GET', viewer.headers);
      expect(listed.body.map((c: { body: string; author: { username: string } }) => [c.author.username, c.body])).toEqual([['reviewer', 'Check the age.'], ['owner', 'Done.']]);
      expect(await auditOf('submission.comment', instanceId)).toHaveLength(2);
      expect((await auditOf('submission.read', instanceId)).map((e) => e.actor_id)).toEqual([viewer.id]);
      const shown = await call(one(instanceId), 'GET', viewer.headers);
      expect(shown.body._review_comments).toEqual([
        { author: 'reviewer', body: 'Check the age.', createdAt: expect.any(String) },
        { author: 'owner', body: 'Done.', createdAt: expect.any(String) },
      ]);
    });
  });

  describe('edits', () => {
    it('store a new version as an OpenRosa edit would, keeping the history and carrying the files over', async () => {
      const photo = { name: 'p.jpg', bytes: jpeg('edit') };
      const instanceId = await submit({ photo });
      const [first] = await versionsOf(instanceId);
      const edited = await call(one(instanceId), 'PATCH', owner.headers, { fields: { name: 'Bea', age: 41 } });
      expect(edited.status, JSON.stringify(edited.body)).toBe(200);
      expect(edited.body).toMatchObject({ instanceId, changed: ['name', 'age'] });
      expect(edited.body.versionInstanceId).toMatch(/^uuid:[0-9a-f-]{36}$/);
      const again = await call(one(instanceId), 'PATCH', owner.headers, { fields: { region: 'south' } });
      expect(again.status).toBe(200);

      const versions = await versionsOf(instanceId);
      expect(versions.map((v) => [v.instance_id, v.deprecated_id])).toEqual([
        [instanceId, null],
        [edited.body.versionInstanceId, instanceId],
        [again.body.versionInstanceId, edited.body.versionInstanceId],
      ]);
      expect((await submissionRow(instanceId)).current_version_id).toBe(versions[2]!.id);
      expect(JSON.parse(versions[2]!.fields_json as string)).toMatchObject({ name: 'Bea', age: '41', region: 'south', photo: 'p.jpg' });
      expect(versions[2]).toMatchObject({ submitted_by_kind: 'user', submitted_by_id: owner.id });
      expect((await buffer(await blobs.get(first!.xml_blob))).toString('utf8')).toBe(visitXml({ instanceId, photo }));
      const [original] = await attachmentsOf(first!.id);
      const [carried] = await attachmentsOf(versions[2]!.id);
      expect(carried).toMatchObject({ name: 'p.jpg', blob_id: original!.blob_id, sha256: original!.sha256, expected: 1 });
      const audits = await auditOf('submission.update', instanceId);
      expect(audits.map((a) => JSON.parse(a.details))).toMatchObject([
        { deprecatedId: instanceId, via: 'api', changed: ['name', 'age'] },
        { deprecatedId: edited.body.versionInstanceId, via: 'api', changed: ['region'] },
      ]);
    });

    it('name the field that is unknown or given a value of the wrong type', async () => {
      const instanceId = await submit();
      const unknown = await call(one(instanceId), 'PATCH', owner.headers, { fields: { nmae: 'x' } });
      expect(unknown).toMatchObject({ status: 400, body: { code: 'submission.edit_unknown_field', field: 'nmae' } });
      const wrong = await call(one(instanceId), 'PATCH', owner.headers, { fields: { age: 'old' } });
      expect(wrong).toMatchObject({ status: 400, body: { code: 'submission.edit_invalid_value', field: 'age' } });
      expect(wrong.body.detail).toContain('"age"');
      expect((await call(one(instanceId), 'PATCH', owner.headers, { fields: { name: 12 } })).body).toMatchObject({ code: 'submission.edit_invalid_value', field: 'name' });
      expect(await versionsOf(instanceId)).toHaveLength(1);
      expect((await call(one(instanceId), 'PATCH', reviewer.headers, { fields: { name: 'x' } })).body.code).toBe('access.denied');
    });

    it('refuse encrypted submissions', async () => {
      await postKatEnvelope(env(), projectId, collector);
      const url = `${env().url}/api/v1/projects/${projectId}/forms/kat_form/submissions/${encodeURIComponent(KAT_INSTANCE_ID)}`;
      const refused = await call(url, 'PATCH', owner.headers, { fields: { name: 'x' } });
      expect(refused).toMatchObject({ status: 409, body: { code: 'submission.encrypted_not_editable' } });
    });

    it('refuse edits through a public link, over OpenRosa too', async () => {
      const instanceId = await submit();
      const link = await call(`${env().url}/api/v1/projects/${projectId}/forms/visit/public-links`, 'POST', owner.headers, { label: 'Poster' });
      expect(link.status).toBe(201);
      const url = `${env().url}/key/${link.body.token}/projects/${projectId}/submission`;
      const edit = await postParts(visitParts({ instanceId: newInstanceId(), deprecatedId: instanceId, name: 'Mallory' }), url, {});
      expect(edit.status, edit.body).toBe(403);
      expect(edit.headers['x-fieldkeep-error']).toBe('submission.edit_forbidden_public_link');
      expect(await versionsOf(instanceId)).toHaveLength(1);
    });
  });

  describe('trash', () => {
    it('hides a deleted submission, refuses its re-send, and restores it', async () => {
      const v = { instanceId: newInstanceId() };
      await submit(v);
      expect((await call(one(v.instanceId), 'DELETE', reviewer.headers)).body.code).toBe('access.denied');
      expect((await call(one(v.instanceId), 'DELETE', owner.headers)).status).toBe(204);
      expect((await submissionRow(v.instanceId)).deleted_by_user_id).toBe(owner.id);
      const hidden: Array<[string, string, unknown?]> = [[one(v.instanceId, '/review'), 'GET'], [one(v.instanceId), 'PATCH', { fields: { name: 'x' } }], [one(v.instanceId), 'DELETE']];
      for (const [url, method, body] of hidden) {
        expect((await call(url, method, owner.headers, body)).body.code).toBe('submission.not_found');
      }
      const trash = await call(api('/trash'), 'GET', owner.headers);
      const entry = trash.body.find((t: { instanceId: string }) => t.instanceId === v.instanceId);
      expect(entry).toMatchObject({ deletedBy: 'owner' });
      expect(Date.parse(entry.purgeAfter) - Date.parse(entry.deletedAt)).toBe(30 * DAY_MS);

      const resent = await postParts(visitParts(v));
      expect(resent.status, resent.body).toBe(409);
      expect(resent.headers['x-fieldkeep-error']).toBe('submission.trashed');
      expect(resent.body).toContain('trash');

      expect((await call(one(v.instanceId, '/restore'), 'POST', owner.headers)).status).toBe(204);
      expect((await call(one(v.instanceId, '/restore'), 'POST', owner.headers)).body.code).toBe('submission.not_trashed');
      expect((await call(one(v.instanceId, '/review'), 'GET', viewer.headers)).status).toBe(200);
      expect((await auditOf('submission.delete', v.instanceId)).length).toBe(1);
      expect((await auditOf('submission.restore', v.instanceId)).length).toBe(1);
    });

    it('deletes many by ids or by a confirmed filter', async () => {
      const name = 'Doomed';
      const ids = [await submit({ name }), await submit({ name }), await submit({ name })];
      expect((await call(api('/submissions/delete'), 'POST', owner.headers, { where: { name } })).body.code).toBe('submission.bulk_unconfirmed');
      expect((await call(api('/submissions/delete'), 'POST', owner.headers, { instanceIds: [ids[0]] })).body).toEqual({ count: 1 });
      expect((await call(api('/submissions/delete'), 'POST', owner.headers, { where: { name }, confirm: true })).body).toEqual({ count: 2 });
      for (const id of ids) expect((await submissionRow(id)).deleted_at).not.toBeNull();
      expect(JSON.parse((await auditOf('submission.delete', ids[2]!))[0]!.details)).toMatchObject({ bulk: 'filter', where: { name } });
    });

    it('purges after the retention period only, keeping a blob another submission still uses', async () => {
      const shared = { name: 'shared.jpg', bytes: jpeg('shared') };
      const kept = await submit({ photo: shared });
      const doomed = await submit({ photo: shared, name: 'Purged' });
      const doomedXml = (await versionsOf(doomed))[0]!.xml_blob;
      const sharedBlob = (await attachmentsOf((await versionsOf(doomed))[0]!.id))[0]!.blob_id as string;
      expect((await attachmentsOf((await versionsOf(kept))[0]!.id))[0]!.blob_id).toBe(sharedBlob);
      expect((await call(one(doomed), 'DELETE', owner.headers)).status).toBe(204);
      const deletedAt = Date.parse((await submissionRow(doomed)).deleted_at as string);

      expect((await purgeTrash(purgeContext(), new Date(deletedAt + 29 * DAY_MS))).submissions).toBe(0);
      expect((await call(one(doomed, '/restore'), 'POST', owner.headers)).status).toBe(204);
      expect((await call(one(doomed), 'DELETE', owner.headers)).status).toBe(204);
      const redeletedAt = Date.parse((await submissionRow(doomed)).deleted_at as string);

      const purged = await purgeTrash(purgeContext(), new Date(redeletedAt + 30 * DAY_MS + 1));
      expect(purged.submissions).toBeGreaterThanOrEqual(1);
      expect(purged.blobsKept).toBeGreaterThanOrEqual(1);
      expect(await db().selectFrom('submissions').select('id').where('instance_id', '=', doomed).executeTakeFirst()).toBeUndefined();
      expect(await blobs.has(doomedXml)).toBe(false);
      expect(await blobs.has(sharedBlob)).toBe(true);
      expect(await buffer(await blobs.get(sharedBlob))).toEqual(shared.bytes);
      expect((await call(one(doomed, '/restore'), 'POST', owner.headers)).body.code).toBe('submission.not_found');
      const purgeEntries = await db().selectFrom('audit_log').selectAll().where('action', '=', 'submission.purge').execute();
      expect(purgeEntries.map((e) => JSON.parse(e.details).instanceId)).toContain(doomed);

      expect((await call(one(kept), 'DELETE', owner.headers)).status).toBe(204);
      const keptDeletedAt = Date.parse((await submissionRow(kept)).deleted_at as string);
      await purgeTrash(purgeContext(), new Date(keptDeletedAt + 31 * DAY_MS));
      expect(await blobs.has(sharedBlob)).toBe(false);
    });

    it('keeps a file that a submission arriving during the purge brings again', async () => {
      const photo = { name: 'again.jpg', bytes: jpeg('again') };
      const doomed = await submit({ photo });
      const blobId = (await attachmentsOf((await versionsOf(doomed))[0]!.id))[0]!.blob_id as string;
      expect((await call(one(doomed), 'DELETE', owner.headers)).status).toBe(204);
      const deletedAt = Date.parse((await submissionRow(doomed)).deleted_at as string);
      // A phone's upload of the same photo has written its blob but not yet committed its record.
      expect((await blobs.put(photo.bytes)).id).toBe(blobId);
      const purged = await purgeTrash(purgeContext(60_000), new Date(deletedAt + 31 * DAY_MS));
      // Both of its files were written within the grace period: the photo and the purged XML.
      expect(purged).toMatchObject({ submissions: 1, blobsDeleted: 0, blobsKept: 2 });
      const arriving = await submit({ photo });
      expect((await attachmentsOf((await versionsOf(arriving))[0]!.id))[0]!.blob_id).toBe(blobId);
      expect(await buffer(await blobs.get(blobId))).toEqual(photo.bytes);
    });

    it('purges from the command line', async () => {
      const run = await runFieldkeep(['submissions', 'purge-trash'], env().storage.env);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^purged 0 submission\(s\) deleted over 30 days ago/);
    });
  });

  describe('row filters', () => {
    it('hide a filtered-out submission from every route, and keep edits inside the filter', async () => {
      const south = await submit({ region: 'south' });
      const north = await submit({ region: 'north' });
      const h = northManager.headers;
      const routes: Array<[string, string, unknown?]> = [
        [one(south, '/review'), 'GET'],
        [one(south, '/review'), 'PUT', { status: 'approved' }],
        [one(south, '/comments'), 'GET'],
        [one(south, '/comments'), 'POST', { body: 'hi' }],
        [one(south), 'PATCH', { fields: { name: 'x' } }],
        [one(south), 'DELETE'],
        [api('/submissions/review'), 'POST', { status: 'approved', instanceIds: [south] }],
        [api('/submissions/delete'), 'POST', { instanceIds: [south] }],
      ];
      for (const [url, method, body] of routes) {
        const answer = await call(url, method, h, body);
        expect([answer.status, answer.body.code], `${method} ${url}`).toEqual([404, 'submission.not_found']);
      }
      expect((await call(one(north, '/review'), 'PUT', h, { status: 'approved' })).status).toBe(200);
      const byFilter = await call(api('/submissions/review'), 'POST', h, { status: 'on_hold', where: { 'meta/rootUuid': south }, confirm: true });
      expect(byFilter.body).toEqual({ count: 0 });
      expect((await call(one(north), 'PATCH', h, { fields: { region: 'south' } })).body.code).toBe('submission.edit_leaves_view');

      expect((await call(one(south), 'DELETE', owner.headers)).status).toBe(204);
      expect((await call(one(south, '/restore'), 'POST', h)).body.code).toBe('submission.not_found');
      const trash = await call(api('/trash'), 'GET', h);
      expect(trash.body.map((t: { instanceId: string }) => t.instanceId)).not.toContain(south);
      expect((await submissionRow(south)).review_status).toBeNull();
      expect(await versionsOf(south)).toHaveLength(1);
    });
  });
});
