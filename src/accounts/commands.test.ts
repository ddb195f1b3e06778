import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeEachDatabase, useScratchStorage } from '../../test/support/databases.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { openDatabase } from '../db/database.js';
import { tokenCommand, userCommand, type CommandIo } from './commands.js';

const PASSWORD = 'quiet lantern orbit 7 meadow';

/** `fieldkeep ARGS…` as a script runs it: standard input piped (not a terminal). */
const fieldkeep = (args: string[], env: Record<string, string>, stdin = '') => runFieldkeep(args, env, { stdin });

describeEachDatabase('fieldkeep user and token commands', (kind) => {
  const scratch = useScratchStorage(kind);
  const fast = () => ({ ...scratch().env, FIELDKEEP_PASSWORD_ITERATIONS: '1000' });

  /** Runs a command in this process, with a password "typed" and the output collected. */
  async function run(command: 'user' | 'token', args: string[], password = PASSWORD): Promise<string> {
    let output = '';
    const io: CommandIo = { readPassword: async () => password, out: (text) => (output += text) };
    const sources = () => ({ env: fast(), cwd: scratch().dataDir });
    await (command === 'user' ? userCommand(sources, io) : tokenCommand(sources, io)).parseAsync(args, { from: 'user' });
    return output;
  }

  async function usersInDatabase() {
    const database = openDatabase({ database: scratch().target, sqliteSynchronous: 'FULL', dbPoolSize: 1 });
    try {
      return await database.db.selectFrom('users').select(['username', 'is_admin', 'disabled_at', 'password_hash']).orderBy('username_key').execute();
    } finally {
      await database.close();
    }
  }

  it('a script creates the first administrator with the password on standard input, hashed with 1,000,000 iterations by default', async () => {
    const created = await fieldkeep(['user', 'create', '--username', 'admin', '--email', 'admin@example.org', '--admin'], scratch().env, `${PASSWORD}\n`);
    expect(created).toMatchObject({ code: 0, stdout: expect.stringContaining('created administrator admin') });
    expect(created.stdout + created.stderr).not.toContain(PASSWORD);
    const [admin] = await usersInDatabase();
    expect(admin?.password_hash).toMatch(/^pbkdf2_sha256\$1000000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
  });

  it('token create prints only the new token', async () => {
    const printed = await fieldkeep(['token', 'create', '--user', 'admin', '--name', 'ci', '--scope', 'write'], fast());
    expect(printed).toMatchObject({ code: 0, stdout: expect.stringMatching(/^fk_pat_[A-Za-z0-9]{43}\n$/) });
    expect(await run('token', ['create', '--user', 'admin', '--name', 'later', '--expires-days', '7'])).toMatch(/^fk_pat_[A-Za-z0-9]{43}\n$/);
  });

  it('refuses a weak password, a taken username and an unknown user, exiting non-zero with the reason', async () => {
    await expect(run('user', ['create', '--username', 'weak'], 'password1')).rejects.toThrow(/at least 10 characters/);
    await expect(run('user', ['create', '--username', 'ADMIN'])).rejects.toThrow(/already in use/);
    const unknown = await fieldkeep(['user', 'promote', '--username', 'nobody'], fast());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('There is no user named "nobody"');
  });

  it('sets passwords, promotes, demotes, disables, enables and lists', async () => {
    await run('user', ['create', '--username', 'ben', '--email', 'ben@example.org']);
    const before = (await usersInDatabase()).find((u) => u.username === 'ben')!;
    expect(await run('user', ['set-password', '--username', 'ben'], 'copper fjord ballast 19 tundra')).toContain('password of ben changed');
    expect((await usersInDatabase()).find((u) => u.username === 'ben')!.password_hash).not.toBe(before.password_hash);
    await run('user', ['promote', '--username', 'ben']);
    expect((await usersInDatabase()).find((u) => u.username === 'ben')!.is_admin).toBe(1);
    await run('user', ['demote', '--username', 'ben']);
    await run('user', ['disable', '--username', 'ben']);
    expect((await usersInDatabase()).find((u) => u.username === 'ben')).toMatchObject({ is_admin: 0, disabled_at: expect.any(String) });
    await run('user', ['enable', '--username', 'ben']);
    const listed = JSON.parse(await run('user', ['list', '--json'])) as Array<{ username: string; disabled: boolean }>;
    expect(listed.map((u) => [u.username, u.disabled])).toEqual([
      ['admin', false],
      ['ben', false],
    ]);
    expect(await run('user', ['list'])).toMatch(/^id\tusername\temail\tadmin\ttwo-factor\tdisabled\n\d+\tadmin\tadmin@example.org\tyes\tno\tno\n/);
  });

  it('imports all or nothing, naming the lines of the bad rows', async () => {
    const hash = `pbkdf2_sha256$1000$saltsaltsaltsaltsalt12$${Buffer.alloc(32, 1).toString('base64')}`;
    const file = path.join(scratch().dataDir, 'users.csv');
    writeFileSync(file, `username,email,hash,is_superuser\nkobo1,k1@example.org,${hash},0\nben,k2@example.org,${hash},0\nkobo3,k3@example.org,nonsense,0\n`);
    const failed = await fieldkeep(['user', 'import', '--format', 'django', file], fast());
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/nothing was imported[\s\S]*line 4: the password hash is not usable/);
    writeFileSync(file, `username,email,hash,is_superuser\nkobo1,k1@example.org,${hash},0\nBEN,k2@example.org,${hash},0\n`);
    await expect(run('user', ['import', '--format', 'django', file])).rejects.toThrow(/line 3: username "BEN" already exists here/);
    expect((await usersInDatabase()).map((u) => u.username)).toEqual(['admin', 'ben']);
    writeFileSync(file, `username,email,hash,is_superuser\nkobo1,k1@example.org,${hash},0\nkobo2,,${hash},1\n`);
    expect(await run('user', ['import', '--format', 'django', file])).toContain('imported 2 users');
    expect((await usersInDatabase()).map((u) => u.username)).toEqual(['admin', 'ben', 'kobo1', 'kobo2']);
  });
});
