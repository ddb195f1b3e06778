/**
 * The database going away under a running server, in the middle of submissions:
 * - PostgreSQL: a server of the suite's own (the machine's shared one is never touched) is stopped
 *   (`pg_ctl stop -m fast`: connections are terminated mid-transaction), then started again;
 * - SQLite: the kernel answers every write and sync to the database and its WAL with EROFS, as a
 *   file system remounted read-only after a disk error does, then stops doing so.
 * While it lasts every submission is refused with 503 and a stable code (never a 500, never a
 * hang), /readyz says not ready, and when it clears the same server process works again by itself.
 * Nothing acknowledged is lost, and the database's integrity holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchStorage, type ScratchStorage } from '../support/databases.js';
import { publishForm, seedInstance, type FaultInstance } from './support/instance.js';
import { missingCapability } from './support/plan.js';
import { startPostgresServer, type PostgresServer } from './support/postgres-server.js';
import { refuseWrites, type RefusedWrites } from './support/refuse-writes.js';
import { runFault } from './support/scenario.js';
import { bundleServer, startServerProcess, type ServerBundle, type ServerProcess } from './support/server-process.js';

const noPostgresServer = missingCapability('postgres-server');
const noStrace = missingCapability('strace');

describe.skipIf(noPostgresServer !== undefined)(`PostgreSQL stopped in the middle of submissions${noPostgresServer ? ` — SKIPPED: ${noPostgresServer}` : ''}`, () => {
  let bundle: ServerBundle;
  let postgres: PostgresServer;
  let storage: ScratchStorage;
  let server: ServerProcess;
  let instance: FaultInstance;

  beforeAll(async () => {
    [bundle, postgres, storage] = await Promise.all([bundleServer(), startPostgresServer(), createScratchStorage('sqlite')]);
    // The scratch storage gives the data directory; the database is the suite's own server.
    instance = await seedInstance({ FIELDKEEP_DATA_DIR: storage.dataDir, DATABASE_URL: postgres.url }, storage.dataDir);
    server = await startServerProcess(bundle, instance.env);
    await publishForm(instance, server.url);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await postgres?.remove();
    await storage?.drop();
    bundle?.remove();
  });

  it('refuses with 503 server.database_unavailable while it is down, says not ready, and recovers by itself when it is back', async () => {
    const figures = await runFault(instance, server, {
      name: 'postgres-stopped',
      database: 'postgres',
      inject: () => postgres.stop(),
      clear: () => postgres.start(),
      refusals: ['503 server.database_unavailable'],
    });
    expect(figures.acknowledged).toBeGreaterThan(0);
  }, 240_000);
});

describe.skipIf(noStrace !== undefined)(`SQLite refusing writes (EROFS) in the middle of submissions${noStrace ? ` — SKIPPED: ${noStrace}` : ''}`, () => {
  let bundle: ServerBundle;
  let storage: ScratchStorage;
  let server: ServerProcess;
  let instance: FaultInstance;
  let refused: RefusedWrites | undefined;

  beforeAll(async () => {
    [bundle, storage] = await Promise.all([bundleServer(), createScratchStorage('sqlite')]);
    instance = await seedInstance(storage.env, storage.dataDir);
    server = await startServerProcess(bundle, instance.env);
    await publishForm(instance, server.url);
  }, 180_000);

  afterAll(async () => {
    await refused?.clear();
    await server?.stop();
    await storage?.drop();
    bundle?.remove();
  });

  it('refuses with 503 while its files refuse writes, says not ready, and recovers by itself when they accept them again', async () => {
    const file = storage.target.kind === 'sqlite' ? storage.target.path : '';
    const figures = await runFault(instance, server, {
      name: 'sqlite-read-only',
      database: 'sqlite',
      inject: async () => {
        refused = await refuseWrites(server.pid, [file, `${file}-wal`]);
      },
      clear: async () => {
        await refused?.clear();
        refused = undefined;
      },
      // The commit's WAL write fails inside SQLite (SQLITE_IOERR); the WAL sync that follows a commit fails in the server (EROFS).
      refusals: ['503 server.database_unavailable', '503 server.storage_unavailable'],
    });
    expect(figures.acknowledged).toBeGreaterThan(0);
  }, 240_000);
});
