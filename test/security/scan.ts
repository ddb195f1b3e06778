/*
 * Runs Debian's sqlmap and wapiti against a Fieldkeep server seeded with data, on loopback only and
 * bounded in time. Not part of CI (the scanners take minutes and are not installed there):
 *
 *   flock /tmp/apt.lock apt-get install -y sqlmap wapiti
 *   npx tsx test/security/scan.ts              # SQLite
 *   DATABASE_URL=postgres://… npx tsx test/security/scan.ts   # an empty PostgreSQL database
 *
 * sqlmap attacks the data API's query parameters (filter, sort, fields, cursor, limit) and the
 * KoBoToolbox data API's (query, sort, fields, start, limit); wapiti runs its XXE, SQL, blind SQL,
 * command and CRLF injection modules from the same URLs, with its out-of-band endpoint (where XXE
 * payloads point) on a loopback listener, so nothing leaves the machine and any fetch by the server
 * is counted. The reports are written under the printed
 * directory (each scanner's output beside its report); the summary lines say what was tested and
 * whether anything was found.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/config.js';
import { collectHeaders, multipartBody, send } from '../../src/openrosa/submission-client.test-support.js';
import { startServer } from '../../src/server/start.js';
import { newInstanceId, surveyForm, surveyXml } from '../../src/submissions/data-fixtures.test-support.js';
import type { TestServer } from '../support/server.js';
import { createTestUser, testUserSettings } from '../support/test-users.js';

/** Each scanner's wall-clock budget. */
const SCANNER_SECONDS = Number(process.env.FIELDKEEP_SCAN_SECONDS ?? 300);
const SUBMISSIONS = 30;

const workDir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-scan-'));
const config = loadConfig({
  cwd: workDir,
  env: {
    FIELDKEEP_DATA_DIR: workDir,
    FIELDKEEP_HOST: '127.0.0.1',
    FIELDKEEP_PORT: '0',
    FIELDKEEP_LOG_LEVEL: 'warn',
    ...testUserSettings,
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  },
});
const serverLog: string[] = [];
const server = await startServer(config, {
  logDestination: new Writable({
    write(chunk: Buffer, _encoding, done) {
      serverLog.push(chunk.toString('utf8'));
      done();
    },
  }),
});
const base = server.url;
if (!/^http:\/\/127\.0\.0\.1:/.test(base)) throw new Error(`refusing to scan ${base}: loopback only`);

const owner = await createTestUser({ url: base, server, config } as TestServer, 'scanner');
const auth = owner.headers.authorization as string;
const api = async (url: string, method: string, body?: string, contentType = 'application/json') => {
  const response = await fetch(`${base}${url}`, { method, headers: { authorization: auth, ...(body ? { 'content-type': contentType } : {}) }, ...(body ? { body } : {}) });
  if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<any>;
};

const project = await api('/api/v1/projects', 'POST', JSON.stringify({ name: 'Scanned' }));
await api(`/api/v1/projects/${project.id}/forms?publish=true`, 'POST', surveyForm(), 'application/xml');
for (let i = 0; i < SUBMISSIONS; i += 1) {
  const xml = surveyXml('survey', newInstanceId(), { district: ['north', 'south', 'east'][i % 3], age: String(20 + i), note: `note ${i}` });
  const body = multipartBody([{ name: 'xml_submission_file', filename: 'instance.xml', contentType: 'text/xml', body: xml }]);
  const answer = await send(`${base}/projects/${project.id}/submission`, 'POST', collectHeaders({ authorization: auth, 'content-type': body.contentType }), body.body);
  if (answer.status !== 201) throw new Error(`seeding failed: ${answer.status} ${answer.body}`);
}
const assets = await api('/api/v2/assets/', 'GET');
const uid = assets.results[0].uid as string;

const targets = [
  `${base}/api/v1/projects/${project.id}/forms/survey/submissions?filter=${encodeURIComponent('{"district":"north"}')}&sort=age&fields=age,district&limit=10&count=true`,
  `${base}/api/v1/projects/${project.id}/forms/survey/submissions/count?filter=${encodeURIComponent('{"age":{"$gte":25}}')}`,
  `${base}/api/v2/assets/${uid}/data/?query=${encodeURIComponent('{"district":"south"}')}&sort=${encodeURIComponent('{"age":-1}')}&fields=${encodeURIComponent('["age"]')}&start=0&limit=5`,
];
const kind = process.env.DATABASE_URL ? 'PostgreSQL' : 'SQLite';
console.log(`seeded ${SUBMISSIONS} submissions on ${kind} at ${base}; reports in ${workDir}`);

function run(command: string, args: string[]): Promise<{ output: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, SCANNER_SECONDS * 1000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ output, timedOut });
    });
  });
}

/** Wapiti's out-of-band endpoint: its payloads point here, and it asks here for what arrived. */
let payloadFetches = 0;
const endpoint = createServer((request, response) => {
  if (!request.url?.startsWith('/get_')) payloadFetches += 1;
  response.setHeader('content-type', 'application/json');
  response.end('{}');
});
await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
const endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/`;

const summary: string[] = [];
for (const [i, url] of targets.entries()) {
  const { output, timedOut } = await run('sqlmap', [
    '-u', url, '-H', `Authorization: ${auth}`, '--batch', '--level=3', '--risk=2', `--dbms=${kind}`,
    '--time-sec=2', '--timeout=10', '--retries=0', '--disable-coloring', `--output-dir=${path.join(workDir, `sqlmap-${i}`)}`,
  ]);
  writeFileSync(path.join(workDir, `sqlmap-${i}.txt`), output);
  const tested = [...new Set([...output.matchAll(/GET parameter '([^']+)' does not seem to be injectable/g)].map((match) => match[1]))];
  const injectable = output.split('\n').filter((line) => /is vulnerable|appears to be .*injectable|parameter '.*' is '.*' injectable/i.test(line) && !/does not (seem|appear)/.test(line));
  const clean = /all tested parameters do not appear to be injectable/i.test(output);
  summary.push(`sqlmap ${new URL(url).pathname}: ${injectable.length > 0 ? `FOUND ${injectable.join(' | ')}` : clean ? `no injectable parameter (tested ${tested.join(', ')})` : timedOut ? `stopped after ${SCANNER_SECONDS} s without a finding` : 'finished without a finding'}`);
}

const wapitiReport = path.join(workDir, 'wapiti.json');
const wapiti = await run('wapiti', [
  '-u', `${base}/api/`, ...targets.flatMap((url) => ['-s', url]), '--scope', 'folder', '-m', 'xxe,sql,blindsql,exec,crlf',
  '-H', `Authorization: ${auth}`, '--endpoint', endpointUrl, '--flush-session', '--max-scan-time', String(SCANNER_SECONDS - 10), '-f', 'json', '-o', wapitiReport,
]);
writeFileSync(path.join(workDir, 'wapiti.txt'), wapiti.output);
try {
  const report = JSON.parse(readFileSync(wapitiReport, 'utf8')) as { vulnerabilities: Record<string, unknown[]>; anomalies: Record<string, unknown[]> };
  const found = Object.entries({ ...report.vulnerabilities, ...report.anomalies }).filter(([, items]) => items.length > 0);
  summary.push(`wapiti (xxe, sql, blindsql, exec, crlf): ${found.length === 0 ? 'no vulnerability or anomaly' : `FOUND ${found.map(([name, items]) => `${name}: ${items.length}`).join(', ')}`}`);
} catch {
  summary.push(`wapiti: no report (${wapiti.timedOut ? 'timed out' : 'failed'}):\n${wapiti.output.slice(-2000)}`);
}
summary.push(`out-of-band endpoint: ${payloadFetches} payload fetches (by the server or anyone)`);
endpoint.close();
const serverErrors = serverLog.filter((line) => /"level":50|"level":60/.test(line)).length;
summary.push(`server: ${serverErrors} error log lines during the scans`);

await server.stop();
console.log(summary.join('\n'));
