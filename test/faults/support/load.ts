/**
 * Steady submission traffic for the outage and disk-full suites: a few phones posting one new
 * submission after another, every answer recorded with its status, stable code, message and
 * timing, and a deadline on each request so a hang is recorded as one rather than stalling the test.
 * Alongside, /readyz is polled and each answer recorded.
 */
import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectHeaders, multipartBody } from '../../../src/openrosa/submission-client.test-support.js';
import { errorCodeOf, makeSubmission, openRosaMessage, type FaultInstance, type Sent } from './instance.js';

/** No answer by then is a hang: a fault must be answered, not waited out. */
export const ANSWER_DEADLINE_MS = 20_000;
const REFUSED_PAUSE_MS = 100;

export interface Answer {
  sent: Sent;
  /** 0: the connection failed; -1: no answer within the deadline. */
  status: number;
  code: string | undefined;
  message: string | undefined;
  retryAfter: string | undefined;
  startedAt: number;
  endedAt: number;
}

export interface ReadinessAnswer {
  at: number;
  endedAt: number;
  status: number;
  code: string | undefined;
  detail: string | undefined;
}

export interface Load {
  answers: Answer[];
  readiness: ReadinessAnswer[];
  /** The first request started at or after `since` that was acknowledged. */
  firstAcknowledgedSince(since: number): Answer | undefined;
  stop(): Promise<void>;
}

export function startLoad(instance: FaultInstance, url: string, options: { phones: number; batch: number }): Load {
  const answers: Answer[] = [];
  const readiness: ReadinessAnswer[] = [];
  let stopped = false;
  let next = 0;
  const phones = Array.from({ length: options.phones }, async () => {
    while (!stopped) {
      const sent = makeSubmission(options.batch, next++, 8 * 1024, 2 * 1024);
      const answer = await post(instance, url, sent);
      answers.push(answer);
      // A refused phone waits a little before its next attempt, as Collect's outbox does (longer).
      if (answer.status !== 201 && answer.status !== 202) await sleep(REFUSED_PAUSE_MS);
    }
  });
  const poller = (async () => {
    while (!stopped) {
      readiness.push(await ready(url));
      await sleep(200);
    }
  })();
  return {
    answers,
    readiness,
    firstAcknowledgedSince: (since) => answers.filter((a) => a.startedAt >= since && (a.status === 201 || a.status === 202)).sort((a, b) => a.endedAt - b.endedAt)[0],
    stop: async () => {
      stopped = true;
      await Promise.all([...phones, poller]);
    },
  };
}

/** One submission, as Collect posts it, with a deadline. */
export function post(instance: FaultInstance, url: string, sent: Sent): Promise<Answer> {
  const body = multipartBody([
    { name: 'xml_submission_file', filename: 'submission.xml', contentType: 'text/xml', body: sent.xml },
    ...sent.files.map((file) => ({ name: file.name, filename: file.name, contentType: file.contentType, body: file.bytes })),
  ]);
  const headers = collectHeaders({ ...instance.headers, 'content-type': body.contentType, 'content-length': String(body.body.length) });
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const done = (status: number, text = '', responseHeaders: Record<string, string | string[] | undefined> = {}) => {
      const raw = { status, headers: responseHeaders, body: text };
      const retryAfter = responseHeaders['retry-after'];
      resolve({
        sent,
        status,
        code: status > 0 ? errorCodeOf(raw) : undefined,
        message: status > 0 ? openRosaMessage(raw) : undefined,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
        startedAt,
        endedAt: Date.now(),
      });
    };
    const request = httpRequest(`${url}/projects/${instance.projectId}/submission`, { method: 'POST', headers, timeout: ANSWER_DEADLINE_MS }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), response.headers));
      response.on('error', () => done(0));
    });
    request.on('timeout', () => {
      request.destroy();
      done(-1);
    });
    request.on('error', () => done(0));
    request.end(body.body);
  });
}

async function ready(url: string): Promise<ReadinessAnswer> {
  const at = Date.now();
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(ANSWER_DEADLINE_MS) });
    const body = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
    return { at, endedAt: Date.now(), status: response.status, code: body.code, detail: body.detail };
  } catch {
    return { at, endedAt: Date.now(), status: -1, code: undefined, detail: undefined };
  }
}
