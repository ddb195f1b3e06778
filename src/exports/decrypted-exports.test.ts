/**
 * Exports decrypted on the server (ODK Central's way): the passphrase in the POST body, the
 * known-answer envelopes exported as their plaintexts in every format, media decrypted in the ZIP;
 * the project setting that forbids it, a wrong passphrase, a passphrase in the URL or in an export
 * job, each refused with its code; every attempt audited; and the passphrase in no log line (the
 * server logs at trace level here), audit entry or job row.
 */
import { randomBytes } from 'node:crypto';
import ExcelJS from 'exceljs';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { encryptSubmission, generatePrivateKey, loadPrivateKey, wrapPrivateKey } from '../crypto/index.js';
import {
  KAT2_INSTANCE_ID,
  KAT_INSTANCE_ID,
  KAT_PUBLIC_KEY,
  encryptedSurvey,
  katXForm,
  postEnvelope,
  postKat2Envelope,
  postKatEnvelope,
  readVector,
} from '../project-keys/encrypted-fixtures.test-support.js';
import { addMemberTo, newInstanceId, publishSurvey, submit } from '../submissions/data-fixtures.test-support.js';
import { defaultReadLimits } from '../xlsform/workbook/limits.js';
import { openSafeZip } from '../xlsform/workbook/zip.js';
import { parseSubmission } from '../xform/index.js';
import { DECRYPTED_NOTE } from './decrypted.js';
import { parseCsv } from './export-fixtures.test-support.js';

const PASSPHRASE = 'meadow plinth saffron 58 quay';
const WRONG_PASSPHRASE = 'meadow plinth saffron 59 quay';
/** Every test that unlocks runs scrypt (128 MiB, about a second or more on a busy machine). */
const SCRYPT_BOUND = { timeout: 120_000 };
const zipLimits = { ...defaultReadLimits, maxRatio: 10_000 };
const uuid = (instanceId: string) => instanceId.slice('uuid:'.length);

describeEachDatabase('exports decrypted on the server', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_LOG_LEVEL: 'trace' });
  const api = (path: string) => `${env().url}/api/v1${path}`;
  let owner: TestUser;
  let viewer: TestUser;
  let collector: TestUser;
  let projectId: number;
  let foreignId: string;
  const surveyPhoto = randomBytes(40_000);
  const surveyId = newInstanceId();
  let plainSurveyId: string;

  const exportUrl = (formId: string, format: string, query = '') => api(`/projects/${projectId}/forms/${formId}/export.${format}${query}`);
  /** A decrypted export: the passphrase (and the options) in a JSON body. */
  const decrypted = async (formId: string, format: string, body: Record<string, unknown>, user: TestUser = owner, query = '') => {
    const response = await fetch(exportUrl(formId, format, query), { method: 'POST', headers: { ...user.headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
  };
  const problem = (answer: { body: Buffer }) => JSON.parse(answer.body.toString('utf8')) as { code: string; detail?: string };
  const auditEntries = async (action: string) =>
    (await env().server.database.db.selectFrom('audit_log').select(['actor_label', 'resource_id', 'details']).where('project_id', '=', projectId).where('action', '=', action).orderBy('id').execute()).map((row) => ({
      ...row,
      details: JSON.parse(row.details) as Record<string, unknown>,
    }));

  beforeAll(async () => {
    owner = await createTestUser(env(), 'dec_owner');
    viewer = await createTestUser(env(), 'dec_viewer');
    collector = await createTestUser(env(), 'dec_collector');
    projectId = (await call(api('/projects'), 'POST', owner.headers, { name: 'Decrypted on the server' })).body.id;
    await addMemberTo(env(), projectId, owner, 'dec_viewer', 'viewer');
    await addMemberTo(env(), projectId, owner, 'dec_collector', 'collector');
    const kat = await fetch(api(`/projects/${projectId}/forms?publish=true`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: katXForm });
    expect(kat.status, await kat.text()).toBe(201);
    await publishSurvey(env(), projectId, owner);
    plainSurveyId = await submit(env(), projectId, owner, { district: 'east', age: '40', where: '0.5 30.25 10 4', members: ['Cy'] });

    // The project's key is the known-answer key, wrapped by the owner's passphrase, so the vectors can be decrypted on the server.
    const wrapped = await wrapPrivateKey(await loadPrivateKey(readVector('priv.pem').toString('utf8')), PASSPHRASE);
    const enabled = await call(api(`/projects/${projectId}/encryption`), 'POST', owner.headers, { publicKey: KAT_PUBLIC_KEY, wrappedPrivateKey: wrapped });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(201);
    expect(enabled.body.rekeyedForms).toEqual(['survey']);

    await postKatEnvelope(env(), projectId, owner);
    await postKat2Envelope(env(), projectId, owner);
    // One sent to a key the project does not hold: it cannot be decrypted, and must not stop the export.
    foreignId = newInstanceId();
    const foreign = await encryptSubmission({
      formId: 'kat_form',
      version: '2024010101',
      instanceId: foreignId,
      publicKey: (await generatePrivateKey()).publicKey,
      submissionXml: Buffer.from(`<data id="kat_form" version="2024010101"><name>Mallory</name><photo/><meta><instanceID>${foreignId}</instanceID></meta></data>`),
      media: [],
    });
    await postEnvelope(env(), projectId, owner, foreign.manifestXml, foreign.files);

    const survey = (await call(api(`/projects/${projectId}/forms/survey`), 'GET', owner.headers)).body.published;
    const envelope = await encryptedSurvey(KAT_PUBLIC_KEY, survey.version, surveyId, 'north', surveyPhoto, { age: '31', where: '-1.5 36.8 1700 5', members: ['Ann', 'Bo'] });
    await postEnvelope(env(), projectId, owner, envelope.manifestXml, envelope.files);
  }, 120_000);

  it('decrypts the known-answer envelopes to their plaintext in CSV, and one it cannot decrypt is metadata with the reason', SCRYPT_BOUND, async () => {
    const answer = await decrypted('kat_form', 'csv', { passphrase: PASSPHRASE });
    expect(answer.status, answer.body.toString('utf8').slice(0, 500)).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('fieldkeep-export-note')).toBe(DECRYPTED_NOTE);
    const rows = parseCsv(answer.body.toString('utf8'));
    expect(rows[0]).toEqual(['name', 'photo', '_id', '_uuid', '_submission_time', '_validation_status', '_submitted_by', '__version__', '_encrypted', '_signature', '_decryption_error', '_index']);
    const plaintext = parseSubmission(readVector('plain/submission.xml')).fields;
    const pick = (row: string[]) => [row[0], row[1], row[3], row[7], row[8], row[9], row[11]];
    expect(rows.slice(1).map(pick)).toEqual([
      [plaintext.name, plaintext.photo, uuid(KAT_INSTANCE_ID), '2024010101', 'true', 'valid', '1'],
      [plaintext.name, plaintext.photo, uuid(KAT2_INSTANCE_ID), '2024010101', 'true', 'valid', '2'],
      ['', '', uuid(foreignId), '2024010101', 'true', '', '3'],
    ]);
    expect(rows.slice(1, 3).map((row) => row[10])).toEqual(['', '']);
    expect(rows[3]![10]).toMatch(new RegExp(`^Submission ${foreignId}: The key of submission .* cannot be decrypted`));

    expect((await auditEntries('key.unlock_on_server')).at(-1)).toMatchObject({ actor_label: 'dec_owner', resource_id: 'kat_form' });
    expect((await auditEntries('submission.export')).at(-1)).toMatchObject({ resource_id: 'kat_form', details: { format: 'csv', via: 'download', decrypted: true } });
  });

  it('decrypts into XLSX, GeoJSON and CSV with repeats, with the export options applied', SCRYPT_BOUND, async () => {
    const xlsx = await decrypted('kat_form', 'xlsx', { passphrase: PASSPHRASE, options: { fields: 'name' } });
    expect(xlsx.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.body as unknown as ArrayBuffer);
    const sheet: unknown[][] = [];
    workbook.getWorksheet('kat_form')!.eachRow({ includeEmpty: true }, (row) => sheet.push((row.values as unknown[]).slice(1)));
    expect(sheet.map((row) => [row[0], row[7], row[8], row[10]])).toEqual([
      ['name', '_encrypted', '_signature', '_index'],
      ['Alice', 'true', 'valid', 1],
      ['Alice', 'true', 'valid', 2],
      [undefined, 'true', undefined, 3],
    ]);

    const geojson = await decrypted('survey', 'geojson', { passphrase: PASSPHRASE, options: { fields: 'district,age,where' } });
    expect(geojson.status).toBe(200);
    const collection = JSON.parse(geojson.body.toString('utf8'));
    expect(collection['fieldkeep:note']).toBe(DECRYPTED_NOTE);
    expect(collection.features.map((f: { geometry: unknown; properties: Record<string, unknown> }) => [f.geometry, f.properties.district, f.properties.age, f.properties._signature])).toEqual([
      [{ type: 'Point', coordinates: [30.25, 0.5, 10] }, 'east', 40, null],
      [{ type: 'Point', coordinates: [36.8, -1.5, 1700] }, 'north', 31, 'valid'],
    ]);

    const csv = await decrypted('survey', 'csv', { passphrase: PASSPHRASE, options: { values: 'labels', fields: 'district,member' } });
    expect(csv.headers.get('content-type')).toBe('application/zip');
    const zip = openSafeZip(csv.body, zipLimits);
    const main = parseCsv(Buffer.from(zip.read('survey.csv')).toString('utf8'));
    expect(main.map((row) => [row[0], row[2], row[7], row[8]])).toEqual([
      ['district', '_uuid', '_encrypted', '_signature'],
      ['E', uuid(plainSurveyId), 'false', ''],
      ['N', uuid(surveyId), 'true', 'valid'],
    ]);
    expect(parseCsv(Buffer.from(zip.read('survey-member.csv')).toString('utf8')).map((row) => [row[0], row[3]])).toEqual([
      ['member/name', '_parent_index'],
      ['Cy', '1'],
      ['Ann', '2'],
      ['Bo', '2'],
    ]);
  });

  it('puts the decrypted media in the ZIP, and the files of what it cannot decrypt as received', SCRYPT_BOUND, async () => {
    const answer = await decrypted('kat_form', 'zip', { passphrase: PASSPHRASE });
    expect(answer.status).toBe(200);
    const zip = openSafeZip(answer.body, zipLimits);
    const ids = parseCsv(Buffer.from(zip.read('kat_form.csv')).toString('utf8')).slice(1).map((row) => row[2]);
    expect(Buffer.from(zip.read(`media/${ids[0]}/photo.jpg`)).equals(readVector('plain/photo.jpg'))).toBe(true);
    expect(Buffer.from(zip.read(`media/${ids[0]}/audit.csv`)).equals(readVector('plain/audit.csv'))).toBe(true);
    expect(Buffer.from(zip.read(`media/${ids[1]}/photo.jpg`)).equals(readVector('plain/photo.jpg'))).toBe(true);
    expect(zip.has(`media/${ids[0]}/submission.xml.enc`)).toBe(false);
    expect(zip.has(`media/${ids[2]}/submission.xml.enc`)).toBe(true);

    const survey = openSafeZip((await decrypted('survey', 'zip', { passphrase: PASSPHRASE, options: { fields: 'photo' } })).body, zipLimits);
    const surveyIds = parseCsv(Buffer.from(survey.read('survey.csv')).toString('utf8')).slice(1).map((row) => row[1]);
    expect(Buffer.from(survey.read(`media/${surveyIds[1]}/photo.jpg`)).equals(surveyPhoto)).toBe(true);
  });

  it('is refused while the project forbids it, and allowed again once it allows it', SCRYPT_BOUND, async () => {
    expect((await call(api(`/projects/${projectId}/encryption`), 'PATCH', owner.headers, { allowServerDecryption: false })).status).toBe(200);
    const refused = await decrypted('kat_form', 'csv', { passphrase: PASSPHRASE });
    expect(refused.status).toBe(403);
    expect(problem(refused).code).toBe('key.server_decryption_forbidden');
    expect((await auditEntries('key.unlock_on_server_failed')).at(-1)).toMatchObject({ actor_label: 'dec_owner', details: { reason: 'key.server_decryption_forbidden' } });
    expect((await call(api(`/projects/${projectId}/encryption`), 'PATCH', owner.headers, { allowServerDecryption: true })).status).toBe(200);
    expect((await decrypted('kat_form', 'csv', { passphrase: PASSPHRASE })).status).toBe(200);
  });

  it('answers a wrong passphrase with a 400 and its code, and audits the attempt', SCRYPT_BOUND, async () => {
    const wrong = await decrypted('kat_form', 'xlsx', { passphrase: WRONG_PASSPHRASE });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get('content-type')).toContain('application/problem+json');
    expect(problem(wrong).code).toBe('key.wrong_passphrase');
    expect((await auditEntries('key.unlock_on_server_failed')).at(-1)).toMatchObject({ actor_label: 'dec_owner', resource_id: 'kat_form', details: { reason: 'key.wrong_passphrase' } });
    // The owner's passphrase opens the project's key for the owner only; a viewer holding no copy is told so before anything is tried.
    const byViewer = await decrypted('kat_form', 'csv', { passphrase: PASSPHRASE }, viewer);
    expect(byViewer.status).toBe(403);
    expect(problem(byViewer).code).toBe('key.no_key_copy');
    expect((await decrypted('kat_form', 'csv', { passphrase: PASSPHRASE }, collector)).status).toBe(403);
  });

  it('checks the options before the passphrase, and refuses bad bodies and projects that are not encrypted', async () => {
    const before = (await auditEntries('key.unlock_on_server')).length + (await auditEntries('key.unlock_on_server_failed')).length;
    const bad = [
      [await decrypted('kat_form', 'geojson', { passphrase: PASSPHRASE }), 400, 'export.no_geo_field'],
      [await decrypted('kat_form', 'csv', { passphrase: PASSPHRASE, options: { fields: 'nope' } }), 400, 'export.unknown_field'],
      [await decrypted('kat_form', 'csv', { passphrase: PASSPHRASE, extra: 1 }), 400, 'request.invalid'],
      [await decrypted('kat_form', 'csv', { passphrase: '' }), 400, 'request.invalid'],
      [await decrypted('kat_form', 'csv', {}), 400, 'request.invalid'],
    ] as const;
    for (const [answer, status, code] of bad) {
      expect(answer.status, answer.body.toString('utf8')).toBe(status);
      expect(problem(answer).code).toBe(code);
    }
    expect((await auditEntries('key.unlock_on_server')).length + (await auditEntries('key.unlock_on_server_failed')).length).toBe(before);

    const plainProject = (await call(api('/projects'), 'POST', owner.headers, { name: 'Not encrypted' })).body.id as number;
    await publishSurvey(env(), plainProject, owner);
    const notEncrypted = await fetch(api(`/projects/${plainProject}/forms/survey/export.csv`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/json' }, body: JSON.stringify({ passphrase: PASSPHRASE }) });
    expect(notEncrypted.status).toBe(409);
    expect(((await notEncrypted.json()) as { code: string }).code).toBe('key.not_enabled');
  });

  it('refuses a passphrase in the URL (GET or POST) and in an export job, and keeps it out of the jobs table', async () => {
    const inQuery = `?passphrase=${encodeURIComponent(PASSPHRASE)}`;
    const post = await decrypted('kat_form', 'csv', { passphrase: PASSPHRASE }, owner, inQuery);
    expect(post.status).toBe(400);
    expect(problem(post).code).toBe('export.passphrase_in_url');
    const get = await call(exportUrl('kat_form', 'csv', `?Passphrase=${encodeURIComponent(PASSPHRASE)}`), 'GET', owner.headers);
    expect(get.status).toBe(400);
    expect(get.body.code).toBe('export.passphrase_in_url');
    // Options travel in the body of a decrypted export; the address takes none.
    const query = await decrypted('kat_form', 'csv', { passphrase: PASSPHRASE }, owner, '?fields=name');
    expect(problem(query).code).toBe('request.invalid');

    const jobs = api(`/projects/${projectId}/forms/kat_form/exports/jobs`);
    for (const body of [{ format: 'csv', passphrase: PASSPHRASE }, { format: 'csv', options: {}, passphrase: PASSPHRASE }]) {
      const job = await call(jobs, 'POST', owner.headers, body);
      expect(job.status).toBe(400);
      expect(job.body.code).toBe('export.decrypt_direct_only');
    }
    expect((await call(`${jobs}${inQuery}`, 'POST', owner.headers, { format: 'csv' })).body.code).toBe('export.passphrase_in_url');
    const jobRows = await env().server.database.db.selectFrom('job').selectAll().execute();
    expect(JSON.stringify(jobRows)).not.toContain(PASSPHRASE);
  });

  it('never writes the passphrase to the log (at trace level) or the audit log', async () => {
    // Should someone ever log the body of a decrypting export, its field is redacted.
    env().server.logger.info({ body: { passphrase: PASSPHRASE, options: { fields: 'name' } } }, 'an export body logged by mistake');
    const logs = env().rawLogs.join('\n');
    expect(env().rawLogs.length).toBeGreaterThan(20);
    expect(logs).toContain('passphrase=[redacted]');
    for (const secret of [PASSPHRASE, WRONG_PASSPHRASE, encodeURIComponent(PASSPHRASE)]) expect(logs).not.toContain(secret);
    const audit = await env().server.database.db.selectFrom('audit_log').selectAll().execute();
    for (const secret of [PASSPHRASE, WRONG_PASSPHRASE]) expect(JSON.stringify(audit)).not.toContain(secret);
  });
});
