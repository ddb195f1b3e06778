import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueJob } from '../jobs/index.js';
import { createScratchStorage, describeEachDatabase, type ScratchStorage } from '../../test/support/databases.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { startFakeS3, type FakeS3 } from '../../test/support/s3-fake.js';
import { useTestServer } from '../../test/support/server.js';
import { testUserSettings } from '../../test/support/test-users.js';
import { fillSource } from './backups.test-support.js';
import { MAGIC } from './container.js';
import { backupVerifyJob } from './job.js';

/** Each command starts a process that compiles the sources (tsx): seconds apiece on a shared machine. */
const CLI_TIMEOUT = 300_000;

describeEachDatabase('fieldkeep backup (command line)', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-backup-cli-'));
  const keyFile = path.join(work, 'key.txt');
  let recipient: string;
  let target: ScratchStorage;
  let s3: FakeS3;
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await target?.drop();
    await s3?.close();
  });

  beforeAll(async () => {
    const identity = await generateX25519Identity();
    recipient = await identityToRecipient(identity);
    writeFileSync(keyFile, `# created: for a test\n# public key: ${recipient}\n${identity}\n`);
    await fillSource(env());
    target = await createScratchStorage(kind);
    s3 = await startFakeS3({ buckets: ['cli-backups'] });
  });

  it('creates, lists, verifies and restores an archive that the stock age tool decrypts', async () => {
    const sourceEnv = env().storage.env;
    const created = await runFieldkeep(['backup', 'create', '--to', work, '--recipient', recipient], sourceEnv);
    expect(created.code, created.stderr).toBe(0);
    const archive = created.stdout.split('\n')[0]!;
    expect(archive).toMatch(/fieldkeep-\d{8}T\d{9}Z\.fkb\.age$/);

    const listed = await runFieldkeep(['backup', 'list', '--to', work, '--json'], sourceEnv);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ file: path.basename(archive), encrypted: true, recipients: [recipient] }]);

    const verified = await runFieldkeep(['backup', 'verify', archive, '--identity', keyFile], sourceEnv);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/is sound/);

    // The Debian `age` binary decrypts it to the plain container, which verifies as it is.
    const decrypted = path.join(work, 'decrypted.fkb');
    execFileSync('age', ['--decrypt', '--identity', keyFile, '--output', decrypted, archive]);
    expect(readFileSync(decrypted).subarray(0, MAGIC.length).equals(MAGIC)).toBe(true);
    const plainVerified = await runFieldkeep(['backup', 'verify', decrypted], sourceEnv);
    expect(plainVerified.code, plainVerified.stderr).toBe(0);

    const restored = await runFieldkeep(['backup', 'restore', archive, '--identity', keyFile], target.env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/restored \d+ rows and \d+ files/);
    const audit = await runFieldkeep(['audit', 'verify'], target.env);
    expect(audit.code, audit.stdout).toBe(0);

    const again = await runFieldkeep(['backup', 'restore', archive, '--identity', keyFile], target.env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already holds data/);
  }, CLI_TIMEOUT);

  it('refuses to write an unencrypted archive unless asked, and a wrong key fails verification', async () => {
    const sourceEnv = env().storage.env;
    const refused = await runFieldkeep(['backup', 'create', '--to', work], sourceEnv);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--recipient/);

    const other = path.join(work, 'other.txt');
    writeFileSync(other, `${await generateX25519Identity()}\n`);
    const archive = readdirSync(work).find((name) => name.endsWith('.fkb.age'))!;
    const wrong = await runFieldkeep(['backup', 'verify', path.join(work, archive), '--identity', other], sourceEnv);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/encrypted to another key/);
  }, CLI_TIMEOUT);

  it('writes to, lists and verifies from S3, its secret key read from a _FILE setting', async () => {
    const secretFile = path.join(work, 's3-secret');
    writeFileSync(secretFile, `${s3.secretAccessKey}\n`);
    const s3Env = {
      ...env().storage.env,
      FIELDKEEP_BACKUP_S3_ENDPOINT: s3.endpoint,
      FIELDKEEP_BACKUP_S3_PATH_STYLE: 'true',
      FIELDKEEP_BACKUP_S3_ACCESS_KEY_ID: s3.accessKeyId,
      FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY_FILE: secretFile,
    };
    const to = `s3://cli-backups/${kind}/nightly`;
    const created = await runFieldkeep(['backup', 'create', '--to', to, '--recipient', recipient], s3Env);
    expect(created.code, created.stderr).toBe(0);
    const archive = created.stdout.split('\n')[0]!;
    expect(archive).toMatch(new RegExp(`^${to}/fieldkeep-\\d{8}T\\d{9}Z\\.fkb\\.age$`));
    expect(s3.keys('cli-backups')).toContain(`${archive.slice('s3://cli-backups/'.length)}.json`);

    const listed = await runFieldkeep(['backup', 'list', '--to', to, '--json'], s3Env);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ file: archive.slice(to.length + 1), encrypted: true }]);

    const verified = await runFieldkeep(['backup', 'verify', archive, '--identity', keyFile], s3Env);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/is sound/);

    const missing = await runFieldkeep(['backup', 'verify', `${to}/fieldkeep-20200101T000000000Z.fkb.age`, '--identity', keyFile], s3Env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`There is no archive ${to}/fieldkeep-20200101T000000000Z.fkb.age`);
    for (const output of [created, listed, verified, missing]) expect(output.stdout + output.stderr).not.toContain(s3.secretAccessKey);
  }, CLI_TIMEOUT);

  it('runs the verifier until it is stopped, and refuses to start it without an identity', async () => {
    const refused = await runFieldkeep(['backup', 'verifier'], env().storage.env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--identity/);

    const file = readdirSync(work).find((name) => /^fieldkeep-.*\.fkb\.age$/.test(name))!;
    const database = env().server.database;
    await enqueueJob(database, backupVerifyJob, { payload: { file } });
    let verifier: ChildProcess | undefined;
    const running = runFieldkeep(['backup', 'verifier', '--identity', keyFile], { ...env().storage.env, FIELDKEEP_BACKUP_DIR: work, FIELDKEEP_JOB_POLL_MS: '100', FIELDKEEP_LOG_LEVEL: 'info' }, {
      onStdout: (_out, child) => (verifier = child),
    });
    let outcome: { verify_ok: number | null; verify_message: string | null } | undefined;
    try {
      for (let i = 0; i < 600 && outcome?.verify_ok == null; i++) {
        await sleep(100);
        outcome = (await sql<{ verify_ok: number | null; verify_message: string | null }>`select verify_ok, verify_message from backup_runs where file = ${file}`.execute(database.db)).rows[0];
      }
      expect(outcome).toMatchObject({ verify_ok: 1, verify_message: expect.stringMatching(/^restored/) });
    } finally {
      // Stopped whatever happened above, so a failure leaves no verifier running.
      verifier?.kill('SIGTERM');
    }
    const stopped = await running;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain('backup verifier started');
  }, CLI_TIMEOUT);
});
