import type { DestinationStream, Logger } from 'pino';
import type { Config } from '../config/config.js';
import { describeDatabase } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { migrateToLatest, openDatabase, type Database } from '../db/database.js';
import { buildServer, type RouteModule } from './app.js';
import { blobDirectory, openBlobStore, registerServer } from '../blobs/index.js';
import type { App, AppContext } from './context.js';
import type { RouteRegistry } from './route-registry.js';
import { createLogger } from './logger.js';
import { startJobRunner } from '../jobs/index.js';
import { jobKinds } from '../jobs/kinds.js';

export interface RunningServer {
  app: App;
  database: Database;
  logger: Logger;
  /** Where the server listens, e.g. http://127.0.0.1:8080 (the real port when 0 was asked for). */
  url: string;
  /** Every route the server registered, with its declared permission. */
  registry: RouteRegistry;
  stop(): Promise<void>;
}

/** Opens storage, brings the schema up to date, and listens. Used by `fieldkeep serve` and by tests. */
export interface StartOptions {
  logDestination?: DestinationStream;
  /** The route modules to serve; all of the product's by default. */
  routes?: readonly RouteModule[];
}

export async function startServer(baseConfig: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = createLogger(baseConfig.logLevel, options.logDestination);
  const config = ensureSecretKey(baseConfig);
  const blobs = openBlobStore(config);
  const unregister = registerServer(blobDirectory(config));
  const database = openDatabase(config);
  try {
    const { applied } = await migrateToLatest(database);
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
    const ctx: AppContext = { config, database, blobs };
    const { app, registry } = await buildServer(ctx, logger, options.routes);
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host}:${port}`;
    logger.info({ url, database: describeDatabase(config.database), dataDir: config.dataDir }, 'fieldkeep is listening');
    // Background jobs start once the server listens and stop (their signals aborted) before the database closes.
    const jobs = startJobRunner(ctx, jobKinds, logger);
    let stopping: Promise<void> | undefined;
    const stop = () => (stopping ??= Promise.all([app.close(), jobs.stop()]).then(() => database.close()).finally(unregister));
    return { app, database, logger, url, registry, stop };
  } catch (err) {
    await database.close();
    unregister();
    throw err;
  }
}

/**
 * SIGTERM/SIGINT: stop accepting connections, let in-flight requests finish, close the database,
 * exit. If that takes longer than the configured timeout the process exits anyway, non-zero.
 */
export function stopOnSignals(server: RunningServer, timeoutMs: number): void {
  const onSignal = (signal: NodeJS.Signals) => {
    server.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      server.logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    force.unref();
    server.stop().then(
      () => {
        server.logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        server.logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
