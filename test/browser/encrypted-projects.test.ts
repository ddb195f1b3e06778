/**
 * End-to-end encrypted projects, the whole round: keys made and wrapped in headless Chromium by
 * the browser module (and no request it makes carries the passphrase or the private key);
 * envelopes made by BouncyCastle (the known-answer vectors) and by our own encryptor, posted over
 * OpenRosa as ODK Collect posts them; listed by the server as metadata only; decrypted in the
 * browser and, downloaded as Briefcase lays them out, by `fieldkeep decrypt` — signatures valid.
 * The browser's CSV and XLSX exports are built in a Web Worker; LibreOffice opens the XLSX.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Request } from 'playwright-core';
import { bundleBrowserModule, openModulePage, type BrowserPage } from '../support/chromium.js';
import { describeEachDatabase } from '../support/databases.js';
import { runFieldkeep } from '../support/fieldkeep-cli.js';
import { call } from '../support/http.js';
import { useTestServer } from '../support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../support/test-users.js';
import { parseEncryptedManifest } from '../../src/crypto/index.js';
import { KAT_INSTANCE_ID, encryptedSurvey, katXForm, postEnvelope, postKatEnvelope, readVector, VECTORS } from '../../src/project-keys/encrypted-fixtures.test-support.js';
import { newInstanceId, publishSurvey } from '../../src/submissions/data-fixtures.test-support.js';
import { parseCsv } from '../../src/exports/export-fixtures.test-support.js';
import { XLSX_TYPE } from '../../src/crypto/browser/xlsx-export.js';

const PASSPHRASE = 'tundra saffron ledger 63 cobalt';
const RECOVERY_PASSPHRASE = 'otter canyon mosaic 81 velvet';
/** Tests that wrap or unwrap keys: each scrypt run takes seconds on a busy machine. */
const SCRYPT_BOUND = { timeout: 120_000 };
const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');
const run = promisify(execFile);

/** LibreOffice's reading of a workbook: its first sheet converted to CSV (UTF-8, comma, "), parsed. */
async function libreOfficeRows(dir: string, file: string): Promise<string[][]> {
  const filter = 'csv:Text - txt - csv (StarCalc):44,34,76,1';
  await run('libreoffice', [`-env:UserInstallation=file://${dir}/profile`, '--headless', '--convert-to', filter, '--outdir', dir, path.join(dir, file)], { timeout: 170_000 });
  return parseCsv(readFileSync(path.join(dir, file.replace(/\.xlsx$/, '.csv')), 'utf8'));
}

/** What the page gives back from decrypting a form's submissions. */
interface PageRecord {
  instanceId: string;
  encrypted: boolean;
  signature?: string;
  submissionXml?: string;
  media?: Array<{ name: string; md5Hex: string }>;
}

let bundle: string;
let workerBundle: string;
beforeAll(async () => {
  bundle = await bundleBrowserModule();
  workerBundle = await bundleBrowserModule('src/crypto/browser/export-worker.ts', 'FieldkeepExportWorker');
});

describeEachDatabase('encrypted projects, browser and command line', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const api = (path: string) => `${env().url}/api/v1${path}`;
  const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-e2e-'));
  let browser: BrowserPage;
  let owner: TestUser;
  let projectId: number;
  let recoveryFile: string;
  const requests: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
  const photos = [randomBytes(70_000), randomBytes(3_000)];
  const surveyIds: string[] = [];

  beforeAll(async () => {
    owner = await createTestUser(env(), 'browser_owner');
    projectId = (await call(api('/projects'), 'POST', owner.headers, { name: 'Browser-encrypted' })).body.id;
    await publishSurvey(env(), projectId, owner);
    const kat = await fetch(api(`/projects/${projectId}/forms?publish=true`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: katXForm });
    expect(kat.status).toBe(201);
    browser = await openModulePage(env().url, bundle);
    browser.page.on('request', (request: Request) => {
      requests.push({ url: request.url(), headers: request.headers(), body: request.postData() ?? '' });
    });
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('sets up the key in the browser; no request carries the passphrase or the private key', SCRYPT_BOUND, async () => {
    const weak = await browser.page.evaluate(async ({ base, headers, projectId }) => {
      const F = (window as any).Fieldkeep;
      const client = new F.FieldkeepClient({ baseUrl: base, headers });
      return F.setUpProjectEncryption(client, projectId, 'password123').then(() => 'accepted', (err: { problems?: Array<{ code: string }> }) => err.problems?.map((p) => p.code));
    }, { base: env().url, headers: owner.headers, projectId });
    expect(weak).toEqual(expect.arrayContaining(['password.too_weak']));

    const setUp = await browser.page.evaluate(async ({ base, headers, projectId, passphrase, recoveryPassphrase }) => {
      const F = (window as any).Fieldkeep;
      const client = new F.FieldkeepClient({ baseUrl: base, headers });
      const { privateKey } = await F.setUpProjectEncryption(client, projectId, passphrase, { hint: 'the cobalt one', identity: { username: 'browser_owner' } });
      const pkcs8 = await F.privateKeyToPkcs8(privateKey);
      return { pkcs8: F.toBase64(pkcs8), pkcs8Hex: F.toHex(pkcs8), pem: await F.privateKeyToPem(privateKey), recovery: await F.createRecoveryFile(privateKey, recoveryPassphrase, `project ${projectId}`) };
    }, { base: env().url, headers: owner.headers, projectId, passphrase: PASSPHRASE, recoveryPassphrase: RECOVERY_PASSPHRASE });

    recoveryFile = path.join(work, 'recovery.json');
    writeFileSync(recoveryFile, setUp.recovery);
    const apiRequests = requests.filter((r) => r.url.includes('/api/'));
    expect(apiRequests.some((r) => r.url.endsWith(`/projects/${projectId}/encryption`) && r.body.includes('wrappedPrivateKey'))).toBe(true);
    const secrets = [PASSPHRASE, RECOVERY_PASSPHRASE, setUp.pkcs8Hex, ...slices(setUp.pkcs8), ...slices(setUp.pem.replace(/-----[A-Z ]+-----|\s/g, ''))];
    for (const request of requests) {
      const seen = `${request.url}\n${JSON.stringify(request.headers)}\n${request.body}`;
      for (const secret of secrets) expect(seen.includes(secret), `${request.url} carries a secret`).toBe(false);
    }
    const status = (await call(api(`/projects/${projectId}/encryption`), 'GET', owner.headers)).body;
    expect(status.keys[0]).toMatchObject({ state: 'active', managed: true, hint: 'the cobalt one' });
  });

  it('accepts envelopes from our encryptor and from BouncyCastle over OpenRosa, and lists metadata only', async () => {
    const survey = (await call(api(`/projects/${projectId}/forms/survey`), 'GET', owner.headers)).body.published;
    const publicKey = (await call(api(`/projects/${projectId}/encryption`), 'GET', owner.headers)).body.keys[0].publicKey;
    for (const [index, photo] of photos.entries()) {
      const instanceId = newInstanceId();
      const envelope = await encryptedSurvey(publicKey, survey.version, instanceId, index === 0 ? 'north' : 'south', photo, { age: index === 0 ? '31' : '7' });
      await postEnvelope(env(), projectId, owner, envelope.manifestXml, envelope.files);
      surveyIds.push(instanceId);
    }
    await postKatEnvelope(env(), projectId, owner);
    for (const formId of ['survey', 'kat_form']) {
      for (const row of (await call(api(`/projects/${projectId}/forms/${formId}/submissions`), 'GET', owner.headers)).body.results) {
        expect(row._encrypted).toBe(true);
        expect(Object.keys(row).filter((key) => !key.startsWith('_') && !key.startsWith('meta/'))).toEqual([]);
      }
    }
  });

  it('decrypts every submission in the browser, media included, with valid signatures', SCRYPT_BOUND, async () => {
    const records = (await browser.page.evaluate(async ({ base, headers, projectId, passphrase, katPem }) => {
      const F = (window as any).Fieldkeep;
      const client = new F.FieldkeepClient({ baseUrl: base, headers });
      const ring = new F.KeyRing();
      await ring.unlock(client, projectId, passphrase);
      ring.add(projectId, [await F.loadPrivateKey(katPem)]);
      const out: unknown[] = [];
      for (const formId of ['survey', 'kat_form']) {
        for await (const record of F.decryptFormSubmissions(client, projectId, formId, ring.keysOf(projectId))) {
          out.push({ instanceId: record.instanceId, encrypted: record.encrypted, signature: record.signature, submissionXml: record.submissionXml, media: record.media.map((m: { name: string; md5Hex: string }) => ({ name: m.name, md5Hex: m.md5Hex })) });
        }
      }
      return out;
    }, { base: env().url, headers: owner.headers, projectId, passphrase: PASSPHRASE, katPem: readVector('priv.pem').toString('utf8') })) as PageRecord[];

    expect(records.map((r) => r.instanceId)).toEqual([...surveyIds, KAT_INSTANCE_ID]);
    for (const record of records) expect(record.signature).toBe('valid');
    records.slice(0, 2).forEach((record, index) => {
      expect(record.submissionXml).toContain(`<district>${index === 0 ? 'north' : 'south'}</district>`);
      expect(record.media).toEqual([{ name: 'photo.jpg', md5Hex: md5(photos[index]!) }]);
    });
    const kat = records[2]!;
    expect(kat.submissionXml).toBe(readVector('plain/submission.xml').toString('utf8'));
    expect(kat.media).toEqual([
      { name: 'photo.jpg', md5Hex: '72de03d96498b3097347f2fdc7d82894' },
      { name: 'audit.csv', md5Hex: '1f563db3263393c0a7e6c20eb72c5c49' },
    ]);
  });

  it('builds a CSV of the decrypted submissions in a Web Worker', SCRYPT_BOUND, async () => {
    const result = await browser.page.evaluate(async ({ base, headers, projectId, passphrase, workerSource }) => {
      const F = (window as any).Fieldkeep;
      const client = new F.FieldkeepClient({ baseUrl: base, headers });
      const keys = await F.unlockProject(client, projectId, passphrase);
      const worker = new Worker(URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' })));
      const progress: number[] = [];
      let ticks = 0;
      const timer = setInterval(() => (ticks += 1), 5);
      const csv: Blob = await F.exportCsvInWorker(worker, { baseUrl: base, headers, projectId, formId: 'survey', keys }, (n: number) => progress.push(n));
      clearInterval(timer);
      worker.terminate();
      return { text: await csv.text(), ticks };
    }, { base: env().url, headers: owner.headers, projectId, passphrase: PASSPHRASE, workerSource: workerBundle });
    const lines = result.text.trim().split('\r\n');
    expect(lines[0]).toBe('instanceID,_submission_time,_signature,district,age,weight,seen,where,colors,note,photo,meta/instanceID,member');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).filter((_, i) => i !== 1))).toEqual([
      [surveyIds[0], 'valid', 'north'],
      [surveyIds[1], 'valid', 'south'],
    ]);
    expect(result.ticks, 'the page kept running while the worker exported').toBeGreaterThan(0);
  });

  it('builds an XLSX of the decrypted submissions in a Web Worker, which LibreOffice opens with the values of the CSV', { timeout: 240_000 }, async () => {
    const result = await browser.page.evaluate(async ({ base, headers, projectId, passphrase, workerSource }) => {
      const F = (window as any).Fieldkeep;
      const client = new F.FieldkeepClient({ baseUrl: base, headers });
      const keys = await F.unlockProject(client, projectId, passphrase);
      const worker = new Worker(URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' })));
      const request = { baseUrl: base, headers, projectId, formId: 'survey', keys };
      const xlsx: Blob = await F.exportXlsxInWorker(worker, request);
      const csv: Blob = await F.exportCsvInWorker(worker, request);
      worker.terminate();
      return { type: xlsx.type, xlsx: F.toBase64(new Uint8Array(await xlsx.arrayBuffer())), csv: await csv.text() };
    }, { base: env().url, headers: owner.headers, projectId, passphrase: PASSPHRASE, workerSource: workerBundle });
    expect(result.type).toBe(XLSX_TYPE);
    const xlsx = Buffer.from(result.xlsx, 'base64');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('survey')!;
    expect([sheet.getCell('E2').value, sheet.getCell('E3').value]).toEqual([31, 7]);

    const dir = path.join(work, 'xlsx');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'survey.xlsx'), xlsx);
    const csv = parseCsv(result.csv);
    expect(csv.map((row) => [row[0], row[2], row[3], row[4]])).toEqual([['instanceID', '_signature', 'district', 'age'], [surveyIds[0], 'valid', 'north', '31'], [surveyIds[1], 'valid', 'south', '7']]);
    expect(await libreOfficeRows(dir, 'survey.xlsx')).toEqual(csv);
  });

  it('decrypts the same envelopes offline with `fieldkeep decrypt`, downloaded in a Briefcase layout', { timeout: 120_000 }, async () => {
    const download = async (formId: string): Promise<string> => {
      const dir = path.join(work, `download-${formId}`);
      for (const row of (await call(api(`/projects/${projectId}/forms/${formId}/submissions`), 'GET', owner.headers)).body.results) {
        const instanceId = row['meta/rootUuid'] as string;
        const base = api(`/projects/${projectId}/forms/${formId}/submissions/${encodeURIComponent(instanceId)}`);
        const manifest = Buffer.from(await (await fetch(`${base}.xml`, { headers: owner.headers })).arrayBuffer());
        const instanceDir = path.join(dir, 'instances', instanceId.replace(/:/g, ''));
        mkdirSync(instanceDir, { recursive: true });
        writeFileSync(path.join(instanceDir, 'submission.xml'), manifest);
        const parsed = parseEncryptedManifest(manifest);
        for (const name of [...parsed.mediaFiles, parsed.encryptedXmlFile]) {
          writeFileSync(path.join(instanceDir, name), Buffer.from(await (await fetch(`${base}/attachments/${encodeURIComponent(name)}`, { headers: owner.headers })).arrayBuffer()));
        }
      }
      return dir;
    };
    const surveyOut = path.join(work, 'survey-out');
    const withRecovery = await runFieldkeep(['decrypt', '--recovery-file', recoveryFile, '--in', await download('survey'), '--out', surveyOut], {}, { stdin: `${RECOVERY_PASSPHRASE}\n` });
    expect(withRecovery.stdout.trim().split('\n').sort()).toEqual(surveyIds.map((id) => `${id}  signature valid`).sort());
    expect(withRecovery.code, withRecovery.stderr).toBe(0);
    surveyIds.forEach((id, index) => expect(readFileSync(path.join(surveyOut, id.replace(/:/g, '-'), 'photo.jpg')).equals(photos[index]!)).toBe(true));

    const katOut = path.join(work, 'kat-out');
    const withKey = await runFieldkeep(['decrypt', '--key', path.join(VECTORS, 'priv.pem'), '--in', await download('kat_form'), '--out', katOut], {});
    expect(withKey.stdout).toBe(`${KAT_INSTANCE_ID}  signature valid\n`);
    expect(readFileSync(path.join(katOut, KAT_INSTANCE_ID.replace(/:/g, '-'), 'photo.jpg')).equals(readVector('plain/photo.jpg'))).toBe(true);
  });
});

/** Needs no server or database: the page is served at an address of its own, intercepted. */
describe('the browser XLSX export at scale', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-xlsx-load-'));
  let browser: BrowserPage;
  beforeAll(async () => {
    browser = await openModulePage('http://fieldkeep.invalid', bundle);
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes 100,000 submissions into an XLSX in a Web Worker while the page keeps running', { timeout: 300_000 }, async () => {
    const loadWorker = await bundleBrowserModule('test/browser/xlsx-load-worker.support.ts', 'FieldkeepXlsxLoad');
    const rows = 100_000;
    const result = await browser.page.evaluate(async ({ source, rows }) => {
      const F = (window as any).Fieldkeep;
      const worker = new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' })));
      const started = performance.now();
      let last = started;
      let longestPause = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        longestPause = Math.max(longestPause, now - last);
        last = now;
      }, 10);
      const progress: number[] = [];
      const done = await new Promise<{ file: Blob; rows: number }>((resolve, reject) => {
        worker.onmessage = ({ data }) => {
          if ('progress' in data) progress.push(data.progress);
          else if ('error' in data) reject(new Error(data.error));
          else resolve(data);
        };
        worker.postMessage({ rows });
      });
      const elapsed = performance.now() - started;
      clearInterval(timer);
      worker.terminate();
      return { rows: done.rows, elapsed, longestPause, progress, file: F.toBase64(new Uint8Array(await done.file.arrayBuffer())) };
    }, { source: loadWorker, rows });
    expect(result.rows).toBe(rows);
    expect(result.progress).toEqual(Array.from({ length: 10 }, (_, i) => (i + 1) * 10_000));
    // The page's own timer kept firing throughout: it never waited on the worker's work.
    expect(result.longestPause).toBeLessThan(Math.min(1000, result.elapsed / 4));

    writeFileSync(path.join(work, 'load.xlsx'), Buffer.from(result.file, 'base64'));
    expect((await run('unzip', ['-t', path.join(work, 'load.xlsx')])).stdout).toContain('No errors detected');
    const opened = await libreOfficeRows(work, 'load.xlsx');
    expect(opened).toHaveLength(rows + 1);
    expect(opened[0]).toEqual(['instanceID', '_submission_time', '_signature', 'district', 'age', 'weight', 'note']);
    expect(opened[rows]).toEqual(['uuid:000000100000', '2024-05-01T10:00:00', 'valid', 'south', String(100_000 % 90), String(100_000 / 8), 'note 100000, "quoted" & <marked>']);
    expect(opened[7]![5]).toBe('0.875');
  });
});

/** Overlapping 24-character pieces: any of them in a request would mean part of the key left the page. */
function slices(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 24 <= text.length; i += 12) out.push(text.slice(i, i + 24));
  return out;
}
