import type { Check } from '../config/doctor.js';
import type { Config } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { findSchedule } from '../jobs/index.js';
import { SCHEDULE_NAME } from './job.js';
import * as q from './queries.js';
import { pendingVerification } from './service.js';

/**
 * `fieldkeep doctor`'s backup line: whether backups are configured, when the last one succeeded,
 * when the next is due, the verifier's latest verification (or one waiting for it), and whether
 * the latest run or verification failed.
 */
export async function backupDoctorCheck(config: Config): Promise<Check> {
  const name = 'backups';
  const { recipients, passphrase, cron } = config.backups;
  if (recipients.length === 0 && passphrase === undefined) {
    return {
      name,
      ok: cron === undefined,
      detail: cron === undefined ? 'not configured (no key, no schedule)' : 'FIELDKEEP_BACKUP_CRON is set but no key is configured, so scheduled backups cannot run',
      fix: 'create a key pair offline with age-keygen and set FIELDKEEP_BACKUP_RECIPIENTS to its public key (age1…), then FIELDKEEP_BACKUP_CRON, e.g. "30 2 * * *"',
    };
  }
  const database = openDatabase(config);
  try {
    const [last, runs, schedule, verification, pending] = await Promise.all([
      q.lastSuccess(database.db),
      q.latestRuns(database.db, 1),
      findSchedule(database, SCHEDULE_NAME),
      q.lastVerification(database.db),
      pendingVerification(database.db),
    ]);
    const latest = runs[0];
    const lastText = last === undefined ? 'no successful backup yet' : `last success ${last.finished_at} (${last.file})`;
    const nextText = cron === undefined ? 'no schedule (FIELDKEEP_BACKUP_CRON unset)' : `next run ${schedule?.nextRunAt ?? 'when the server starts'}`;
    const verifiedText =
      verification === undefined
        ? 'no backup verified yet'
        : `${verification.file} ${verification.verify_ok === 1 ? 'verified' : 'FAILED VERIFICATION'} ${verification.verified_at}`;
    const pendingText = pending === undefined ? '' : `; verification of ${pending.file} waiting since ${pending.since} (is \`fieldkeep backup verifier\` running?)`;
    if (latest?.state === 'failed') {
      return { name, ok: false, detail: `the latest backup failed at ${latest.finished_at}: ${latest.error_message}; ${lastText}`, fix: 'fix the cause, then run `fieldkeep backup create`' };
    }
    if (verification?.verify_ok === 0) {
      return { name, ok: false, detail: `${lastText}; ${nextText}; ${verifiedText}: ${verification.verify_message}`, fix: 'run `fieldkeep backup verify` on that archive where the identity is, to see why; make a new backup' };
    }
    return { name, ok: true, detail: `${lastText}; ${nextText}; ${verifiedText}${pendingText}; writing to ${config.backups.dir}` };
  } catch (err) {
    return { name, ok: false, detail: `cannot read the backup history (${(err as Error).message})`, fix: 'run `fieldkeep migrate`' };
  } finally {
    await database.close();
  }
}
