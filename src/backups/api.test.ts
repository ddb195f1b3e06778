import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { startFakeS3, type FakeS3 } from '../../test/support/s3-fake.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { backupDoctorCheck } from './doctor.js';
import { startVerifier, type RunningVerifier } from './verifier.js';

const identity = await generateX25519Identity();
const recipient = await identityToRecipient(identity);
const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-backup-api-'));
const identityFile = path.join(work, 'verifier.txt');
writeFileSync(identityFile, `${identity}\n`);
// The scheduled backups' target is S3-compatible storage, here an in-process fake; its key is given as a file.
const s3: FakeS3 = await startFakeS3({ buckets: ['fieldkeep-backups'] });
const secretFile = path.join(work, 's3-secret.txt');
writeFileSync(secretFile, `${s3.secretAccessKey}\n`);
afterAll(async () => {
  await s3.close();
  rmSync(work, { recursive: true, force: true });
});

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeEachDatabase('the backup admin API, job and verifier', (kind) => {
  const prefix = `nightly-${kind}`;
  const env = useTestServer(kind, {
    ...testUserSettings,
    FIELDKEEP_JOB_POLL_MS: '50',
    FIELDKEEP_BACKUP_RECIPIENTS: recipient,
    FIELDKEEP_BACKUP_DIR: `s3://fieldkeep-backups/${prefix}`,
    FIELDKEEP_BACKUP_S3_ENDPOINT: s3.endpoint,
    FIELDKEEP_BACKUP_S3_PATH_STYLE: 'true',
    FIELDKEEP_BACKUP_S3_ACCESS_KEY_ID: s3.accessKeyId,
    FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY_FILE: secretFile,
    FIELDKEEP_BACKUP_CRON: '30 2 * * *',
  });
  let admin: TestUser;
  let user: TestUser;
  let verifierLogs: Array<Record<string, unknown>>;
  let verifier: RunningVerifier | undefined;
  beforeAll(async () => {
    admin = await createTestUser(env(), 'backup_api_admin', { admin: true, email: 'root@example.org' });
    user = await createTestUser(env(), 'backup_api_user');
  });
  afterAll(async () => verifier?.stop());

  const status = async () => (await call(`${env().url}/api/v1/admin/backups`, 'GET', admin.headers)).body;
  /** Asks for a backup and waits for its job to end (retention runs after the run itself is recorded). */
  const backupNow = async () => {
    const requested = await call(`${env().url}/api/v1/admin/backups`, 'POST', admin.headers, {});
    expect(requested.status).toBe(202);
    await until(async () => {
      const job = await sql<{ state: string }>`select state from job where id = ${requested.body.jobId as number}`.execute(env().server.database.db);
      return ['succeeded', 'failed'].includes(job.rows[0]?.state ?? '') ? true : undefined;
    }, 'the backup job');
    return status();
  };
  /** The verifier: a process of its own with the identity, sharing the database and the S3 location. */
  const startTheVerifier = async () => {
    verifierLogs = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) verifierLogs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    verifier = await startVerifier(env().config, { identityFile, logDestination: sink, jobs: { pollMs: 50 } });
  };
  /** Stops the verifier once its latest job has finished (a stop mid-job would queue the job again). */
  const stopTheVerifier = async () => {
    await until(async () => {
      const job = await sql<{ state: string }>`select state from job where kind = 'backup-verify' order by id desc limit 1`.execute(env().server.database.db);
      return ['succeeded', 'failed'].includes(job.rows[0]?.state ?? '') ? true : undefined;
    }, 'the verification job to finish');
    await verifier?.stop();
    verifier = undefined;
  };
  const auditActions = async () =>
    (await sql<{ action: string }>`select action from audit_log where action like 'backup.%' order by id`.execute(env().server.database.db)).rows.map((r) => r.action);

  it('shows the schedule to administrators only', async () => {
    expect((await call(`${env().url}/api/v1/admin/backups`, 'GET', user.headers)).status).toBe(403);
    expect((await call(`${env().url}/api/v1/admin/backups`, 'POST', user.headers, {})).status).toBe(403);
    const before = await status();
    expect(before).toMatchObject({ directory: `s3://fieldkeep-backups/${prefix}`, schedule: '30 2 * * *', encryption: { recipients: 1, passphrase: false }, lastSuccess: null, archives: [], archivesError: null });
    expect(before.nextRunAt).toMatch(/T02:30:00\.000Z$/);
  });

  it('writes each backup to S3, and queues the previous one for the verifier, which restores it', async () => {
    const first = await backupNow();
    expect(first.lastSuccess).toMatchObject({ verified: null });
    expect(first.pendingVerification).toBeNull();
    const a = first.lastSuccess.file as string;
    expect(s3.keys('fieldkeep-backups').filter((k) => k.startsWith(`${prefix}/`))).toEqual([`${prefix}/${a}`, `${prefix}/${a}.json`]);

    const second = await backupNow();
    const b = second.lastSuccess.file as string;
    expect(second.pendingVerification).toMatchObject({ file: a });
    // The servers hold no identity and never run a verification: it waits for the verifier.
    await sleep(500);
    expect((await status()).pendingVerification).toMatchObject({ file: a });
    // Two backups on one day: retention keeps one a day, but spares the one waiting for the verifier.
    expect(second.archives.map((x: { file: string }) => x.file)).toEqual([b, a]);
    const waiting = await backupDoctorCheck(env().config);
    expect(waiting).toMatchObject({ ok: true, detail: expect.stringContaining(`verification of ${a} waiting since`) });

    await startTheVerifier();
    // (The status is read in several queries: wait until all of them show the verification.)
    const verified = await until(async () => {
      const s = await status();
      return s.lastVerification !== null && s.recentRuns.find((r: { file: string }) => r.file === a)?.verified !== null ? s : undefined;
    }, 'the verification');
    expect(verified.lastVerification).toMatchObject({ file: a, ok: true, message: expect.stringMatching(/^restored \d+ rows/) });
    expect(verified.pendingVerification).toBeNull();
    // The newest backup is the next run's to verify.
    expect(verified.lastSuccess).toMatchObject({ file: b, verified: null });
    expect(verified.recentRuns.find((r: { file: string }) => r.file === a)).toMatchObject({ verified: true });
    await stopTheVerifier();
    expect(await auditActions()).toEqual(['backup.request', 'backup.create', 'backup.request', 'backup.create', 'backup.verify']);
    const doctor = await backupDoctorCheck(env().config);
    expect(doctor).toMatchObject({ name: 'backups', ok: true });
    expect(doctor.detail).toContain(`last success ${verified.lastSuccess.at} (${b})`);
    expect(doctor.detail).toContain(`${a} verified ${verified.lastVerification.at}`);
    expect(doctor.detail).toContain(`next run ${verified.nextRunAt}`);
    expect(doctor.detail).toContain(`writing to s3://fieldkeep-backups/${prefix}`);
  });

  it('records, audits and emails a failed verification, and doctor fails', async () => {
    const b = (await status()).lastSuccess.file as string;
    await s3.change('fieldkeep-backups', `${prefix}/${b}`, (bytes) => {
      bytes[Math.floor(bytes.length / 2)]! ^= 1;
      return bytes;
    });
    const third = await backupNow();
    expect(third.pendingVerification).toMatchObject({ file: b });
    // The verified backup of the same day is no longer spared.
    expect(third.archives.map((x: { file: string }) => x.file)).toEqual([third.lastSuccess.file, b]);

    await startTheVerifier();
    const failed = await until(async () => {
      const s = await status();
      return s.lastVerification?.file === b ? s : undefined;
    }, 'the failed verification');
    expect(failed.lastVerification).toMatchObject({ ok: false, message: expect.stringMatching(/damaged|authentication/) });
    const email = await until(async () => verifierLogs.find((l) => (l.email as { subject?: string } | undefined)?.subject === 'Fieldkeep: a backup failed verification'), 'the email');
    expect(JSON.stringify(email.email)).toContain('root@example.org');
    await stopTheVerifier();
    expect(verifierLogs.some((l) => l.msg === 'backup verification failed')).toBe(true);
    expect((await auditActions()).at(-1)).toBe('backup.verify_failed');
    const doctor = await backupDoctorCheck(env().config);
    expect(doctor).toMatchObject({ ok: false, detail: expect.stringContaining(`${b} FAILED VERIFICATION`) });
  });

  it('logs, audits and emails administrators when a backup fails', async () => {
    s3.failNext('PutObject', { status: 403, code: 'AccessDenied' });
    const failed = await backupNow();
    expect(failed.lastFailure.message).toMatch(/AccessDenied/);
    const email = await until(async () => env().logs.find((l) => (l.email as { subject?: string } | undefined)?.subject === 'Fieldkeep: a backup failed'), 'the failure email');
    expect(JSON.stringify((email.email as { to: unknown }).to)).toContain('root@example.org');
    expect(env().logs.some((l) => l.msg === 'backup failed')).toBe(true);
    expect((await auditActions()).at(-1)).toBe('backup.failed');
    expect(await backupDoctorCheck(env().config)).toMatchObject({ ok: false, detail: expect.stringMatching(/^the latest backup failed/) });
    // Neither the S3 secret nor the age identity appears in any log line.
    for (const line of env().rawLogs) {
      expect(line).not.toContain(s3.secretAccessKey);
      expect(line).not.toContain(identity);
    }
  });
});
