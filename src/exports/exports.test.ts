import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { createAccountsContext } from '../accounts/context.js';
import { createUser } from '../accounts/users.js';
import { openBlobStore } from '../blobs/index.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { addMemberTo } from '../submissions/data-fixtures.test-support.js';
import { defaultReadLimits } from '../xlsform/workbook/limits.js';
import { openSafeZip } from '../xlsform/workbook/zip.js';
import { KAT_INSTANCE_ID, katXForm, postKatEnvelope } from '../project-keys/encrypted-fixtures.test-support.js';
import { householdForm, instanceIds, parseCsv, photo, submitHousehold } from './export-fixtures.test-support.js';
import { ENCRYPTED_NOTE } from './service.js';

const run = promisify(execFile);
const uuid = (i: number) => instanceIds[i]!.slice('uuid:'.length);
const zipLimits = { ...defaultReadLimits, maxRatio: 10_000 };

describeEachDatabase('exports', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_JOB_POLL_MS: '100' });
  let owner: TestUser;
  let north: TestUser;
  let collector: TestUser;
  let stranger: TestUser;
  let projectId: number;
  let id: number[] = [];

  const exportUrl = (format: string, query: Record<string, string> = {}, form = 'household') =>
    `${env().url}/api/v1/projects/${projectId}/forms/${form}/export.${format}?${new URLSearchParams(query)}`;
  const download = async (format: string, query: Record<string, string> = {}, user: TestUser = owner) => {
    const response = await fetch(exportUrl(format, query), { headers: user.headers });
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status, body.toString('utf8').slice(0, 500)).toBe(200);
    return { headers: response.headers, body };
  };
  const csvText = async (query: Record<string, string>, user: TestUser = owner) => (await download('csv', query, user)).body.toString('utf8');
  const createTestUserWithPassword = async (username: string, password: string) => {
    const accounts = createAccountsContext(env().server.database, ensureSecretKey(env().config), { info: () => {} });
    return createUser(accounts, { username, email: null, password, isAdmin: false }, { actorLabel: 'cli' });
  };
  const crlf = (...lines: string[]) => `\uFEFF${lines.map((l) => `${l}\r\n`).join('')}`;

  beforeAll(async () => {
    owner = await createTestUser(env(), 'exp_owner');
    north = await createTestUser(env(), 'exp_north');
    collector = await createTestUser(env(), 'exp_collector');
    stranger = await createTestUser(env(), 'exp_stranger');
    projectId = (await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'Exports' })).body.id;
    await addMemberTo(env(), projectId, owner, 'exp_north', 'viewer', { fieldIn: { field: 'hh/district', values: ['north'] } });
    await addMemberTo(env(), projectId, owner, 'exp_collector', 'collector');
    const forms = `${env().url}/api/v1/projects/${projectId}/forms`;
    const upload = async (url: string, body: string) => {
      const response = await fetch(url, { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body });
      expect(response.status, await response.text()).toBe(201);
    };
    await upload(`${forms}?publish=true`, householdForm('1'));
    await submitHousehold(env(), projectId, owner, 0);
    await upload(`${forms}/household/draft`, householdForm('2'));
    expect((await call(`${forms}/household/draft/publish`, 'POST', owner.headers)).status).toBe(200);
    await submitHousehold(env(), projectId, owner, 1);
    await submitHousehold(env(), projectId, owner, 2);
    const submissions = `${forms}/household/submissions`;
    expect((await call(`${submissions}/${encodeURIComponent(instanceIds[1])}/review`, 'PUT', owner.headers, { status: 'approved' })).status).toBe(200);
    expect((await call(`${submissions}/${encodeURIComponent(instanceIds[2])}`, 'DELETE', owner.headers)).status).toBe(204);
    // Fixed times, so the expected files can be written out in full.
    const db = env().server.database.db;
    const times = ['2024-05-02T08:00:00.000Z', '2024-06-03T09:30:00.000Z', '2024-06-04T10:00:00.000Z'];
    for (const [i, instanceId] of instanceIds.entries()) await db.updateTable('submissions').set({ created_at: times[i]! }).where('instance_id', '=', instanceId).execute();
    await db.updateTable('submissions').set({ deleted_at: '2024-06-05T00:00:00.000Z' }).where('instance_id', '=', instanceIds[2]).execute();
    const rows = await db.selectFrom('submissions').select(['id', 'instance_id']).where('project_id', '=', projectId).execute();
    id = instanceIds.map((instanceId) => Number(rows.find((r) => r.instance_id === instanceId)!.id));
  });

  const mainHeader =
    'hh/district,hh/size,hh/old_q,hh/phone,colors,where,_where_latitude,_where_longitude,_where_altitude,_where_precision,route,area,photo,_id,_uuid,_submission_time,_validation_status,_submitted_by,__version__,_index';
  const mainRows = () => [
    `north,3,"legacy, ""quoted""",,red blue,-1.5 36.8 1700 5,-1.5,36.8,1700,5,-1.5 36.8 0 0;-1.6 36.9 0 0,-1 36 0 0;-1 37 0 0;-2 37 0 0;-1 36 0 0,p1.jpg,${id[0]},${uuid(0)},2024-05-02T08:00:00,,exp_owner,1,1`,
    `south,1,,0712,green,,,,,,,,,${id[1]},${uuid(1)},2024-06-03T09:30:00,validation_status_approved,exp_owner,2,2`,
  ];
  const submissionColumns = '_submission__id,_submission__uuid,_submission__submission_time,_submission__validation_status,_submission__submitted_by,_submission___version__';
  const memberCsv = () =>
    crlf(
      `member/name,member/age,_index,_parent_table_name,_parent_index,${submissionColumns}`,
      `Ann,34,1,household,1,${id[0]},${uuid(0)},2024-05-02T08:00:00,,exp_owner,1`,
      `"Bo\nJr",5,2,household,1,${id[0]},${uuid(0)},2024-05-02T08:00:00,,exp_owner,1`,
      `Cy,70,3,household,2,${id[1]},${uuid(1)},2024-06-03T09:30:00,validation_status_approved,exp_owner,2`,
    );
  const visitCsv = () =>
    crlf(
      `member/visit/date,member/visit/place,_member/visit/place_latitude,_member/visit/place_longitude,_member/visit/place_altitude,_member/visit/place_precision,_index,_parent_table_name,_parent_index,${submissionColumns}`,
      `2024-05-01,-1.2 36.7,-1.2,36.7,,,1,member,1,${id[0]},${uuid(0)},2024-05-02T08:00:00,,exp_owner,1`,
      `2024-06-01,,,,,,2,member,3,${id[1]},${uuid(1)},2024-06-03T09:30:00,validation_status_approved,exp_owner,2`,
      `2024-06-02,1 2,1,2,,,3,member,3,${id[1]},${uuid(1)},2024-06-03T09:30:00,validation_status_approved,exp_owner,2`,
    );
  const unzip = (bytes: Buffer) => {
    const zip = openSafeZip(bytes, zipLimits);
    return (name: string) => (zip.has(name) ? Buffer.from(zip.read(name)).toString('utf8') : undefined);
  };

  it('exports CSV with repeats as a ZIP of one CSV per table, linked by _parent_index, fields of both versions', async () => {
    const { headers, body } = await download('csv');
    expect(headers.get('content-type')).toBe('application/zip');
    expect(headers.get('content-disposition')).toContain('household-csv.zip');
    expect(headers.get('fieldkeep-export-note')).toBeNull();
    const audit = await env().server.database.db.selectFrom('audit_log').select(['resource_id', 'details']).where('action', '=', 'submission.export').where('project_id', '=', projectId).execute();
    expect(audit.map((a) => [a.resource_id, JSON.parse(a.details)])).toContainEqual(['household', { format: 'csv', via: 'download' }]);
    const file = unzip(body);
    expect(file('household.csv')).toBe(crlf(mainHeader, ...mainRows()));
    expect(file('household-member.csv')).toBe(memberCsv());
    expect(file('household-visit.csv')).toBe(visitCsv());
  });

  it('exports one CSV file when the chosen fields have no repeat; labels in a chosen language, per-choice columns and a separator', async () => {
    expect(await csvText({ fields: 'hh,colors', values: 'labels', headers: 'labels', language: 'French (fr)', selectMultiple: 'both', groupSeparator: '.' })).toBe(
      crlf(
        'Ménage.District,Ménage.Taille,Ménage.Ancienne question,Ménage.Téléphone,Couleurs,Couleurs.Rouge,Couleurs.Bleu,Couleurs.Vert,_id,_uuid,_submission_time,_validation_status,_submitted_by,__version__,_index',
        `Nord,3,"legacy, ""quoted""",,Rouge Bleu,1,1,0,${id[0]},${uuid(0)},2024-05-02T08:00:00,,exp_owner,1,1`,
        `Sud,1,,0712,Vert,0,0,1,${id[1]},${uuid(1)},2024-06-03T09:30:00,Approved,exp_owner,2,2`,
      ),
    );
    expect(await csvText({ fields: 'hh,colors', headers: 'labels', groupNames: 'false', allVersions: 'false', selectMultiple: 'details' })).toBe(
      crlf(
        'District,Size,Phone,Colours/Red,Colours/Blue,Colours/Green,_id,_uuid,_submission_time,_validation_status,_submitted_by,__version__,_index',
        `north,3,,1,1,0,${id[0]},${uuid(0)},2024-05-02T08:00:00,,exp_owner,1,1`,
        `south,1,0712,0,0,1,${id[1]},${uuid(1)},2024-06-03T09:30:00,validation_status_approved,exp_owner,2,2`,
      ),
    );
  });

  it('filters by submission date, review status and the trash', async () => {
    const uuids = async (query: Record<string, string>) => parseCsv(await csvText({ fields: 'hh/size', ...query })).slice(1).map((row) => row[2]);
    expect(await uuids({})).toEqual([uuid(0), uuid(1)]);
    expect(await uuids({ from: '2024-06-01' })).toEqual([uuid(1)]);
    expect(await uuids({ to: '2024-05-02' })).toEqual([uuid(0)]);
    expect(await uuids({ to: '2024-05-02T07:59:59Z' })).toEqual([]);
    expect(await uuids({ reviewStatus: 'none' })).toEqual([uuid(0)]);
    expect(await uuids({ reviewStatus: 'approved,on_hold' })).toEqual([uuid(1)]);
    expect(await csvText({ fields: 'hh/size', includeDeleted: 'true' })).toBe(
      crlf(
        'hh/size,_id,_uuid,_submission_time,_validation_status,_submitted_by,__version__,_deleted_at,_index',
        `3,${id[0]},${uuid(0)},2024-05-02T08:00:00,,exp_owner,1,,1`,
        `1,${id[1]},${uuid(1)},2024-06-03T09:30:00,validation_status_approved,exp_owner,2,,2`,
        `2,${id[2]},${uuid(2)},2024-06-04T10:00:00,,exp_owner,2,2024-06-05T00:00:00.000Z,3`,
      ),
    );
  });

  it("always applies the caller's row filter, to repeat tables too", async () => {
    const file = unzip((await download('csv', {}, north)).body);
    expect(file('household.csv')).toBe(crlf(mainHeader, mainRows()[0]!));
    expect(parseCsv(file('household-member.csv')!).map((row) => row[0])).toEqual(['member/name', 'Ann', 'Bo\nJr']);
    expect(parseCsv((await download('csv', { includeDeleted: 'true', fields: 'hh/district' }, north)).body.toString('utf8')).map((row) => row[0])).toEqual(['hh/district', 'north', 'north']);
  });

  it('refuses callers without export rights and bad options with clear errors', async () => {
    const refused = async (format: string, query: Record<string, string>, user: TestUser, status: number, code: string) => {
      const response = await call(exportUrl(format, query), 'GET', user.headers);
      expect(response.status, JSON.stringify(response.body)).toBe(status);
      expect(response.body.code).toBe(code);
    };
    await refused('csv', {}, collector, 403, 'access.denied');
    await refused('csv', {}, stranger, 404, 'project.not_found');
    await refused('pdf', {}, owner, 400, 'request.invalid');
    await refused('csv', { fields: 'hh/nope' }, owner, 400, 'export.unknown_field');
    await refused('csv', { language: 'Klingon' }, owner, 400, 'export.unknown_language');
    await refused('csv', { from: 'yesterday' }, owner, 400, 'export.options_invalid');
    await refused('csv', { reviewStatus: 'great' }, owner, 400, 'export.options_invalid');
    await refused('geojson', { geoField: 'member/visit/place' }, owner, 400, 'export.no_geo_field');
  });

  it('exports GeoJSON: one feature per submission from the chosen geo field, the main columns as properties', async () => {
    const { headers, body } = await download('geojson');
    expect(headers.get('content-type')).toBe('application/geo+json');
    const collection = JSON.parse(body.toString('utf8'));
    const properties = (row: string) => {
      const cells = parseCsv(`${row}\n`)[0]!;
      const header = mainHeader.split(',');
      return Object.fromEntries(header.map((h, i) => [h, cells[i] === '' ? null : /^-?\d+(\.\d+)?$/.test(cells[i]!) && h !== 'hh/phone' && h !== '__version__' ? Number(cells[i]) : cells[i]]));
    };
    expect(collection).toEqual({
      type: 'FeatureCollection',
      name: 'household',
      features: [
        { type: 'Feature', geometry: { type: 'Point', coordinates: [36.8, -1.5, 1700] }, properties: properties(mainRows()[0]!) },
        { type: 'Feature', geometry: null, properties: properties(mainRows()[1]!) },
      ],
    });
    const shapes = JSON.parse((await download('geojson', { geoField: 'area', fields: 'area' })).body.toString('utf8'));
    expect(shapes.features[0].geometry).toEqual({ type: 'Polygon', coordinates: [[[36, -1, 0], [37, -1, 0], [37, -2, 0], [36, -1, 0]]] });
    const traces = JSON.parse((await download('geojson', { geoField: 'route', fields: 'route' })).body.toString('utf8'));
    expect(traces.features.map((f: any) => f.geometry)).toEqual([{ type: 'LineString', coordinates: [[36.8, -1.5, 0], [36.9, -1.6, 0]] }, null]);
  });

  it('exports XLSX with a sheet per table, numbers as numbers', async () => {
    const { headers, body } = await download('xlsx');
    expect(headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(body as unknown as ArrayBuffer);
    const sheet = (name: string) => {
      const rows: unknown[][] = [];
      workbook.getWorksheet(name)!.eachRow({ includeEmpty: true }, (row) => rows.push((row.values as unknown[]).slice(1)));
      return rows;
    };
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['household', 'member', 'visit']);
    const main = sheet('household');
    expect(main[0]).toEqual(mainHeader.split(','));
    expect(main[1]).toEqual(['north', 3, 'legacy, "quoted"', undefined, 'red blue', '-1.5 36.8 1700 5', -1.5, 36.8, 1700, 5, '-1.5 36.8 0 0;-1.6 36.9 0 0', '-1 36 0 0;-1 37 0 0;-2 37 0 0;-1 36 0 0', 'p1.jpg', id[0], uuid(0), '2024-05-02T08:00:00', undefined, 'exp_owner', '1', 1]);
    expect(sheet('member')[2]).toEqual(['Bo\nJr', 5, 2, 'household', 1, id[0], uuid(0), '2024-05-02T08:00:00', undefined, 'exp_owner', '1']);
    expect(sheet('visit').length).toBe(4);
  });

  it('exports a ZIP with the data files and the submitted media under readable paths', async () => {
    const { headers, body } = await download('zip');
    expect(headers.get('content-disposition')).toContain('household.zip');
    const file = unzip(body);
    expect(file('household.csv')).toBe(crlf(mainHeader, ...mainRows()));
    expect(file('household-visit.csv')).toBe(visitCsv());
    const zip = openSafeZip(body, zipLimits);
    expect(Buffer.from(zip.read(`media/${id[0]}/p1.jpg`)).equals(photo)).toBe(true);
    expect(openSafeZip((await download('zip', { media: 'false' })).body, zipLimits).has(`media/${id[0]}/p1.jpg`)).toBe(false);
  });

  it('exports encrypted submissions as metadata only, and says so in the file and the response', async () => {
    const upload = await fetch(`${env().url}/api/v1/projects/${projectId}/forms?publish=true`, { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: katXForm });
    expect(upload.status, await upload.text()).toBe(201);
    await postKatEnvelope(env(), projectId, owner);
    const response = await fetch(exportUrl('csv', {}, 'kat_form'), { headers: owner.headers });
    expect(response.headers.get('fieldkeep-export-note')).toBe(ENCRYPTED_NOTE);
    const rows = parseCsv(await response.text());
    expect(rows[0]).toEqual(['name', 'photo', '_id', '_uuid', '_submission_time', '_validation_status', '_submitted_by', '__version__', '_encrypted', '_index']);
    expect(rows.slice(1).map((r) => [r[0], r[1], r[3], r[7], r[8], r[9]])).toEqual([['', '', KAT_INSTANCE_ID.slice(5), '2024010101', 'true', '1']]);
  });

  it('saves export settings whose stable URLs serve the main table as CSV and every table as XLSX, with Token or Basic auth and a short cache', async () => {
    const settings = `${env().url}/api/v1/projects/${projectId}/forms/household/exports/settings`;
    expect((await call(settings, 'POST', owner.headers, { name: 'Bad', format: 'csv', options: { fields: 'nope' } })).body.code).toBe('export.unknown_field');
    const created = await call(settings, 'POST', owner.headers, { name: 'Dashboard', format: 'xlsx', options: { fields: 'hh/district,member/name', values: 'labels' } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const setting = created.body;
    expect(setting).toMatchObject({ name: 'Dashboard', format: 'xlsx', options: { fields: 'hh/district,member/name', values: 'labels' } });
    expect(setting.urls.csv).toMatch(new RegExp(`/api/v1/projects/${projectId}/forms/household/exports/settings/${setting.id}/data\\.csv$`));
    expect((await call(settings, 'GET', north.headers)).body.map((s: { id: number }) => s.id)).toEqual([setting.id]);
    const dataUrl = (format: string) => `${env().url}/api/v1/projects/${projectId}/forms/household/exports/settings/${setting.id}/data.${format}`;
    const token = owner.headers.authorization!.replace(/^Bearer /, 'Token ');
    const fetched = async (format: string, authorization: string) => {
      const response = await fetch(dataUrl(format), { headers: { authorization } });
      expect(response.status).toBe(200);
      return { cacheControl: response.headers.get('cache-control'), body: Buffer.from(await response.arrayBuffer()) };
    };
    const expected = crlf(
      'hh/district,_id,_uuid,_submission_time,_validation_status,_submitted_by,__version__,_index',
      `North,${id[0]},${uuid(0)},2024-05-02T08:00:00,,exp_owner,1,1`,
      `South,${id[1]},${uuid(1)},2024-06-03T09:30:00,Approved,exp_owner,2,2`,
    );
    const first = await fetched('csv', token);
    expect(first.body.toString('utf8')).toBe(expected);
    expect(first.cacheControl).toBe('private, max-age=60');
    // Within the cache's lifetime the same file is served again, even though the data changed.
    const review = `${env().url}/api/v1/projects/${projectId}/forms/household/submissions/${encodeURIComponent(instanceIds[0])}/review`;
    expect((await call(review, 'PUT', owner.headers, { status: 'on_hold' })).status).toBe(200);
    expect((await fetched('csv', token)).body.toString('utf8')).toBe(expected);
    expect((await call(review, 'PUT', owner.headers, { status: null })).status).toBe(200);
    // Another person gets their own file, under their own row filter; HTTP Basic works from this machine in development.
    const basicUser = await createTestUserWithPassword('exp_basic', 'correct horse battery staple 9');
    await addMemberTo(env(), projectId, owner, 'exp_basic', 'viewer', { fieldIn: { field: 'hh/district', values: ['south'] } });
    const basic = `Basic ${Buffer.from('exp_basic:correct horse battery staple 9').toString('base64')}`;
    expect(parseCsv((await fetched('csv', basic)).body.toString('utf8')).map((row) => row[0])).toEqual(['hh/district', 'South']);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await fetched('xlsx', token)).body as unknown as ArrayBuffer);
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['household', 'member']);
    expect(await fetch(dataUrl('geojson'), { headers: owner.headers }).then((r) => r.status)).toBe(400);
    expect((await call(`${settings}/${setting.id}`, 'DELETE', north.headers)).status).toBe(204);
    expect((await call(dataUrl('csv'), 'GET', owner.headers)).body.code).toBe('export.setting_not_found');
  });

  it('exports from the command line to a file, written whole or not at all', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-export-cli-'));
    try {
      const file = path.join(dir, 'household.csv');
      const run = await runFieldkeep(['export', '--project', String(projectId), '--form', 'household', '--format', 'csv', '--fields', 'hh,colors', '--values', 'labels', '-o', file], env().storage.env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`exported 2 submission(s) of household to ${file}`);
      expect(parseCsv(readFileSync(file, 'utf8')).map((row) => row[0])).toEqual(['hh/district', 'North', 'South']);
      const failed = await runFieldkeep(['export', '--project', String(projectId), '--form', 'household', '--format', 'csv', '--fields', 'nope', '-o', path.join(dir, 'bad.csv')], env().storage.env);
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toContain('nope');
      expect(readdirSync(dir)).toEqual(['household.csv']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs export jobs: queued, with progress, a file only for whoever asked, deleted when it expires', { timeout: 60_000 }, async () => {
    const jobs = `${env().url}/api/v1/projects/${projectId}/forms/household/exports/jobs`;
    expect((await call(jobs, 'POST', owner.headers, { format: 'csv', options: { language: 'Klingon' } })).body.code).toBe('export.unknown_language');
    const queued = await call(jobs, 'POST', owner.headers, { format: 'csv', options: { fields: 'hh,colors' } });
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    expect(queued.body).toMatchObject({ kind: 'export', state: 'queued', result: null });
    const status = `${env().url}/api/v1/projects/${projectId}/exports/jobs/${queued.body.id}`;
    let job = queued.body;
    for (let tries = 0; job.state !== 'succeeded' && job.state !== 'failed' && tries < 300; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await call(status, 'GET', owner.headers)).body;
    }
    expect(job).toMatchObject({ state: 'succeeded', progress: { done: 2, total: 2 }, result: { fileName: 'household.csv', contentType: 'text/csv; charset=utf-8', submissions: 2, note: null } });
    expect(job.expiresAt > job.finishedAt).toBe(true);
    const file = await fetch(`${env().url}${new URL(job.result.url as string).pathname}`, { headers: owner.headers });
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).toString('utf8')).toBe(await csvText({ fields: 'hh,colors' }));
    expect((await call(status, 'GET', north.headers)).body.code).toBe('export.job_not_found');
    expect((await call(`${status}/file`, 'GET', north.headers)).body.code).toBe('export.job_not_found');
    const audit = await env().server.database.db.selectFrom('audit_log').select('action').where('project_id', '=', projectId).where('action', '=', 'export.job_create').execute();
    expect(audit.length).toBe(1);
    // Once its time has passed, the runner deletes the file.
    const db = env().server.database.db;
    const stored = await db.selectFrom('job').select('result_json').where('id', '=', queued.body.id).executeTakeFirstOrThrow();
    const { blobId } = JSON.parse(stored.result_json!) as { blobId: string };
    const blobs = openBlobStore(ensureSecretKey(env().config));
    expect(await blobs.has(blobId)).toBe(true);
    await db.updateTable('job').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('id', '=', queued.body.id).execute();
    for (let tries = 0; !job.expired && tries < 300; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      job = (await call(status, 'GET', owner.headers)).body;
    }
    expect(job).toMatchObject({ state: 'succeeded', expired: true, result: null });
    expect(await blobs.has(blobId)).toBe(false);
    expect((await call(`${status}/file`, 'GET', owner.headers)).body.code).toBe('export.not_ready');
  });

  describe('LibreOffice', () => {
    it('opens the XLSX, and its sheets converted to CSV read as the CSV export does', { timeout: 120_000 }, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-lo-'));
      try {
        writeFileSync(path.join(dir, 'household.xlsx'), (await download('xlsx')).body);
        // All sheets, each to its own file (the last filter token, -1), UTF-8 (76), comma-separated (44), quoted with " (34).
        const filter = 'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1';
        await run('libreoffice', [`-env:UserInstallation=file://${dir}/profile`, '--headless', '--convert-to', filter, '--outdir', dir, path.join(dir, 'household.xlsx')], { timeout: 110_000 });
        const converted = readdirSync(dir).filter((f) => f.endsWith('.csv')).sort();
        expect(converted).toEqual(['household-household.csv', 'household-member.csv', 'household-visit.csv']);
        const csv = unzip((await download('csv')).body);
        for (const [sheetFile, csvFile] of [['household-household.csv', 'household.csv'], ['household-member.csv', 'household-member.csv'], ['household-visit.csv', 'household-visit.csv']] as const) {
          expect(parseCsv(readFileSync(path.join(dir, sheetFile), 'utf8')), sheetFile).toEqual(parseCsv(csv(csvFile)!));
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
