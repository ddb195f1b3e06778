/**
 * One fault, start to end, under steady traffic: submissions flow, the fault is injected, the
 * server's answers and readiness are recorded while it lasts, the fault is cleared, and the time
 * until the server works again by itself is measured (no restart, no operator). Then what was
 * acknowledged is checked, and the figures printed as one JSON line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { startLoad, type Answer, type ReadinessAnswer } from './load.js';
import type { FaultInstance } from './instance.js';
import type { ServerProcess } from './server-process.js';
import { integrityProblems, storedSubmissions } from './verify.js';

export interface Fault {
  /** e.g. 'postgres-stopped'. */
  name: string;
  database: string;
  inject(): Promise<void>;
  clear(): Promise<void>;
  /** The refusals the fault may cause, as `<status> <code>`. */
  refusals: readonly string[];
}

export interface FaultFigures {
  suite: 'faults';
  fault: string;
  database: string;
  acknowledged: number;
  answers: Record<string, number>;
  slowestAnswerMs: number;
  faultMs: number;
  notReadyDuringFault: number;
  recoveryMs: number | null;
  readyAgainMs: number | null;
  lost: number;
  incomplete: number;
}

const MIN_TRAFFIC = 10;
const MIN_REFUSALS = 10;
const FAULT_WINDOW_MS = { min: 2000, max: 20_000 };
const RECOVERY_LIMIT_MS = 60_000;

async function until(condition: () => boolean, limitMs: number, minMs = 0): Promise<void> {
  const start = Date.now();
  while ((!condition() || Date.now() - start < minMs) && Date.now() - start < limitMs) await sleep(50);
}

const key = (a: Answer) => (a.status === 201 || a.status === 202 ? String(a.status) : `${a.status} ${a.code}`);

export async function runFault(instance: FaultInstance, server: ServerProcess, fault: Fault): Promise<FaultFigures> {
  const load = startLoad(instance, server.url, { phones: 6, batch: Math.floor(Math.random() * 9000) + 1000 });
  let injectedAt = 0;
  let clearedAt = 0;
  let answers: Answer[];
  let readiness: ReadinessAnswer[];
  try {
    await until(() => load.answers.filter((a) => a.status === 201).length >= MIN_TRAFFIC, 60_000);
    await fault.inject();
    injectedAt = Date.now();
    const refusedSince = () => load.answers.filter((a) => a.startedAt >= injectedAt && fault.refusals.includes(key(a)));
    const notReadySince = () => load.readiness.filter((r) => r.at >= injectedAt && r.status === 503);
    await until(() => refusedSince().length >= MIN_REFUSALS && notReadySince().length >= 2, FAULT_WINDOW_MS.max, FAULT_WINDOW_MS.min);
    await fault.clear();
    clearedAt = Date.now();
    await until(() => load.firstAcknowledgedSince(clearedAt) !== undefined && load.readiness.some((r) => r.at >= clearedAt && r.status === 200), RECOVERY_LIMIT_MS);
    await sleep(500);
  } finally {
    await load.stop();
    answers = load.answers;
    readiness = load.readiness;
  }

  const refusals = answers.filter((a) => a.status !== 201 && a.status !== 202);
  const firstRefusalEnd = refusals.filter((a) => a.startedAt >= injectedAt).reduce((first, a) => Math.min(first, a.endedAt), Infinity);
  const duringFault = readiness.filter((r) => r.at >= firstRefusalEnd && r.endedAt <= clearedAt);
  const firstAck = answers.filter((a) => a.startedAt >= clearedAt && (a.status === 201 || a.status === 202)).sort((a, b) => a.endedAt - b.endedAt)[0];
  const readyAgain = readiness.filter((r) => r.at >= clearedAt && r.status === 200).sort((a, b) => a.endedAt - b.endedAt)[0];
  const acknowledged = answers.filter((a) => a.status === 201 || a.status === 202).map((a) => a.sent);

  const { database, blobs } = instance.open();
  let figures: FaultFigures;
  try {
    const integrity = await integrityProblems(database, blobs);
    const stored = await storedSubmissions(database, blobs, answers.map((a) => a.sent));
    const lost = acknowledged.filter((s) => !stored.visible.has(s.instanceId)).map((s) => s.instanceId);
    figures = {
      suite: 'faults',
      fault: fault.name,
      database: fault.database,
      acknowledged: acknowledged.length,
      answers: answers.reduce<Record<string, number>>((counts, a) => ({ ...counts, [key(a)]: (counts[key(a)] ?? 0) + 1 }), {}),
      slowestAnswerMs: answers.reduce((slowest, a) => Math.max(slowest, a.endedAt - a.startedAt), 0),
      faultMs: clearedAt - injectedAt,
      notReadyDuringFault: duringFault.filter((r) => r.status === 503).length,
      recoveryMs: firstAck ? firstAck.endedAt - clearedAt : null,
      readyAgainMs: readyAgain ? readyAgain.endedAt - clearedAt : null,
      lost: lost.length,
      incomplete: stored.incomplete.length,
    };
    console.log(JSON.stringify(figures));
    expect(integrity, 'integrity after the fault').toEqual([]);
    expect(lost, 'acknowledged but not stored').toEqual([]);
    expect(stored.incomplete, 'stored but not whole').toEqual([]);
  } finally {
    await database.close();
  }

  expect(server.child.exitCode ?? server.child.signalCode, `the server kept running; it last logged:\n${server.logs.slice(-40).join('\n')}`).toBeNull();
  const unexpected = refusals.filter((a) => !fault.refusals.includes(key(a)));
  expect(
    unexpected.slice(0, 5).map((a) => `${key(a)} after ${a.endedAt - a.startedAt} ms: ${a.message}`),
    `answers other than success or the expected refusal (${unexpected.length}); the server logged: ${server.unhandledErrors.slice(0, 2).join('\n')}`,
  ).toEqual([]);
  expect(refusals.length, 'requests refused during the fault').toBeGreaterThanOrEqual(MIN_REFUSALS);
  for (const refusal of refusals) {
    expect(refusal.message, 'an OpenRosa message the phone shows').toMatch(/\w{3,}/);
    expect(refusal.retryAfter, 'Retry-After on a temporary refusal').toMatch(/^\d+$/);
  }
  expect(duringFault.length, '/readyz polls answered while the fault lasted').toBeGreaterThan(0);
  expect(duringFault.filter((r) => r.status !== 503 || r.code !== 'server.not_ready'), '/readyz while the fault lasted').toEqual([]);
  expect(figures.recoveryMs, 'a submission acknowledged after the fault cleared').not.toBeNull();
  expect(figures.readyAgainMs, '/readyz ready again after the fault cleared').not.toBeNull();
  expect(server.unhandledErrors, 'errors the server did not recognise (500s)').toEqual([]);
  return figures;
}
