/**
 * kill -9 in the middle of a burst of submissions, round after round on the same storage. Each
 * round posts a batch of submissions (1,000 by default), all at once, each with a photo and an
 * audio file, kills the server's process group with SIGKILL at a random moment, and starts it
 * again. Then:
 * - the database's own integrity check passes, every row's references hold (submission → current
 *   version, version → submission, attachment → version, every named blob exists), and the audit
 *   hash chain is intact;
 * - every submission acknowledged (201) before the kill is visible with its XML and both files
 *   byte-identical, and so is every other submission that is visible at all (nothing half-written);
 * - every stored file written during the round reads back whole;
 * - every submission acknowledged in earlier rounds is still there;
 * - the phones that got no answer send again, and every one is taken (201, or 202 when it had been
 *   stored before the kill) and stored whole.
 * One JSON line per round gives the figures (seed, kill moment, acknowledged, lost, restart time).
 */
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { blobDirectory } from '../../src/blobs/index.js';
import type { Database } from '../../src/db/database.js';
import { createScratchStorage, describeEachDatabase, type ScratchStorage } from '../support/databases.js';
import { errorCodeOf, makeSubmission, postSubmission, publishForm, seedInstance, type FaultInstance, type Sent } from './support/instance.js';
import { faultPlan, seededRandom } from './support/plan.js';
import { bundleServer, startServerProcess, type ServerBundle, type ServerProcess } from './support/server-process.js';
import { integrityProblems, storedSubmissions, unreadableBlobsSince } from './support/verify.js';

const plan = faultPlan();
/** Concurrency of the phones sending again after the restart. */
const RESEND_CONCURRENCY = 32;
/** Submissions per second assumed before the first round has measured how long a batch takes. */
const FIRST_RATE = { sqlite: 100, postgres: 50 };

interface RoundFigures {
  suite: 'crash';
  database: string;
  round: number;
  seed: number;
  batch: number;
  killAfterMs: number;
  acknowledged: number;
  refused: Record<string, number>;
  noAnswer: number;
  visibleAfterRestart: number;
  lost: number;
  incomplete: number;
  restartMs: number;
  verifyMs: number;
  resent: Record<string, number>;
  resendMs: number;
}

describeEachDatabase(`kill -9 during ${plan.crashBatch} concurrent submissions with attachments, ${plan.crashRounds} rounds`, (kind) => {
  let bundle: ServerBundle;
  let storage: ScratchStorage;
  let instance: FaultInstance;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    bundle = await bundleServer();
    storage = await createScratchStorage(kind);
    instance = await seedInstance(storage.env, storage.dataDir);
    server = await startServerProcess(bundle, instance.env);
    await publishForm(instance, server.url);
  }, 180_000);

  afterAll(async () => {
    await server?.kill9();
    await storage?.drop();
    bundle?.remove();
  });

  it(
    'keeps every acknowledged submission whole across every restart, shows nothing half-written, and takes the retries',
    async () => {
      const random = seededRandom(plan.seed + (kind === 'postgres' ? 1 : 0));
      console.log(JSON.stringify({ suite: 'crash', database: kind, seed: plan.seed, rounds: plan.crashRounds, batch: plan.crashBatch }));
      // How long the whole batch takes to be answered, re-estimated from each round's kill.
      let batchMs = (plan.crashBatch / FIRST_RATE[kind]) * 1000;
      const acknowledgedEarlier: string[] = [];
      for (let round = 1; round <= plan.crashRounds; round += 1) {
        const batch = Array.from({ length: plan.crashBatch }, (_, i) =>
          makeSubmission(round, i, 1024 + Math.floor(random() * 23 * 1024), 256 + Math.floor(random() * 4 * 1024)),
        );
        // A moment anywhere in the time the whole batch would take: during uploads, blob writes, commits or syncs.
        const killAfterMs = Math.round(random() * batchMs);
        const roundStart = Date.now();
        const running = server!;
        const answers = batch.map((sent) =>
          postSubmission(instance, running.url, sent).then(
            (response) => ({ sent, status: response.status, code: errorCodeOf(response) }),
            () => ({ sent, status: 0, code: undefined }),
          ),
        );
        await sleep(killAfterMs);
        await running.kill9();
        server = undefined;
        const settled = await Promise.all(answers);
        const acknowledged = settled.filter((a) => a.status === 201 || a.status === 202).map((a) => a.sent);
        const refused = tally(settled.filter((a) => a.status !== 0 && a.status !== 201 && a.status !== 202).map((a) => `${a.status} ${a.code}`));
        batchMs = nextBatchEstimate(batchMs, killAfterMs, acknowledged.length, batch.length);

        server = await startServerProcess(bundle, instance.env);
        const { database, blobs } = instance.open();
        const verifyStart = performance.now();
        let figures: RoundFigures;
        try {
          const integrity = await integrityProblems(database, blobs);
          const stored = await storedSubmissions(database, blobs, batch);
          const lost = acknowledged.filter((s) => !stored.visible.has(s.instanceId)).map((s) => s.instanceId);
          const earlierVisible = await visibleCount(database, acknowledgedEarlier);
          const unreadable = await unreadableBlobsSince(blobDirectory(instance.config), blobs, roundStart - 2000);
          const verifyMs = Math.round(performance.now() - verifyStart);

          // The phones without an answer send again, as Collect does from its outbox.
          const answered = new Set(acknowledged);
          const unanswered = batch.filter((s) => !answered.has(s));
          const resendStart = performance.now();
          const resent = tally(await resend(instance, server.url, unanswered));
          const resendMs = Math.round(performance.now() - resendStart);
          // The retries measure the server's real pace on this machine: the next kill is drawn from it.
          if (unanswered.length >= batch.length / 2) batchMs = (resendMs * batch.length) / unanswered.length;
          const afterResend = await storedSubmissions(database, blobs, unanswered);

          figures = {
            suite: 'crash',
            database: kind,
            round,
            seed: plan.seed,
            batch: batch.length,
            killAfterMs,
            acknowledged: acknowledged.length,
            refused,
            noAnswer: settled.filter((a) => a.status === 0).length,
            visibleAfterRestart: stored.visible.size,
            lost: lost.length,
            incomplete: stored.incomplete.length,
            restartMs: server.startMs,
            verifyMs,
            resent,
            resendMs,
          };
          console.log(JSON.stringify(figures));
          expect(integrity, `round ${round}: integrity`).toEqual([]);
          expect(lost, `round ${round}: acknowledged but not visible after the restart`).toEqual([]);
          expect(stored.incomplete, `round ${round}: visible but not whole`).toEqual([]);
          expect(unreadable, `round ${round}: stored files that do not read back whole`).toEqual([]);
          expect(earlierVisible, `round ${round}: submissions acknowledged in earlier rounds`).toBe(acknowledgedEarlier.length);
          expect(Object.keys(refused).every((answer) => /^503 server\.database_unavailable$/.test(answer)), `round ${round}: answers before the kill ${JSON.stringify(refused)}`).toBe(true);
          expect(Object.keys(resent).every((status) => status === '201' || status === '202'), `round ${round}: answers to the retries ${JSON.stringify(resent)}`).toBe(true);
          expect(afterResend.visible.size, `round ${round}: retried submissions stored`).toBe(unanswered.length);
          expect(afterResend.incomplete, `round ${round}: retried submissions whole`).toEqual([]);
          expect(server.unhandledErrors, 'errors the server did not recognise').toEqual([]);
        } finally {
          await database.close();
        }
        acknowledgedEarlier.push(...batch.map((s) => s.instanceId));
      }
    },
    plan.crashRounds * 240_000,
  );
});

/**
 * Answers arrive late in a burst of 1,000 (every request is read at once), so the estimate grows
 * while kills come before any answer, and shrinks when the whole batch was answered before one.
 */
function nextBatchEstimate(estimateMs: number, killAfterMs: number, acknowledged: number, batch: number): number {
  if (acknowledged === 0) return Math.max(estimateMs, killAfterMs * 2);
  if (acknowledged === batch) return Math.max(500, killAfterMs);
  return Math.max(killAfterMs + 100, (estimateMs + (killAfterMs * batch) / acknowledged) / 2);
}

function tally(keys: readonly (string | number)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[String(key)] = (counts[String(key)] ?? 0) + 1;
  return counts;
}

/** Sends each submission again until it gets an answer; the answers' statuses. */
async function resend(instance: FaultInstance, url: string, unanswered: readonly Sent[]): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: RESEND_CONCURRENCY });
  const statuses: number[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: RESEND_CONCURRENCY }, async () => {
        while (next < unanswered.length) {
          const sent = unanswered[next++]!;
          statuses.push((await postSubmission(instance, url, sent, agent)).status);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return statuses;
}

/** How many of the given instanceIDs are visible submissions. */
async function visibleCount(database: Database, instanceIds: readonly string[]): Promise<number> {
  let count = 0;
  for (let start = 0; start < instanceIds.length; start += 500) {
    const rows = await database.db
      .selectFrom('submissions')
      .select('instance_id')
      .where('instance_id', 'in', instanceIds.slice(start, start + 500))
      .where('current_version_id', 'is not', null)
      .execute();
    count += rows.length;
  }
  return count;
}
