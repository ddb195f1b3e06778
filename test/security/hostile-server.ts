/**
 * What every hostile-input case asserts against the real server: the answer is a 4xx carrying a
 * stable code from the error catalogue, it comes well under a second (a guard against hangs, not a
 * benchmark), the process's resident memory does not grow past a stated bound while the request is
 * served, and the server still answers /healthz afterwards. The server runs in the test process
 * (test/support/server.ts), so the process's RSS is the server's; payloads are built before the
 * baseline is taken, so only what the server holds counts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect } from 'vitest';
import { errorCatalogue } from '../../src/server/errors.js';
import { collectHeaders, send, type RawResponse } from '../../src/openrosa/submission-client.test-support.js';
import { publishSurvey, surveyXml, newInstanceId } from '../../src/submissions/data-fixtures.test-support.js';
import { call } from '../support/http.js';
import type { TestServer } from '../support/server.js';
import { createTestUser, type TestUser } from '../support/test-users.js';

/** Generous: a refusal is expected in milliseconds; this only catches hangs and quadratic work. */
export const ANSWER_WITHIN_MS = 2000;
/** Resident memory the server may add while refusing one hostile request. */
export const RSS_GROWTH_BOUND_BYTES = 96 * 1024 * 1024;

export interface Refusal {
  status: number;
  code: string | undefined;
  elapsedMs: number;
  rssGrowthBytes: number;
  headers: RawResponse['headers'];
  body: string;
}

/**
 * Sends one hostile request and measures it: the elapsed time and the peak resident memory above
 * the baseline, sampled while the request is in flight.
 */
export async function measure(exchange: () => Promise<RawResponse>): Promise<Refusal> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const started = performance.now();
  try {
    const response = await exchange();
    const elapsedMs = performance.now() - started;
    peak = Math.max(peak, process.memoryUsage.rss());
    return { status: response.status, code: codeOf(response), elapsedMs, rssGrowthBytes: peak - baseline, headers: response.headers, body: response.body };
  } finally {
    clearInterval(sampler);
  }
}

/** OpenRosa answers carry the code in a header (the body is an OpenRosaResponse); the API in problem+json. */
function codeOf(response: RawResponse): string | undefined {
  const header = response.headers['x-fieldkeep-error'];
  if (typeof header === 'string') return header;
  if (!/json/.test(String(response.headers['content-type']))) return undefined;
  try {
    return (JSON.parse(response.body) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

/** The refusal every hostile case must produce; `codes` lists the acceptable stable codes. */
export async function expectRefused(
  server: TestServer,
  exchange: () => Promise<RawResponse>,
  codes: readonly string[],
  options: { withinMs?: number; rssGrowthBytes?: number } = {},
): Promise<Refusal> {
  const refusal = await measure(exchange);
  const summary = `${refusal.status} ${refusal.code}: ${refusal.body.slice(0, 300)}`;
  expect(refusal.status, summary).toBeGreaterThanOrEqual(400);
  expect(refusal.status, summary).toBeLessThan(500);
  expect(codes, summary).toContain(refusal.code);
  expect(Object.keys(errorCatalogue)).toContain(refusal.code);
  expect(errorCatalogue[refusal.code as keyof typeof errorCatalogue].status, summary).toBe(refusal.status);
  expect(refusal.elapsedMs, summary).toBeLessThan(options.withinMs ?? ANSWER_WITHIN_MS);
  expect(refusal.rssGrowthBytes, summary).toBeLessThan(options.rssGrowthBytes ?? RSS_GROWTH_BOUND_BYTES);
  await expectAlive(server);
  return refusal;
}

export async function expectAlive(server: TestServer): Promise<void> {
  const health = await call(`${server.url}/healthz`, 'GET');
  expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
}

const encryptionData = path.resolve(import.meta.dirname, '../../../shared/testdata/odk-encryption');

/** An encrypted form: the same known-answer key the OpenRosa tests use. */
const encryptedForm = () => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>Sealed</h:title><model>
  <submission base64RsaPublicKey="${readFileSync(path.join(encryptionData, 'pub.der')).toString('base64')}"/>
  <instance><data id="kat_form" version="2024010101"><name/><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/name" type="string"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/name"><label>Name</label></input></h:body>
</h:html>`;

export interface HostileTargets {
  owner: TestUser;
  projectId: number;
  /** POST /projects/:id/submission (OpenRosa). */
  submissionUrl: string;
  /** POST /api/v1/projects/:id/forms (form upload API). */
  formsUrl: string;
  /** A plaintext submission the `survey` form accepts, to check the endpoint still works. */
  validSubmission(): string;
}

/**
 * An owner with a project holding a published plaintext form (`survey`) and an encrypted one
 * (`kat_form`), for the enclosing describe block.
 */
export function useHostileTargets(env: () => TestServer): () => HostileTargets {
  let targets: HostileTargets | undefined;
  beforeAll(async () => {
    const owner = await createTestUser(env(), 'owner');
    const project = await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'Hostile input' });
    const projectId = project.body.id as number;
    await publishSurvey(env(), projectId, owner);
    const formsUrl = `${env().url}/api/v1/projects/${projectId}/forms`;
    const sealed = await fetch(`${formsUrl}?publish=true`, { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: encryptedForm() });
    expect(sealed.status, await sealed.text()).toBe(201);
    targets = {
      owner,
      projectId,
      submissionUrl: `${env().url}/projects/${projectId}/submission`,
      formsUrl,
      validSubmission: () => surveyXml('survey', newInstanceId(), { district: 'north', age: '7' }),
    };
  });
  return () => {
    if (!targets) throw new Error('the hostile-input targets are not set up yet');
    return targets;
  };
}

/** Collect's headers for a submission POST by `user` with this multipart content type. */
export function submissionHeaders(user: TestUser, contentType: string): Record<string, string> {
  return collectHeaders({ ...user.headers, 'content-type': contentType });
}

export { send };
