/**
 * The `backup` job kind: writes an archive into the backup directory, verifies it when a verifier
 * identity is configured, applies retention, and on failure tells the instance administrators
 * (log, audit entry from the service, and email).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createMailer } from '../accounts/mail.js';
import { defineJobKind } from '../jobs/index.js';
import type { AppContext } from '../server/context.js';
import type { Logger } from 'pino';
import { createLogger } from '../server/logger.js';
import { parseIdentityFile } from './encryption.js';
import * as q from './queries.js';
import { configuredEncryption, createBackupFile, pruneBackups, type Trigger } from './service.js';
import { verifyArchive } from './verify.js';

export interface BackupJobPayload {
  trigger: Extract<Trigger, 'schedule' | 'api'>;
}

export interface BackupJobResult {
  file: string;
  bytes: number;
  sha256: string;
  rows: number;
  blobs: number;
  /** Null when no verifier identity is configured. */
  verified: boolean | null;
  pruned: string[];
}

export const SCHEDULE_NAME = 'backup';

/** The server's logger, per running server (set by the routes), for what a job has to report. */
const loggers = new WeakMap<AppContext, Logger>();

export function useLogger(ctx: AppContext, logger: Logger): void {
  loggers.set(ctx, logger);
}

export const backupJob = defineJobKind<BackupJobPayload, BackupJobResult>({
  kind: 'backup',
  async run(ctx, job) {
    try {
      const info = await createBackupFile(ctx, {
        dir: ctx.config.backups.dir,
        encryption: configuredEncryption(ctx.config),
        trigger: job.payload.trigger,
        actorLabel: job.payload.trigger === 'schedule' ? 'backup schedule' : 'backup job',
        progress: (done, total) => void job.progress(done, total).catch(() => {}),
        signal: job.signal,
      });
      const verified = await verifyWhenConfigured(ctx, info.file);
      const pruned = await pruneBackups(ctx.config);
      return { file: info.file, bytes: info.bytes, sha256: info.sha256, rows: info.rows, blobs: info.blobs, verified, pruned };
    } catch (err) {
      // A run stopped by shutdown or cancellation is queued again or was meant to stop: no alarm.
      if (!job.signal.aborted) await reportFailure(ctx, err);
      throw err;
    }
  },
});

async function verifyWhenConfigured(ctx: AppContext, file: string): Promise<boolean | null> {
  const identityFile = ctx.config.backups.verifyIdentityFile;
  if (identityFile === undefined) return null;
  const identities = parseIdentityFile(await readFile(path.resolve(ctx.config.dataDir, identityFile), 'utf8'));
  try {
    const report = await verifyArchive(path.join(ctx.config.backups.dir, file), { identities, passphrases: [] });
    await q.recordVerification(ctx.database.db, file, { verified_at: new Date().toISOString(), verify_ok: 1, verify_message: `restored ${report.rows} rows and ${report.blobs} files; audit log intact (${report.auditEntries} entries)` });
    return true;
  } catch (err) {
    await q.recordVerification(ctx.database.db, file, { verified_at: new Date().toISOString(), verify_ok: 0, verify_message: (err as Error).message.slice(0, 2000) });
    throw err;
  }
}

/** A failed backup is logged and emailed to every instance administrator with an address. */
async function reportFailure(ctx: AppContext, err: unknown): Promise<void> {
  const logger = loggers.get(ctx) ?? createLogger(ctx.config.logLevel);
  const message = err instanceof Error ? err.message : String(err);
  logger.error({ err, backupDir: ctx.config.backups.dir }, 'backup failed');
  const sendMail = createMailer(ctx.config.mail, logger);
  for (const to of await q.adminEmails(ctx.database.db)) {
    try {
      await sendMail({
        to,
        subject: 'Fieldkeep: a backup failed',
        text: `A backup of ${ctx.config.publicUrl} failed at ${new Date().toISOString()}:\n\n${message}\n\nThe backup directory is ${ctx.config.backups.dir}. Run \`fieldkeep backup create\` on the server to retry, and \`fieldkeep doctor\` to see the last successful backup.\n`,
      });
    } catch (mailError) {
      logger.error({ err: mailError, to }, 'could not email a backup failure');
    }
  }
}
