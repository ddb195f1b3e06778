/**
 * The verifier: a Fieldkeep process of its own (`fieldkeep backup verifier`), on a machine trusted
 * with an age identity, sharing the servers' database and backup location. Its job runner runs only
 * the `backup-verify` jobs the servers' backup runs queue, so the key that reads the backups is
 * never on a server, and a verification costs the servers nothing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DestinationStream, Logger } from 'pino';
import { openBlobStore } from '../blobs/index.js';
import type { Config } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import { startJobRunner, type JobRunnerOptions } from '../jobs/index.js';
import type { AppContext } from '../server/context.js';
import { createLogger } from '../server/logger.js';
import { parseIdentityFile } from './encryption.js';
import { BackupError } from './errors.js';
import { backupVerifyJob, useLogger } from './job.js';
import { configuredLocation } from './service.js';

export interface RunningVerifier {
  logger: Logger;
  stop(): Promise<void>;
}

export interface VerifierOptions {
  /** The identity file; FIELDKEEP_BACKUP_VERIFY_IDENTITY_FILE by default. */
  identityFile?: string;
  logDestination?: DestinationStream;
  jobs?: JobRunnerOptions;
}

export async function startVerifier(baseConfig: Config, options: VerifierOptions = {}): Promise<RunningVerifier> {
  const identityFile = options.identityFile ?? baseConfig.backups.verifyIdentityFile;
  if (identityFile === undefined) {
    throw new BackupError('backup.key_required', 'The verifier needs the age identity the backups are encrypted to: give --identity FILE or set FIELDKEEP_BACKUP_VERIFY_IDENTITY_FILE.');
  }
  const config = ensureSecretKey({ ...baseConfig, backups: { ...baseConfig.backups, verifyIdentityFile: path.resolve(baseConfig.dataDir, identityFile) } });
  // A key that cannot be read or parsed fails now, at start, not at the first verification.
  parseIdentityFile(readFileSync(config.backups.verifyIdentityFile!, 'utf8'));
  configuredLocation(config).close();
  const logger = createLogger(config.logLevel, options.logDestination);
  const database = openDatabase(config);
  try {
    await migrateToLatest(database);
    const ctx: AppContext = { config, database, blobs: openBlobStore(config) };
    useLogger(ctx, logger);
    const runner = startJobRunner(ctx, [backupVerifyJob], logger, options.jobs);
    logger.info({ backupLocation: config.backups.dir }, 'backup verifier started');
    let stopping: Promise<void> | undefined;
    return { logger, stop: () => (stopping ??= runner.stop().then(() => database.close())) };
  } catch (err) {
    await database.close();
    throw err;
  }
}
