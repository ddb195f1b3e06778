/**
 * `fieldkeep user …` and `fieldkeep token …`: account administration from the server's shell.
 * Scriptable: a password is read from standard input when it is not a terminal (one line, the
 * trailing newline dropped), asked twice without echo when it is; `token create` prints only the
 * token; every failure exits non-zero with the reason on standard error.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { withDatabase } from '../cli/support.js';
import type { ConfigSources } from '../config/config.js';
import { createApiToken, type TokenScope } from './api-tokens.js';
import { createAccountsContext, type AccountsContext } from './context.js';
import { MAX_IMPORT_BYTES, parseUserImport, type ImportFormat } from './import-file.js';
import { createUser, importUsers, listUsers, requireUser, setAdmin, setDisabled, setPassword, type Changer } from './users.js';

/** What the commands read and write, so tests can run them without a terminal. */
export interface CommandIo {
  /** A password: from standard input when it is not a terminal, else asked for (twice) without echo. */
  readPassword(prompt: string): Promise<string>;
  out(text: string): void;
}

const cli: Changer = { actorLabel: 'cli' };
const MAX_STDIN_BYTES = 64 * 1024;

export function userCommand(sources: () => ConfigSources, io: CommandIo = processIo): Command {
  const user = new Command('user').description('Manage accounts (there is no default account: create the first administrator here).');
  const run = (work: (accounts: AccountsContext) => Promise<void>) => withAccounts(sources, work);

  user
    .command('create')
    .description('Create an account; the password is read from standard input (or asked for on a terminal).')
    .requiredOption('--username <name>', 'letters, digits and @ . + - _')
    .option('--email <address>', 'for password resets; may also be used to sign in')
    .option('--admin', 'make the account an instance administrator', false)
    .action((options: { username: string; email?: string; admin: boolean }) =>
      run(async (accounts) => {
        const password = await io.readPassword(`Password for ${options.username}: `);
        const created = await createUser(accounts, { username: options.username, email: options.email ?? null, password, isAdmin: options.admin }, cli);
        io.out(`created ${created.isAdmin ? 'administrator' : 'user'} ${created.username} (id ${created.id})\n`);
      }),
    );

  user
    .command('set-password')
    .description('Set a new password (read like create\'s); ends all of the account\'s sessions.')
    .requiredOption('--username <name>')
    .action((options: { username: string }) =>
      run(async (accounts) => {
        await requireUser(accounts.db, options.username);
        await setPassword(accounts, options.username, await io.readPassword(`New password for ${options.username}: `), cli);
        io.out(`password of ${options.username} changed; its sessions ended\n`);
      }),
    );

  for (const [name, description, change] of [
    ['promote', 'Make the account an instance administrator.', (a: AccountsContext, u: string) => setAdmin(a, u, true, cli)],
    ['demote', 'Make the account an ordinary user.', (a: AccountsContext, u: string) => setAdmin(a, u, false, cli)],
    ['disable', 'Disable the account: its sessions end and its API tokens are revoked at once.', (a: AccountsContext, u: string) => setDisabled(a, u, true, cli)],
    ['enable', 'Enable a disabled account again.', (a: AccountsContext, u: string) => setDisabled(a, u, false, cli)],
  ] as const) {
    user
      .command(name)
      .description(description)
      .requiredOption('--username <name>')
      .action((options: { username: string }) =>
        run(async (accounts) => {
          await change(accounts, options.username);
          io.out(`${options.username}: ${name}d\n`);
        }),
      );
  }

  user
    .command('list')
    .description('List the accounts (tab-separated, or --json).')
    .option('--json', 'one JSON array')
    .action((options: { json?: boolean }) =>
      run(async (accounts) => {
        const users = await listUsers(accounts);
        if (options.json) {
          io.out(`${JSON.stringify(users, null, 2)}\n`);
          return;
        }
        io.out('id\tusername\temail\tadmin\ttwo-factor\tdisabled\n');
        for (const u of users) io.out(`${u.id}\t${u.username}\t${u.email ?? ''}\t${yesNo(u.isAdmin)}\t${yesNo(u.twoFactorEnabled)}\t${yesNo(u.disabled)}\n`);
      }),
    );

  user
    .command('import')
    .description('Import users with their password hashes from KoBoToolbox (django) or ODK Central (central), CSV or JSON; all or nothing.')
    .addOption(new Option('--format <format>', 'where the export comes from').choices(['django', 'central']).makeOptionMandatory())
    .argument('<file>', 'CSV with a header row (username,email,hash,is_superuser) or a JSON array of such objects')
    .action((file: string, options: { format: ImportFormat }) =>
      run(async (accounts) => {
        const parsed = parseUserImport(readImportFile(file), options.format);
        const outcome = parsed.ok ? await importUsers(accounts, parsed.rows, cli) : { problems: parsed.problems };
        if ('problems' in outcome) {
          const lines = outcome.problems.map((p) => `  line ${p.line}: ${p.message}`).join('\n');
          throw new Error(`nothing was imported; fix these lines and run the import again:\n${lines}`);
        }
        io.out(`imported ${outcome.imported} users; they sign in with their existing passwords\n`);
      }),
    );
  return user;
}

export function tokenCommand(sources: () => ConfigSources, io: CommandIo = processIo): Command {
  const token = new Command('token').description('Personal API tokens.');
  token
    .command('create')
    .description('Create an API token for an account and print only the token.')
    .requiredOption('--user <name>', 'the account the token acts as')
    .requiredOption('--name <label>', 'what the token is for')
    .addOption(new Option('--scope <scope>', 'read-only or read-write').choices(['read', 'write']).default('read'))
    .option('--expires-days <days>', 'expire after this many days (default: never)', parseDays)
    .action((options: { user: string; name: string; scope: TokenScope; expiresDays?: number }) =>
      withAccounts(sources, async (accounts) => {
        const owner = await requireUser(accounts.db, options.user);
        const created = await createApiToken(accounts, owner.id, { name: options.name, scope: options.scope, expiresInDays: options.expiresDays }, cli);
        io.out(`${created.token}\n`);
      }),
    );
  return token;
}

function withAccounts(sources: () => ConfigSources, work: (accounts: AccountsContext) => Promise<void>): Promise<void> {
  return withDatabase(sources, (database, config) => work(createAccountsContext(database, config, { info: (_details, message) => console.error(message) })));
}

function readImportFile(file: string): string {
  const bytes = readFileSync(file);
  if (bytes.length > MAX_IMPORT_BYTES) throw new Error(`${file} is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB; split it`);
  return bytes.toString('utf8');
}

function parseDays(text: string): number {
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new InvalidArgumentError('give a whole number of days from 1 to 3650');
  return days;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

const processIo: CommandIo = {
  readPassword: async (prompt) => {
    if (!process.stdin.isTTY) return readStdinLine();
    const first = await promptHidden(prompt);
    const second = await promptHidden('Again: ');
    if (first !== second) throw new Error('the two passwords differ; nothing was changed');
    return first;
  },
  out: (text) => process.stdout.write(text),
};

export async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_STDIN_BYTES) throw new Error('standard input is too long for a password');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Reads a line from the terminal without echoing it. */
export function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      outcome();
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') return finish(() => resolve(value));
        if (character === '\u0003') return finish(() => reject(new Error('cancelled')));
        value = character === '\u007f' || character === '\b' ? [...value].slice(0, -1).join('') : value + character;
      }
    };
    stdin.on('data', onData);
  });
}
