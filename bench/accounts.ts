/**
 * Sign-in benchmark (not a test): browser sign-ins per second with the default 1,000,000-iteration
 * PBKDF2 hash, and HTTP Basic requests per second with the verification cache and without it,
 * against the real server over loopback (SQLite in a scratch directory), each next to its ceiling.
 *
 *   npx tsx bench/accounts.ts            (writes its section of BENCHMARKS.md)
 */
import { pbkdf2 } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { createAccountsContext } from '../src/accounts/context.js';
import { createUser } from '../src/accounts/users.js';
import { loadConfig } from '../src/config/config.js';
import { ensureSecretKey } from '../src/config/secret-key.js';
import { startServer, type RunningServer } from '../src/server/start.js';
import { loadNow, machineLine, percentOf, printFigure, writeSection } from './support/report.js';

const PASSWORD = 'quiet lantern orbit 7 meadow';
const USERS = 4;

async function withServer<T>(env: Record<string, string>, work: (server: RunningServer) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-bench-'));
  const config = ensureSecretKey(loadConfig({ cwd: dataDir, env: { FIELDKEEP_DATA_DIR: dataDir, FIELDKEEP_PORT: '0', FIELDKEEP_LOG_LEVEL: 'warn', ...env } }));
  const server = await startServer(config);
  try {
    const accounts = createAccountsContext(server.database, config, { info: () => {} });
    for (let i = 0; i < USERS; i += 1) {
      await createUser(accounts, { username: `bench${i}`, email: null, password: PASSWORD, isAdmin: false }, { actorLabel: 'cli' });
    }
    return await work(server);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Runs `request` from `concurrency` loops for `seconds`; returns completed requests per second. */
async function rate(concurrency: number, seconds: number, request: (worker: number) => Promise<Response>): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const response = await request(worker);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`unexpected ${response.status}`);
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

const signIn = (server: RunningServer) => (worker: number) =>
  fetch(`${server.url}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: `bench${worker % USERS}`, password: PASSWORD }),
  });

const basic = (server: RunningServer) => (worker: number) =>
  fetch(`${server.url}/api/v1/users/me`, { headers: { authorization: `Basic ${Buffer.from(`bench${worker % USERS}:${PASSWORD}`).toString('base64')}` } });

/** The password hash alone, as the server runs it (libuv pool, same iterations), from a tight loop: sign-in's ceiling. */
async function hashCeiling(concurrency: number, seconds: number): Promise<number> {
  const iterations = loadConfig({ cwd: tmpdir(), env: {} }).passwordIterations;
  const hash = promisify(pbkdf2);
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await hash(PASSWORD, 'saltsaltsaltsaltsalt12', iterations, 32, 'sha256');
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

/** A bare Fastify handler answering the same request with a small JSON body and no authentication: Basic's ceiling. */
async function bareHandlerRate(concurrency: number, seconds: number): Promise<number> {
  const app = Fastify();
  app.get('/api/v1/users/me', async () => ({ id: 1, username: 'bench0' }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    return await rate(concurrency, seconds, () => fetch(`${url}/api/v1/users/me`, { headers: { authorization: `Basic ${Buffer.from(`bench0:${PASSWORD}`).toString('base64')}` } }));
  } finally {
    await app.close();
  }
}

const loadBefore = loadNow();
const logins = await withServer({}, (server) => rate(USERS, 10, signIn(server)));
const hashes = await hashCeiling(USERS, 10);
const cached = await withServer({}, async (server) => {
  // One request per account first, so the timed window measures the cache and not its first fill.
  await Promise.all(Array.from({ length: USERS }, (_, worker) => basic(server)(worker).then((response) => response.arrayBuffer())));
  return rate(8, 5, basic(server));
});
const bare = await bareHandlerRate(8, 5);
const uncached = await withServer({ FIELDKEEP_BASIC_AUTH_CACHE_SECONDS: '0' }, (server) => rate(USERS, 10, basic(server)));

const figure = (metric: string, value: number, ceiling: number, concurrency: number) => printFigure({ bench: 'accounts', metric, value, unit: 'requests/s', better: 'higher', ceiling, database: 'sqlite', concurrency });
figure('browser sign-ins', logins, hashes, USERS);
figure('HTTP Basic, cached', cached, bare, 8);
figure('HTTP Basic, uncached', uncached, hashes, USERS);

writeSection('accounts', [
  '## Accounts: sign-in and HTTP Basic',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machineLine(loadBefore)}; real server over loopback, SQLite, default`,
  'settings (PBKDF2-SHA256 with 1,000,000 iterations), 4 accounts; every request succeeds. Ceilings, measured in the same run: for',
  'sign-in and uncached Basic, the same PBKDF2 hash from a tight loop on the same thread pool (no HTTP, no database); for cached',
  'Basic, a bare Fastify handler answering the same request with no authentication.',
  '',
  '| what | rate | ceiling | of the ceiling |',
  '| --- | --: | --: | --: |',
  `| browser sign-ins (\`POST /api/v1/sessions\`, ${USERS} concurrent) | ${logins.toFixed(1)}/s | ${hashes.toFixed(1)} hashes/s | ${percentOf(logins, hashes)} |`,
  `| HTTP Basic requests with the verification cache (8 concurrent) | ${cached.toFixed(0)}/s | ${bare.toFixed(0)}/s | ${percentOf(cached, bare)} |`,
  `| HTTP Basic requests without the cache (\`FIELDKEEP_BASIC_AUTH_CACHE_SECONDS=0\`, ${USERS} concurrent) | ${uncached.toFixed(1)}/s | ${hashes.toFixed(1)} hashes/s | ${percentOf(uncached, hashes)} |`,
  '',
  `Sign-in is bound by the password hash by design (about ${(availableParallelism() / logins).toFixed(2)} core-seconds per sign-in here, on the`,
  'libuv pool, never the event loop); the cache is what keeps phones that send Basic on every request fast.',
]);
