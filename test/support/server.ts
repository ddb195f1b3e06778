import { Writable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/start.js';
import type { RouteModule } from '../../src/server/app.js';
import { createScratchStorage, type DatabaseKind, type ScratchStorage } from './databases.js';

export interface TestServer {
  url: string;
  server: RunningServer;
  storage: ScratchStorage;
  config: Config;
  /** Every log line the server wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Every log line as written, for "this secret never appears" checks. */
  rawLogs: string[];
}

/**
 * Starts the real server on an ephemeral port over a scratch database of the given kind, for the
 * enclosing describe block. Extra settings are given as environment variables, as an operator would.
 */
export function useTestServer(
  kind: DatabaseKind,
  env: Record<string, string> = {},
  routes?: readonly RouteModule[],
): () => TestServer {
  let current: TestServer | undefined;
  beforeAll(async () => {
    const storage = await createScratchStorage(kind);
    const config = loadConfig({
      cwd: storage.dataDir,
      env: {
        FIELDKEEP_PORT: '0',
        FIELDKEEP_LOG_LEVEL: 'info',
        ...storage.env,
        ...env,
      },
    });
    const rawLogs: string[] = [];
    const logs: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          rawLogs.push(line);
          logs.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    const server = await startServer(config, { logDestination: sink, ...(routes ? { routes } : {}) });
    current = { url: server.url, server, storage, config, logs, rawLogs };
  });
  afterAll(async () => {
    await current?.server.stop();
    await current?.storage.drop();
  });
  return () => {
    if (!current) throw new Error('the test server is not started yet');
    return current;
  };
}
