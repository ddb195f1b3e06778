/**
 * Sign-in benchmark (not a test): browser sign-ins per second with the default 1,000,000-iteration
 * PBKDF2 hash, and HTTP Basic requests per second with the verification cache and without it,
 * against the real server over loopback (SQLite in a scratch directory).
 *
 *   npx tsx bench/accounts.ts            (writes its section of BENCHMARKS.md)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { createAccountsContext } from '../src/accounts/context.js';
import { createUser } from '../src/accounts/users.js';
import { loadConfig } from '../src/config/config.js';
import { ensureSecretKey } from '../src/config/secret-key.js';
import { startServer, type RunningServer } from '../src/server/start.js';

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

const logins = await withServer({}, (server) => rate(USERS, 10, signIn(server)));
const cached = await withServer({}, (server) => rate(8, 5, basic(server)));
const uncached = await withServer({ FIELDKEEP_BASIC_AUTH_CACHE_SECONDS: '0' }, (server) => rate(USERS, 10, basic(server)));

const machine = `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node.js ${process.version}`;
const section = [
  '<!-- accounts:start (written by `npx tsx bench/accounts.ts`) -->',
  '## Accounts: sign-in and HTTP Basic',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}; real server over loopback, SQLite, default settings`,
  '(PBKDF2-SHA256 with 1,000,000 iterations), 4 accounts; every request succeeds.',
  '',
  '| what | rate |',
  '| --- | --- |',
  `| browser sign-ins (\`POST /api/v1/sessions\`, ${USERS} concurrent) | ${logins.toFixed(1)} per second |`,
  `| HTTP Basic requests with the verification cache (8 concurrent) | ${cached.toFixed(0)} per second |`,
  `| HTTP Basic requests without the cache (\`FIELDKEEP_BASIC_AUTH_CACHE_SECONDS=0\`, ${USERS} concurrent) | ${uncached.toFixed(1)} per second |`,
  `| cache speed-up | ${(cached / uncached).toFixed(0)}× |`,
  '',
  `Sign-in is bound by the password hash by design (about ${(availableParallelism() / logins).toFixed(2)} core-seconds per sign-in here, on the`,
  'libuv pool, never the event loop); the cache is what keeps phones that send Basic on every request fast.',
  '<!-- accounts:end -->',
].join('\n');

const file = new URL('../BENCHMARKS.md', import.meta.url);
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nFigures measured by the scripts in `bench/`; each script rewrites only its own section.\n';
const pattern = /<!-- accounts:start[\s\S]*?<!-- accounts:end -->/;
writeFileSync(file, pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(section);
