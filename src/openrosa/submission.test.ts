import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { openBlobStore, type FsBlobStore } from '../blobs/index.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { serializeEncryptedManifest } from '../crypto/index.js';
import { collectDate, collectHeaders, collectVerdict, multipartBody, send, type Part, type RawResponse } from './submission-client.test-support.js';

const MAX_BYTES = 1024 * 1024;
const encryptionData = path.resolve(import.meta.dirname, '../../../shared/testdata/odk-encryption');
const kat = (name: string) => readFileSync(path.join(encryptionData, name));

const householdForm = (formId: string, version = '1') => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
 <h:head><h:title>Household</h:title><model>
  <instance><data id="${formId}" version="${version}"><name/><photo/><member jr:template=""><pic/></member><meta><instanceID/><instanceName/></meta></data></instance>
  <bind nodeset="/data/name" type="string"/>
  <bind nodeset="/data/photo" type="binary"/>
  <bind nodeset="/data/member/pic" type="binary"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/name"><label>Name</label></input><upload ref="/data/photo" mediatype="image/*"><label>Photo</label></upload>
 <repeat nodeset="/data/member"><upload ref="/data/member/pic" mediatype="image/*"><label>Picture</label></upload></repeat></h:body>
</h:html>`;

const katForm = () => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>KAT</h:title><model>
  <submission base64RsaPublicKey="${kat('pub.der').toString('base64')}"/>
  <instance><data id="kat_form" version="2024010101"><name/><photo/><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/name" type="string"/>
  <bind nodeset="/data/photo" type="binary"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/name"><label>Name</label></input><upload ref="/data/photo" mediatype="image/*"><label>Photo</label></upload></h:body>
</h:html>`;

interface Instance {
  formId?: string;
  version?: string;
  instanceId: string;
  name?: string;
  photo?: string;
  pics?: string[];
  deprecatedId?: string;
}

const instanceXml = (i: Instance) =>
  `<?xml version='1.0' ?><data id="${i.formId ?? 'household'}" version="${i.version ?? '1'}" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">` +
  `<name>${i.name ?? 'Ada'}</name><photo>${i.photo ?? ''}</photo>${(i.pics ?? []).map((p) => `<member><pic>${p}</pic></member>`).join('')}` +
  `<orx:meta><orx:instanceID>${i.instanceId}</orx:instanceID>${i.deprecatedId ? `<orx:deprecatedID>${i.deprecatedId}</orx:deprecatedID>` : ''}<orx:instanceName>${i.name ?? 'Ada'}</orx:instanceName></orx:meta></data>`;

let serial = 0;
const newInstanceId = () => `uuid:5ee1f00d-0000-4000-8000-${String(++serial).padStart(12, '0')}`;
const jpeg = (label: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`JPEG ${label} `.repeat(50))]);

/** Collect's parts: the XML under its instance file name, each file with name = filename. */
const collectParts = (xml: string, files: Record<string, Buffer> = {}, incomplete = false): Part[] => [
  { name: 'xml_submission_file', filename: 'household_2024-01-01_10-00-00.xml', contentType: 'text/xml', body: xml },
  ...Object.entries(files).map(([name, body]) => ({ name, filename: name, contentType: 'image/jpeg', body })),
  ...(incomplete ? [{ name: '*isIncomplete*', body: 'yes' }] : []),
];

describeEachDatabase('OpenRosa submissions', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_SUBMISSION_MAX_BYTES: String(MAX_BYTES) });
  let owner: TestUser;
  let collector: TestUser;
  let viewer: TestUser;
  let projectId: number;
  let base: string;
  let blobs: FsBlobStore;

  const db = () => env().server.database.db;
  const submissionUrl = (query = '?deviceID=collect%3AAbCdEf0123456789') => `${base}/submission${query}`;
  const post = (parts: Part[], user: TestUser = collector, extra: Record<string, string> = {}, options: { partLengths?: boolean; url?: string; chunked?: boolean } = {}) => {
    const body = multipartBody(parts, { partLengths: options.partLengths ?? true });
    return send(options.url ?? submissionUrl(), 'POST', collectHeaders({ ...user.headers, 'content-type': body.contentType, ...extra }), body.body, { chunked: options.chunked ?? false });
  };
  const blobText = async (id: string) => buffer(await blobs.get(id));
  /** The blob files in the store, by name (not its temporary or bookkeeping folders). */
  const blobFiles = async () =>
    (await readdir(blobs.root, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && /^[0-9a-f]{64}$/.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  const versionOf = (instanceId: string) => db().selectFrom('submission_versions').selectAll().where('instance_id', '=', instanceId).executeTakeFirstOrThrow();
  const attachmentsOf = async (instanceId: string) =>
    db().selectFrom('submission_attachments').selectAll().where('version_id', '=', (await versionOf(instanceId)).id).orderBy('name').execute();

  function expectRefusal(response: RawResponse, status: number, code: string) {
    expect(response.status, response.body).toBe(status);
    expect(response.headers['x-fieldkeep-error']).toBe(code);
    expect(response.headers['x-openrosa-version']).toBe('1.0');
    expect(response.headers['x-openrosa-accept-content-length']).toBe(String(MAX_BYTES));
    expect(response.body).toMatch(/<OpenRosaResponse xmlns="http:\/\/openrosa.org\/http\/response" items="0"><message nature="error">/);
    const verdict = collectVerdict(response);
    expect(verdict.success).toBe(false);
    expect(verdict.message?.length).toBeGreaterThan(10);
  }

  const upload = async (xml: string, query = '?publish=true') => {
    const response = await fetch(`${env().url}/api/v1/projects/${projectId}/forms${query}`, { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: xml });
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    owner = await createTestUser(env(), 'owner');
    collector = await createTestUser(env(), 'collector');
    viewer = await createTestUser(env(), 'viewer');
    const project = await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'Households' });
    projectId = project.body.id;
    base = `${env().url}/projects/${projectId}`;
    for (const [username, role] of [['collector', 'collector'], ['viewer', 'viewer']]) {
      await call(`${env().url}/api/v1/projects/${projectId}/members`, 'POST', owner.headers, { username, role });
    }
    await upload(householdForm('household'));
    await upload(householdForm('closing'));
    await upload(householdForm('closed'));
    await upload(householdForm('draftonly'), '');
    await upload(katForm());
    for (const [formId, state] of [['closing', 'closing'], ['closed', 'closed']]) {
      expect((await call(`${env().url}/api/v1/projects/${projectId}/forms/${formId}`, 'PATCH', owner.headers, { state })).status).toBeLessThan(300);
    }
    blobs = openBlobStore(ensureSecretKey(env().config));
  });

  it("answers Collect's HEAD pre-flight (12-hour Date, deviceID) and GET with 204 and the OpenRosa headers", async () => {
    const afternoon = new Date('2024-03-05T15:04:05Z');
    expect(collectDate(afternoon)).toBe('Tue, 05 Mar 2024 03:04:05 GMT');
    for (const method of ['HEAD', 'GET']) {
      const response = await send(submissionUrl(), method, collectHeaders({ ...collector.headers, date: collectDate(afternoon) }));
      expect(response.status).toBe(204);
      expect(response.body).toBe('');
      expect(response.headers['x-openrosa-version']).toBe('1.0');
      expect(response.headers['x-openrosa-accept-content-length']).toBe(String(MAX_BYTES));
      expect(Date.parse(response.headers.date as string)).toBeGreaterThan(0);
    }
    expect((await send(`${env().url}/projects/999999/submission`, 'HEAD', collectHeaders(collector.headers))).status).toBe(404);
    expect((await send(submissionUrl(), 'HEAD', collectHeaders())).status).toBe(401);
  });

  it('stores a Collect submission and its photo byte for byte, and answers a re-send as a duplicate (202)', async () => {
    const instanceId = newInstanceId();
    const xml = instanceXml({ instanceId, photo: '1712345678901.jpg' });
    const photo = jpeg('one');
    const response = await post(collectParts(xml, { '1712345678901.jpg': photo }));
    expect(response.status, response.body).toBe(201);
    expect(response.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0"><message nature="">Full submission upload was successful!</message></OpenRosaResponse>',
    );
    expect(collectVerdict(response)).toEqual({ success: true, message: 'Full submission upload was successful!' });
    expect(response.headers['x-openrosa-version']).toBe('1.0');

    const version = await versionOf(instanceId);
    expect(version).toMatchObject({ device_id: 'collect:AbCdEf0123456789', submitted_by_kind: 'user', submitted_by_id: collector.id, encrypted: 0, instance_name: 'Ada', deprecated_id: null });
    expect(await blobText(version.xml_blob)).toEqual(Buffer.from(xml));
    expect(JSON.parse(version.fields_json!)).toMatchObject({ name: 'Ada', photo: '1712345678901.jpg' });
    const [attachment] = await attachmentsOf(instanceId);
    expect(attachment).toMatchObject({ name: '1712345678901.jpg', expected: 1, referenced: 1, size: photo.length, content_type: 'image/jpeg' });
    expect(await blobText(attachment!.blob_id!)).toEqual(photo);
    const submission = await db().selectFrom('submissions').selectAll().where('instance_id', '=', instanceId).executeTakeFirstOrThrow();
    expect(submission).toMatchObject({ current_version_id: version.id, submitted_by_user_id: collector.id, project_id: projectId });
    const audits = () => db().selectFrom('audit_log').select(['action', 'details']).where('resource_type', '=', 'submission').where('resource_id', '=', String(submission.id)).execute();
    expect((await audits()).map((a) => a.action)).toEqual(['submission.create']);

    const again = await post(collectParts(xml, { '1712345678901.jpg': photo }));
    expect(again.status).toBe(202);
    expect(collectVerdict(again)).toEqual({ success: true, message: expect.stringMatching(/^Duplicate submission/) });
    expect(await db().selectFrom('submission_versions').select('id').where('instance_id', '=', instanceId).execute()).toHaveLength(1);
    expect(await audits()).toHaveLength(1);
  });

  it('stores small attachments held until the body is read and larger ones streamed, each byte for byte', async () => {
    const instanceId = newInstanceId();
    // 100 + 150 kB fill most of the 256 kB held per request, 300 kB streams, the last 2 kB is held again.
    const files = { 'a.jpg': randomBytes(100_000), 'b.jpg': randomBytes(150_000), 'c.jpg': randomBytes(300_000), 'd.jpg': randomBytes(2_000) };
    const response = await post(collectParts(instanceXml({ instanceId, pics: Object.keys(files) }), files));
    expect(response.status, response.body).toBe(201);
    const stored = await attachmentsOf(instanceId);
    expect(stored.map((a) => [a.name, a.size])).toEqual(Object.entries(files).map(([name, body]) => [name, body.length]));
    for (const attachment of stored) expect((await blobText(attachment.blob_id!)).equals(files[attachment.name as keyof typeof files])).toBe(true);
  });

  it('writes no blob for a refused request whose attachments were all small, not even its XML', async () => {
    const before = await blobFiles();
    const parts: Part[] = [...collectParts(instanceXml({ instanceId: newInstanceId() }), { 'kept.jpg': randomBytes(5_000) }), { name: 'f', filename: '../bad.jpg', body: 'x' }];
    expectRefusal(await post(parts), 400, 'submission.bad_attachment_name');
    expect(await blobFiles()).toEqual(before);
  });

  it("accumulates a split submission's files over several POSTs (*isIncomplete*) and records expected vs received", async () => {
    const instanceId = newInstanceId();
    const xml = instanceXml({ instanceId, photo: 'p.jpg', pics: ['m1.jpg', 'm2.jpg'] });
    const first = await post(collectParts(xml, { 'p.jpg': jpeg('p'), 'm1.jpg': jpeg('m1') }, true));
    expect(collectVerdict(first)).toEqual({ success: true, message: expect.stringContaining('m2.jpg') });
    expect(first.status).toBe(201);
    expect((await attachmentsOf(instanceId)).map((a) => [a.name, a.expected, a.blob_id !== null])).toEqual([
      ['m1.jpg', 1, true],
      ['m2.jpg', 1, false],
      ['p.jpg', 1, true],
    ]);
    // The last POST: the rest, plus a file the XML does not name (kept, marked as such).
    const last = await post(collectParts(xml, { 'm2.jpg': jpeg('m2'), 'notes.txt': Buffer.from('extra') }));
    expect(collectVerdict(last)).toEqual({ success: true, message: 'Full submission upload was successful!' });
    const attachments = await attachmentsOf(instanceId);
    expect(attachments.map((a) => [a.name, a.expected, a.referenced, a.blob_id !== null])).toEqual([
      ['m1.jpg', 1, 1, true],
      ['m2.jpg', 1, 1, true],
      ['notes.txt', 0, 0, true],
      ['p.jpg', 1, 1, true],
    ]);
    expect(await blobText(attachments[1]!.blob_id!)).toEqual(jpeg('m2'));
    expect((await post(collectParts(xml))).status).toBe(202);
    const audit = await db().selectFrom('audit_log').select('action').where('action', 'like', 'submission.%').where('details', 'like', `%${instanceId}%`).execute();
    expect(audit.map((a) => a.action)).toEqual(['submission.create', 'submission.attachments_add']);
  });

  it('refuses a stored file name with different bytes (409) and never overwrites it', async () => {
    const instanceId = newInstanceId();
    const xml = instanceXml({ instanceId, photo: 'same.jpg' });
    expect((await post(collectParts(xml, { 'same.jpg': jpeg('original') }))).status).toBe(201);
    expectRefusal(await post(collectParts(xml, { 'same.jpg': jpeg('tampered') })), 409, 'submission.attachment_conflict');
    const [attachment] = await attachmentsOf(instanceId);
    expect(await blobText(attachment!.blob_id!)).toEqual(jpeg('original'));
    // Two parts with one name and different bytes in a single request are refused the same way.
    const other = instanceXml({ instanceId: newInstanceId(), photo: 'twice.jpg' });
    const twice: Part[] = [...collectParts(other, { 'twice.jpg': jpeg('a') }), { name: 'twice.jpg', filename: 'twice.jpg', contentType: 'image/jpeg', body: jpeg('b') }];
    expectRefusal(await post(twice), 409, 'submission.attachment_conflict');
  });

  it('refuses the same instanceID with different XML (409)', async () => {
    const instanceId = newInstanceId();
    expect((await post(collectParts(instanceXml({ instanceId, name: 'Ada' })))).status).toBe(201);
    expectRefusal(await post(collectParts(instanceXml({ instanceId, name: 'Grace' }))), 409, 'submission.conflict');
  });

  it('records an edit (deprecatedID = current version) as a new version carrying files over; unknown is 404, stale is 409', async () => {
    const original = newInstanceId();
    expect((await post(collectParts(instanceXml({ instanceId: original, photo: 'keep.jpg' }), { 'keep.jpg': jpeg('keep') }))).status).toBe(201);
    const edit = newInstanceId();
    const edited = await post(collectParts(instanceXml({ instanceId: edit, deprecatedId: original, name: 'Ada L.', photo: 'keep.jpg' })));
    expect(collectVerdict(edited)).toEqual({ success: true, message: 'The edited submission was received.' });
    const [first, second] = [await versionOf(original), await versionOf(edit)];
    expect(second).toMatchObject({ submission_id: first.submission_id, deprecated_id: original });
    const submission = await db().selectFrom('submissions').selectAll().where('id', '=', first.submission_id).executeTakeFirstOrThrow();
    expect(submission).toMatchObject({ instance_id: original, current_version_id: second.id });
    const [carried] = await attachmentsOf(edit);
    expect(carried).toMatchObject({ name: 'keep.jpg', expected: 1 });
    expect(await blobText(carried!.blob_id!)).toEqual(jpeg('keep'));
    const actions = await db().selectFrom('audit_log').select('action').where('resource_type', '=', 'submission').where('resource_id', '=', String(submission.id)).orderBy('id').execute();
    expect(actions.map((a) => a.action)).toEqual(['submission.create', 'submission.update']);

    expectRefusal(await post(collectParts(instanceXml({ instanceId: newInstanceId(), deprecatedId: original }))), 409, 'submission.edit_stale');
    expectRefusal(await post(collectParts(instanceXml({ instanceId: newInstanceId(), deprecatedId: 'uuid:never-seen' }))), 404, 'submission.deprecated_not_found');
  });

  it("accepts Enketo's request (XML filename xml_submission_file, X-OpenRosa-Instance-Id, a CSRF field) with the parts in any order", async () => {
    const instanceId = newInstanceId();
    const xml = instanceXml({ instanceId, photo: 'photo.png' });
    const parts: Part[] = [
      { name: 'photo.png', filename: 'photo.png', contentType: 'image/png', body: jpeg('png') },
      { name: '__csrf', body: 'csrf-token-value' },
      { name: 'xml_submission_file', filename: 'xml_submission_file', contentType: 'text/xml', body: xml },
    ];
    const response = await post(parts, collector, { 'x-openrosa-instance-id': instanceId, 'x-openrosa-deprecated-id': '' }, { partLengths: false });
    expect(collectVerdict(response)).toEqual({ success: true, message: 'Full submission upload was successful!' });
    const [attachment] = await attachmentsOf(instanceId);
    expect(attachment).toMatchObject({ name: 'photo.png', expected: 1, content_type: 'image/png' });
  });

  it("accepts Briefcase's push (application/xml part), and a chunked body", async () => {
    const instanceId = newInstanceId();
    const xml = instanceXml({ instanceId });
    const parts: Part[] = [{ name: 'xml_submission_file', filename: 'submission.xml', contentType: 'application/xml', body: xml }];
    const response = await post(parts, collector, { 'user-agent': 'Briefcase v1.18.0', date: new Date().toUTCString() }, { partLengths: false, chunked: true });
    expect(response.status, response.body).toBe(201);
    expect(await blobText((await versionOf(instanceId)).xml_blob)).toEqual(Buffer.from(xml));
  });

  it('takes submissions from a device token in the path (/key/<token>/projects/<id>/submission)', async () => {
    const created = await call(`${env().url}/api/v1/projects/${projectId}/devices`, 'POST', owner.headers, { label: 'Phone 1' });
    expect(created.status).toBe(201);
    const url = `${env().url}/key/${created.body.token}/projects/${projectId}/submission?deviceID=collect%3Aphone1`;
    const anonymousUser = { id: 0, username: '', headers: {} };
    expect((await send(url, 'HEAD', collectHeaders())).status).toBe(204);
    const instanceId = newInstanceId();
    const response = await post(collectParts(instanceXml({ instanceId })), anonymousUser, {}, { url });
    expect(response.status, response.body).toBe(201);
    const version = await versionOf(instanceId);
    expect(version).toMatchObject({ submitted_by_kind: 'device', submitted_by_id: created.body.device.id, device_id: 'collect:phone1' });
    const submission = await db().selectFrom('submissions').selectAll().where('id', '=', version.submission_id).executeTakeFirstOrThrow();
    expect(submission).toMatchObject({ submitted_by_device_id: created.body.device.id, submitted_by_user_id: null });
  });

  it('stores the encrypted known-answer envelopes as they arrived (enc and enc2)', async () => {
    const enc2 = kat('enc2/manifest.txt').toString('utf8').trim().split('\n');
    const enc2Manifest = serializeEncryptedManifest({
      formId: 'kat_form',
      version: '2024010101',
      instanceId: enc2[0]!,
      base64EncryptedKey: enc2[1]!,
      mediaFiles: ['photo.jpg.enc'],
      encryptedXmlFile: 'submission.xml.enc',
      base64EncryptedElementSignature: enc2[2]!,
    });
    const envelopes = [
      { dir: 'enc', manifest: kat('enc/submission.xml'), files: ['photo.jpg.enc', 'audit.csv.enc', 'submission.xml.enc'] },
      { dir: 'enc2', manifest: Buffer.from(enc2Manifest), files: ['photo.jpg.enc', 'submission.xml.enc'] },
    ];
    for (const envelope of envelopes) {
      const parts: Part[] = [
        { name: 'xml_submission_file', filename: 'kat_form_2024-01-01_10-00-00.xml', contentType: 'text/xml', body: envelope.manifest },
        ...envelope.files.map((name) => ({ name, filename: name, contentType: 'application/octet-stream', body: kat(`${envelope.dir}/${name}`) })),
      ];
      const response = await post(parts);
      expect(response.status, response.body).toBe(201);
      expect(collectVerdict(response).message).toBe('Full submission upload was successful!');
      const instanceId = envelope.dir === 'enc' ? 'uuid:6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60' : enc2[0]!;
      const version = await versionOf(instanceId);
      expect(version).toMatchObject({ encrypted: 1, fields_json: null });
      expect(await blobText(version.xml_blob)).toEqual(envelope.manifest);
      const attachments = await attachmentsOf(instanceId);
      expect(attachments.map((a) => a.name).sort()).toEqual([...envelope.files].sort());
      for (const attachment of attachments) {
        expect(attachment).toMatchObject({ expected: 1, referenced: 1 });
        expect(await blobText(attachment.blob_id!)).toEqual(kat(`${envelope.dir}/${attachment.name}`));
      }
    }
    expectRefusal(
      await post(collectParts(instanceXml({ formId: 'kat_form', version: '2024010101', instanceId: newInstanceId() }))),
      409,
      'submission.plaintext_for_encrypted_form',
    );
  });

  it('answers each refusal with its status and an OpenRosaResponse message Collect shows', async () => {
    const xmlFor = (formId: string, version = '1') => instanceXml({ formId, version, instanceId: newInstanceId() });
    expectRefusal(await post(collectParts(xmlFor('nosuchform'))), 404, 'form.not_found');
    expectRefusal(await post(collectParts(xmlFor('draftonly'))), 404, 'form.not_published');
    expectRefusal(await post(collectParts(xmlFor('closed'))), 409, 'submission.form_closed');
    expect((await post(collectParts(xmlFor('closing')))).status).toBe(201);
    expectRefusal(await post(collectParts(xmlFor('household', '2')), collector), 404, 'submission.form_version_not_found');
    expectRefusal(await post(collectParts(xmlFor('household')), viewer), 403, 'access.denied');
    const anonymous = await post(collectParts(xmlFor('household')), { id: 0, username: '', headers: {} });
    expectRefusal(anonymous, 401, 'auth.required');
    expectRefusal(await post([{ name: 'photo.jpg', filename: 'photo.jpg', contentType: 'image/jpeg', body: jpeg('x') }]), 400, 'submission.xml_missing');
    expectRefusal(await post(collectParts('<data id="household"><unclosed></data>')), 400, 'submission.invalid_xml');
    const doctype = `<?xml version="1.0"?><!DOCTYPE data [<!ENTITY a "aaaa">]><data id="household" version="1"><name>&a;</name><meta><instanceID>${newInstanceId()}</instanceID></meta></data>`;
    expectRefusal(await post(collectParts(doctype)), 400, 'submission.doctype_forbidden');
    expectRefusal(await post(collectParts(`<data id="household" version="1"><name>x</name></data>`)), 400, 'submission.invalid_instance_id');
    const two = collectParts(xmlFor('household'));
    expectRefusal(await post([...two, ...two]), 400, 'submission.xml_repeated');
    const json = await send(submissionUrl(), 'POST', collectHeaders({ ...collector.headers, 'content-type': 'application/json' }), Buffer.from('{}'));
    expectRefusal(json, 400, 'submission.not_multipart');
    const truncated = multipartBody(collectParts(xmlFor('household'), { 'cut.jpg': jpeg('cut') }));
    const cut = truncated.body.subarray(0, truncated.body.length - 200);
    expectRefusal(await send(submissionUrl(), 'POST', collectHeaders({ ...collector.headers, 'content-type': truncated.contentType }), cut), 400, 'submission.malformed_multipart');
  });

  it('refuses attachment names that are not plain file names (400), storing nothing', async () => {
    const before = await db().selectFrom('submissions').select('id').execute();
    for (const name of ['../escape.jpg', 'dir/photo.jpg', 'dir\\photo.jpg', 'nul\u0000.jpg', `${'x'.repeat(300)}.jpg`, '..']) {
      const instanceId = newInstanceId();
      const parts: Part[] = [...collectParts(instanceXml({ instanceId })), { name: 'file', filename: name, contentType: 'image/jpeg', body: jpeg('x') }];
      expectRefusal(await post(parts), 400, 'submission.bad_attachment_name');
    }
    expect(await db().selectFrom('submissions').select('id').execute()).toHaveLength(before.length);
  });

  it('refuses bodies over the size, part and field limits with 413, declared or streamed', async () => {
    const big = jpeg('big');
    const oversize = Buffer.alloc(MAX_BYTES + 1, 7);
    expectRefusal(await post(collectParts(instanceXml({ instanceId: newInstanceId(), photo: 'big.jpg' }), { 'big.jpg': oversize })), 413, 'submission.too_large');
    expectRefusal(await post(collectParts(instanceXml({ instanceId: newInstanceId(), photo: 'big.jpg' }), { 'big.jpg': oversize }), collector, {}, { chunked: true }), 413, 'submission.too_large');
    const many: Part[] = [...collectParts(instanceXml({ instanceId: newInstanceId() })), ...Array.from({ length: 1000 }, (_, i) => ({ name: `f${i}.jpg`, filename: `f${i}.jpg`, body: 'x' }))];
    expectRefusal(await post(many, collector, {}, { chunked: true }), 413, 'submission.too_large');
    const fields: Part[] = [...collectParts(instanceXml({ instanceId: newInstanceId() })), ...Array.from({ length: 17 }, (_, i) => ({ name: `field${i}`, body: 'x' }))];
    expectRefusal(await post(fields), 413, 'submission.too_large');
    expect((await post(collectParts(instanceXml({ instanceId: newInstanceId(), photo: 'ok.jpg' }), { 'ok.jpg': big }))).status).toBe(201);
  });

  it('ends the same instanceID posted by many clients at once as exactly one submission', async () => {
    const instanceId = newInstanceId();
    const xml = instanceXml({ instanceId, photo: 'race.jpg' });
    const responses = await Promise.all(Array.from({ length: 8 }, () => post(collectParts(xml, { 'race.jpg': jpeg('race') }))));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 202, 202, 202, 202, 202, 202, 202]);
    expect(await db().selectFrom('submissions').select('id').where('instance_id', '=', instanceId).execute()).toHaveLength(1);
    expect(await attachmentsOf(instanceId)).toHaveLength(1);
  });
});
