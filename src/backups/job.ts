/**
 * The backup job kinds.
 *
 * `backup` (run by the servers' job runners, scheduled or asked for): queues the verification of
 * the previous backup, writes a new archive into the backup location and applies retention.
 *
 * `backup-verify` (run only by `fieldkeep backup verifier`, the one process that holds an age
 * identity): restores the archive it names into a scratch database and records the outcome on
 * the run that wrote it. The servers never hold a key that reads their backups.
 *
 * A failure of either is logged, audited and emailed to the instance administrators.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { createMailer } from '../accounts/mail.js';
import { recordAudit } from '../audit/index.js';
import { cancelJob, defineJobKind, enqueueJob } from '../jobs/index.js';
import type { AppContext } from '../server/context.js';
import { createLogger } from '../server/logger.js';
import { parseIdentityFile } from './encryption.js';
import { BackupError } from './errors.js';
import { listArchives, type BackupLocation } from './location.js';
import * as q from './queries.js';
import { configuredEncryption, configuredLocation, createBackupFile, pendingVerification, pruneBackups, VERIFY_JOB_KIND, type Trigger, type VerifyJobPayload } from './service.js';
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
  /** The previous backup, queued for the verifier; null when there was none. */
  verificationQueued: string | null;
  pruned: string[];
}

export interface VerifyJobResult {
  file: string;
  /** False when the archive was gone (pruned) before the verifier reached it. */
  verified: boolean;
  message: string;
}

export const SCHEDULE_NAME = 'backup';

/** The server's logger, per running server (set by the routes or the verifier), for what a job has to report. */
const loggers = new WeakMap<AppContext, Logger>();

export function useLogger(ctx: AppContext, logger: Logger): void {
  loggers.set(ctx, logger);
}

export const backupJob = defineJobKind<BackupJobPayload, BackupJobResult>({
  kind: 'backup',
  async run(ctx, job) {
    let location: BackupLocation | undefined;
    try {
      location = configuredLocation(ctx.config);
      // The verification is queued even when this run then fails: the previous backup is what it proves.
      const verificationQueued = await queueVerificationOfPrevious(ctx, location).catch((err: unknown) => {
        loggerOf(ctx).warn({ err }, 'could not queue the verification of the previous backup');
        return null;
      });
      const info = await createBackupFile(ctx, {
        location,
        encryption: configuredEncryption(ctx.config),
        trigger: job.payload.trigger,
        actorLabel: job.payload.trigger === 'schedule' ? 'backup schedule' : 'backup job',
        progress: (done, total) => void job.progress(done, total).catch(() => {}),
        signal: job.signal,
      });
      const pruned = await pruneBackups(ctx.config, ctx.database, location);
      return { file: info.file, bytes: info.bytes, sha256: info.sha256, rows: info.rows, blobs: info.blobs, verificationQueued, pruned };
    } catch (err) {
      // A run stopped by shutdown or cancellation is queued again or was meant to stop: no alarm.
      if (!job.signal.aborted) await reportFailure(ctx, 'backup', err);
      throw err;
    } finally {
      location?.close();
    }
  },
});

/**
 * The newest archive in the location before this run writes its own is queued for the verifier.
 * One verification waits at a time: a newer one replaces a waiting older one, so a verifier that
 * was away catches up with the latest backup, not with a queue of old (perhaps pruned) ones.
 */
async function queueVerificationOfPrevious(ctx: AppContext, location: BackupLocation): Promise<string | null> {
  const previous = (await listArchives(location))[0];
  if (previous === undefined) return null;
  const waiting = await pendingVerification(ctx.database.db);
  if (waiting?.file === previous.file) return previous.file;
  if (waiting !== undefined) await cancelJob(ctx.database, { projectId: null, kind: VERIFY_JOB_KIND }, waiting.jobId);
  await enqueueJob<VerifyJobPayload>(ctx.database, backupVerifyJob, { payload: { file: previous.file } });
  return previous.file;
}

export const backupVerifyJob = defineJobKind<VerifyJobPayload, VerifyJobResult>({
  kind: VERIFY_JOB_KIND,
  async run(ctx, job) {
    const { file } = job.payload;
    const location = configuredLocation(ctx.config);
    try {
      const identityFile = ctx.config.backups.verifyIdentityFile;
      if (identityFile === undefined) throw new BackupError('backup.key_required', 'The verifier has no identity: set FIELDKEEP_BACKUP_VERIFY_IDENTITY_FILE or give --identity.');
      const identities = parseIdentityFile(await readFile(path.resolve(ctx.config.dataDir, identityFile), 'utf8'));
      if (!(await listArchives(location)).some((a) => a.file === file)) {
        const message = `${location.describe(file)} was removed (by retention) before the verifier reached it; the next run queues a newer one.`;
        loggerOf(ctx).warn({ file }, message);
        return { file, verified: false, message };
      }
      // Progress is reported as the restore goes; once the job is aborted (shutdown, cancel) the next report stops the restore.
      const progress = (done: number, total: number) => {
        job.signal.throwIfAborted();
        void job.progress(done, total).catch(() => {});
      };
      const report = await verifyArchive({ location, file }, { identities, passphrases: [] }, { kind: 'sqlite' }, progress);
      const message = `restored ${report.rows} rows and ${report.blobs} files; checksums match; audit log intact (${report.auditEntries} entries)`;
      await q.recordVerification(ctx.database.db, file, { verified_at: new Date().toISOString(), verify_ok: 1, verify_message: message });
      await recordAudit(ctx.database.db, { actorLabel: 'backup verifier', action: 'backup.verify', resource: { type: 'backup', id: file }, details: { ok: true, rows: report.rows, blobs: report.blobs } });
      return { file, verified: true, message };
    } catch (err) {
      if (!job.signal.aborted) {
        const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
        await q.recordVerification(ctx.database.db, file, { verified_at: new Date().toISOString(), verify_ok: 0, verify_message: message });
        await recordAudit(ctx.database.db, { actorLabel: 'backup verifier', action: 'backup.verify_failed', resource: { type: 'backup', id: file }, details: { error: message.slice(0, 1000) } });
        await reportFailure(ctx, 'verification', err, file);
      }
      throw err;
    } finally {
      location.close();
    }
  },
});

function loggerOf(ctx: AppContext): Logger {
  return loggers.get(ctx) ?? createLogger(ctx.config.logLevel);
}

/** A failed backup or verification is logged and emailed to every instance administrator with an address. */
async function reportFailure(ctx: AppContext, what: 'backup' | 'verification', err: unknown, file?: string): Promise<void> {
  const logger = loggerOf(ctx);
  const message = err instanceof Error ? err.message : String(err);
  const where = ctx.config.backups.dir;
  logger.error({ err, backupLocation: where, ...(file === undefined ? {} : { file }) }, what === 'backup' ? 'backup failed' : 'backup verification failed');
  const sendMail = createMailer(ctx.config.mail, logger);
  const text =
    what === 'backup'
      ? `A backup of ${ctx.config.publicUrl} failed at ${new Date().toISOString()}:\n\n${message}\n\nThe backups go to ${where}. Run \`fieldkeep backup create\` on the server to retry, and \`fieldkeep doctor\` to see the last successful backup.\n`
      : `The verifier could not restore the backup ${file} of ${ctx.config.publicUrl} (${new Date().toISOString()}):\n\n${message}\n\nThe archive is in ${where}; it may not be restorable. Run \`fieldkeep backup verify\` on it where the identity is to see why, and make a new backup.\n`;
  for (const to of await q.adminEmails(ctx.database.db)) {
    try {
      await sendMail({ to, subject: what === 'backup' ? 'Fieldkeep: a backup failed' : 'Fieldkeep: a backup failed verification', text });
    } catch (mailError) {
      logger.error({ err: mailError, to }, 'could not email a backup failure');
    }
  }
}
