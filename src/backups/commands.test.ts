import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchStorage, describeEachDatabase, type ScratchStorage } from '../../test/support/databases.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { useTestServer } from '../../test/support/server.js';
import { testUserSettings } from '../../test/support/test-users.js';
import { fillSource } from './backups.test-support.js';
import { MAGIC } from './container.js';

/** Each command starts a process that compiles the sources (tsx): seconds apiece on a shared machine. */
const CLI_TIMEOUT = 300_000;

describeEachDatabase('fieldkeep backup (command line)', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-backup-cli-'));
  const keyFile = path.join(work, 'key.txt');
  let recipient: string;
  let target: ScratchStorage;
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await target?.drop();
  });

  beforeAll(async () => {
    const identity = await generateX25519Identity();
    recipient = await identityToRecipient(identity);
    writeFileSync(keyFile, `# created: for a test\n# public key: ${recipient}\n${identity}\n`);
    await fillSource(env());
    target = await createScratchStorage(kind);
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
});
