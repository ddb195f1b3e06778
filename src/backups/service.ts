/**
 * What an operator, the admin API and the scheduler ask of backups: write an archive into the
 * backup directory (recorded as a run, audited), verify one, restore one, and say how backups stand.
 */
import type { Kysely } from 'kysely';
import { recordAudit } from '../audit/index.js';
import type { BlobStore } from '../blobs/index.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { Tables } from '../db/tables.js';
import { openArchive, type ArchiveSource } from './archive-file.js';
import { writeBackup, type Encryption, type Progress } from './create.js';
import { archiveName, listArchives, openLocation, pruneArchives, saveSidecar, type ArchiveInfo, type BackupLocation } from './location.js';
import type { DecryptWith } from './encryption.js';
import { BackupError } from './errors.js';
import * as q from './queries.js';
import { restoreArchive, type RestoreReport } from './restore.js';

export interface BackupContext {
  config: Config;
  database: Database;
  blobs: BlobStore;
}

export type Trigger = 'schedule' | 'api' | 'cli';

/** The job kind the verifier runs (`fieldkeep backup verifier`); the servers only queue it. */
export const VERIFY_JOB_KIND = 'backup-verify';

/** What a queued verification names: the archive, in the verifier's backup location. */
export interface VerifyJobPayload {
  file: string;
}

/** The newest verification queued and not yet started, if any. */
export async function pendingVerification(db: Kysely<Tables>): Promise<{ jobId: number; file: string; since: string } | undefined> {
  const job = (await q.queuedJobs(db, VERIFY_JOB_KIND))[0];
  if (job === undefined) return undefined;
  return { jobId: Number(job.id), file: (JSON.parse(job.payload_json) as VerifyJobPayload).file, since: job.created_at };
}

/** The encryption the settings ask for; refuses to fall back to none. */
export function configuredEncryption(config: Config): Encryption {
  const { recipients, passphrase } = config.backups;
  if (recipients.length === 0 && passphrase === undefined) {
    throw new BackupError('backup.no_schedule', 'No backup key is configured: set FIELDKEEP_BACKUP_RECIPIENTS (age public keys) or FIELDKEEP_BACKUP_PASSPHRASE.');
  }
  return { kind: 'age', to: { recipients, passphrase } };
}

/** The backup location the settings name (FIELDKEEP_BACKUP_DIR); the caller closes it. */
export function configuredLocation(config: Config): BackupLocation {
  return openLocation(config.backups.dir, config.backups.s3, config.dataDir);
}

/** Writes one archive into `location`, with its sidecar; records the run and audits the outcome. */
export async function createBackupFile(
  ctx: BackupContext,
  options: { location: BackupLocation; encryption: Encryption; trigger: Trigger; actorLabel: string; progress?: Progress; signal?: AbortSignal },
): Promise<ArchiveInfo> {
  const db = ctx.database.db;
  const startedAt = new Date();
  const runId = await q.startRun(db, { trigger: options.trigger, started_at: startedAt.toISOString() });
  const file = archiveName(startedAt, options.encryption.kind === 'age');
  try {
    if (ctx.config.secretKey === undefined) throw new Error('the server secret is not loaded');
    const written = await options.location.writeArchive(file, (sink) =>
      writeBackup({ database: ctx.database, blobs: ctx.blobs, secretKey: ctx.config.secretKey! }, sink, options.encryption, options.progress, options.signal),
    );
    const info: ArchiveInfo = {
      file,
      createdAt: written.manifest.createdAt,
      bytes: written.bytes,
      sha256: written.sha256,
      encrypted: options.encryption.kind === 'age',
      recipients: options.encryption.kind === 'age' ? [...options.encryption.to.recipients] : [],
      passphrase: options.encryption.kind === 'age' && options.encryption.to.passphrase !== undefined,
      instanceId: written.manifest.instanceId,
      fieldkeepVersion: written.manifest.fieldkeepVersion,
      sourceDialect: written.manifest.sourceDialect,
      rows: written.rows,
      blobs: written.manifest.blobs.count,
    };
    await saveSidecar(options.location, info);
    await q.finishRun(db, runId, { state: 'succeeded', finished_at: new Date().toISOString(), file, bytes: info.bytes, archive_sha256: info.sha256, rows: info.rows, blobs: info.blobs });
    await recordAudit(db, {
      actorLabel: options.actorLabel,
      action: 'backup.create',
      resource: { type: 'backup', id: file },
      details: { trigger: options.trigger, bytes: info.bytes, sha256: info.sha256, rows: info.rows, blobs: info.blobs, encrypted: info.encrypted, recipients: info.recipients.length, usesPassphrase: info.passphrase },
    });
    return info;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await q.finishRun(db, runId, { state: 'failed', finished_at: new Date().toISOString(), error_message: message.slice(0, 2000) });
    await recordAudit(db, { actorLabel: options.actorLabel, action: 'backup.failed', resource: { type: 'backup', id: file }, details: { trigger: options.trigger, error: message.slice(0, 1000) } });
    throw err;
  }
}

/**
 * Applies retention to the location, sparing the archives a verification waits for or is under
 * way on: a second backup on one day would otherwise remove the first (one a day is kept) before
 * the verifier reaches it. At most one more archive is kept so: a waiting verification is
 * replaced by the next run's.
 */
export async function pruneBackups(config: Config, database: { db: Kysely<Tables> }, location: BackupLocation): Promise<string[]> {
  const verifying = (await q.queuedJobs(database.db, VERIFY_JOB_KIND, { running: true })).map((job) => (JSON.parse(job.payload_json) as VerifyJobPayload).file);
  return pruneArchives(location, config.backups.keep, new Set(verifying));
}

/** Restores an archive into the configured database and blob store (see restore.ts). */
export async function restoreBackupFile(target: { database: Database; blobs: BlobStore; secretKey: string }, source: ArchiveSource, keys: DecryptWith, options: { force: boolean; progress?: Progress }): Promise<RestoreReport> {
  const plain = await openArchive(source, keys);
  return restoreArchive(plain, target, { force: options.force, auditLabel: 'command line', ...(options.progress ? { progress: options.progress } : {}) });
}

export interface BackupStatus {
  /** The backup location: a directory or s3://bucket/prefix. */
  directory: string;
  encryption: { recipients: number; passphrase: boolean };
  schedule: string | null;
  nextRunAt: string | null;
  lastSuccess: { at: string; file: string | null; bytes: number | null; verifiedAt: string | null; verified: boolean | null } | null;
  lastFailure: { at: string; message: string | null } | null;
  /** The latest verification by the verifier (of the backup before the one then made). */
  lastVerification: { file: string; at: string; ok: boolean; message: string | null } | null;
  /** A verification queued for the verifier and not yet started. */
  pendingVerification: { file: string; since: string } | null;
  recentRuns: Array<{ id: number; trigger: string; state: string; startedAt: string; finishedAt: string | null; file: string | null; bytes: number | null; error: string | null; verified: boolean | null }>;
  archives: ArchiveInfo[];
  /** Why the archives could not be listed (the storage failed), or null. */
  archivesError: string | null;
}

/** How backups stand: what admins see (metadata only: never the contents of an archive). */
export async function backupStatus(ctx: { config: Config; database: { db: Kysely<Tables> } }, nextRunAt: string | null): Promise<BackupStatus> {
  const db = ctx.database.db;
  const runs = await q.latestRuns(db, 20);
  const success = await q.lastSuccess(db);
  const failure = runs.find((r) => r.state === 'failed');
  const verification = await q.lastVerification(db);
  const pending = await pendingVerification(db);
  let archives: ArchiveInfo[] = [];
  let archivesError: string | null = null;
  const location = configuredLocation(ctx.config);
  try {
    archives = await listArchives(location);
  } catch (err) {
    archivesError = err instanceof Error ? err.message : String(err);
  } finally {
    location.close();
  }
  return {
    directory: location.name,
    encryption: { recipients: ctx.config.backups.recipients.length, passphrase: ctx.config.backups.passphrase !== undefined },
    schedule: ctx.config.backups.cron ?? null,
    nextRunAt,
    lastSuccess:
      success === undefined
        ? null
        : { at: success.finished_at ?? success.started_at, file: success.file, bytes: success.bytes === null ? null : Number(success.bytes), verifiedAt: success.verified_at, verified: success.verify_ok === null ? null : success.verify_ok === 1 },
    lastFailure: failure === undefined || (success !== undefined && Number(success.id) > Number(failure.id)) ? null : { at: failure.finished_at ?? failure.started_at, message: failure.error_message },
    lastVerification: verification === undefined ? null : { file: verification.file!, at: verification.verified_at!, ok: verification.verify_ok === 1, message: verification.verify_message },
    pendingVerification: pending === undefined ? null : { file: pending.file, since: pending.since },
    recentRuns: runs.map((r) => ({
      id: Number(r.id),
      trigger: r.trigger,
      state: r.state,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      file: r.file,
      bytes: r.bytes === null ? null : Number(r.bytes),
      error: r.error_message,
      verified: r.verify_ok === null ? null : r.verify_ok === 1,
    })),
    archives,
    archivesError,
  };
}
