import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';
import { backupDoctorCheck } from './doctor.js';

const identity = await generateX25519Identity();
const recipient = await identityToRecipient(identity);
const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-backup-api-'));
const identityFile = path.join(work, 'verifier.txt');
writeFileSync(identityFile, `${identity}\n`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeEachDatabase('the backup admin API and job', (kind) => {
  const backupDir = path.join(work, kind);
  const env = useTestServer(kind, {
    ...testUserSettings,
    FIELDKEEP_JOB_POLL_MS: '50',
    FIELDKEEP_BACKUP_RECIPIENTS: recipient,
    FIELDKEEP_BACKUP_DIR: backupDir,
    FIELDKEEP_BACKUP_CRON: '30 2 * * *',
    FIELDKEEP_BACKUP_VERIFY_IDENTITY_FILE: identityFile,
  });
  let admin: TestUser;
  let user: TestUser;
  beforeAll(async () => {
    admin = await createTestUser(env(), 'backup_api_admin', { admin: true, email: 'root@example.org' });
    user = await createTestUser(env(), 'backup_api_user');
  });
  const status = async () => (await call(`${env().url}/api/v1/admin/backups`, 'GET', admin.headers)).body;

  it('shows the schedule to administrators only', async () => {
    expect((await call(`${env().url}/api/v1/admin/backups`, 'GET', user.headers)).status).toBe(403);
    expect((await call(`${env().url}/api/v1/admin/backups`, 'POST', user.headers, {})).status).toBe(403);
    const before = await status();
    expect(before).toMatchObject({ schedule: '30 2 * * *', encryption: { recipients: 1, passphrase: false }, lastSuccess: null, archives: [] });
    expect(before.nextRunAt).toMatch(/T02:30:00\.000Z$/);
  });

  it('runs a requested backup as a job, verifies it with the verifier identity, and lists it', async () => {
    const requested = await call(`${env().url}/api/v1/admin/backups`, 'POST', admin.headers, {});
    expect(requested.status).toBe(202);
    const done = await until(async () => {
      const s = await status();
      return s.lastSuccess?.verified === true ? s : undefined;
    }, 'a verified backup');
    expect(done.archives).toHaveLength(1);
    expect(done.archives[0]).toMatchObject({ encrypted: true, recipients: [recipient] });
    expect(done.lastSuccess.file).toBe(done.archives[0].file);
    const actions = await sql<{ action: string }>`select action from audit_log where action like 'backup.%' order by id`.execute(env().server.database.db);
    expect(actions.rows.map((r) => r.action)).toEqual(['backup.request', 'backup.create']);
    const doctor = await backupDoctorCheck(env().config);
    expect(doctor).toMatchObject({ name: 'backups', ok: true });
    expect(doctor.detail).toContain(`last success ${done.lastSuccess.at} (${done.lastSuccess.file}, verified)`);
    expect(doctor.detail).toContain(`next run ${done.nextRunAt}`);
  });

  it('logs, audits and emails administrators when a backup fails', async () => {
    rmSync(backupDir, { recursive: true, force: true });
    writeFileSync(backupDir, 'a file where the backup directory should be');
    try {
      expect((await call(`${env().url}/api/v1/admin/backups`, 'POST', admin.headers, {})).status).toBe(202);
      const failed = await until(async () => {
        const s = await status();
        return s.lastFailure !== null ? s : undefined;
      }, 'a failed backup');
      expect(failed.lastFailure.message).toMatch(/EEXIST|ENOTDIR|not a directory|exists/i);
      const email = await until(async () => env().logs.find((l) => (l.email as { subject?: string } | undefined)?.subject === 'Fieldkeep: a backup failed'), 'the failure email');
      expect(JSON.stringify((email.email as { to: unknown }).to)).toContain('root@example.org');
      const audited = await sql<{ n: number }>`select count(*) as n from audit_log where action = 'backup.failed'`.execute(env().server.database.db);
      expect(Number(audited.rows[0]!.n)).toBe(1);
      expect(await backupDoctorCheck(env().config)).toMatchObject({ ok: false, detail: expect.stringMatching(/^the latest backup failed/) });
    } finally {
      rmSync(backupDir, { force: true });
    }
  });
});
