/**
 * `fieldkeep backup create|verify|restore|list|verifier`, from the server's shell. Long runs show a
 * progress bar on a terminal (standard error), nothing in a script; every failure exits non-zero
 * with its reason on standard error. Archives and locations are paths or `s3://` URLs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { Command, Option } from 'commander';
import { COMMAND_LINE, withDatabase } from '../cli/support.js';
import { openBlobStore } from '../blobs/index.js';
import { loadConfig, type Config, type ConfigSources } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { openDatabase } from '../db/database.js';
import type { Encryption } from './create.js';
import type { ArchiveSource } from './archive-file.js';
import { checkRecipient, parseIdentityFile, type DecryptWith } from './encryption.js';
import { BackupError } from './errors.js';
import { listArchives, openArchiveLocation, openLocation, type BackupLocation } from './location.js';
import { configuredLocation, createBackupFile, restoreBackupFile } from './service.js';
import { startVerifier } from './verifier.js';
import { verifyArchive, type Scratch } from './verify.js';

interface KeyOptions {
  identity: string[];
  passphraseFile?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** A progress bar on a terminal; nothing when standard error is not one. */
function progressBar(label: string): { update: (done: number, total: number) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} rows and files | {duration_formatted}`, stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  let started = false;
  return {
    update: (done, total) => {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop: () => bar.stop(),
  };
}

async function withProgress<T>(label: string, work: (update: (done: number, total: number) => void) => Promise<T>): Promise<T> {
  const bar = progressBar(label);
  try {
    return await work(bar.update);
  } finally {
    bar.stop();
  }
}

function readSecretFile(file: string): string {
  const text = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (text === '') throw new BackupError('backup.encryption_required', `The passphrase file ${file} is empty.`);
  return text;
}

function decryptionKeys(options: KeyOptions): DecryptWith {
  return {
    identities: options.identity.flatMap((file) => parseIdentityFile(readFileSync(file, 'utf8'))),
    passphrases: options.passphraseFile === undefined ? [] : [readSecretFile(options.passphraseFile)],
  };
}

/** `--to` when given (a directory or s3://bucket/prefix), else FIELDKEEP_BACKUP_DIR. */
function chosenLocation(to: string | undefined, config: Config): BackupLocation {
  return to === undefined ? configuredLocation(config) : openLocation(to, config.backups.s3);
}

async function withLocation<T>(location: BackupLocation, work: (location: BackupLocation) => Promise<T>): Promise<T> {
  try {
    return await work(location);
  } finally {
    location.close();
  }
}

/**
 * An archive named on the command line; an `s3://` one is read with the S3 settings, which are
 * loaded only then (a local file verifies on a machine with no Fieldkeep settings at all).
 */
async function withArchive<T>(reference: string, sources: () => ConfigSources, work: (source: ArchiveSource) => Promise<T>): Promise<T> {
  const source = openArchiveLocation(reference, () => loadConfig(sources()).backups.s3);
  return withLocation(source.location, () => work(source));
}

export function backupCommand(sources: () => ConfigSources, out: (text: string) => void = (t) => process.stdout.write(t)): Command {
  const backup = new Command('backup').description('Encrypted backups of the database and every file, verified by restoring them.');

  backup
    .command('create')
    .description('Write an archive (database snapshot and every file it refers to) into the backup location, encrypted with age.')
    .option('--to <dir|s3://bucket/prefix>', 'directory or S3 location to write to (default FIELDKEEP_BACKUP_DIR)')
    .option('--recipient <age1…>', 'age public key to encrypt to; repeatable (default FIELDKEEP_BACKUP_RECIPIENTS)', collect, [])
    .option('--passphrase-file <file>', 'encrypt with the passphrase in this file instead (default FIELDKEEP_BACKUP_PASSPHRASE)')
    .option('--unencrypted', 'write the archive without encryption (it holds every answer and file in the clear)')
    .action((options: { to?: string; recipient: string[]; passphraseFile?: string; unencrypted?: boolean }) =>
      withDatabase(sources, async (database, config) => {
        const encryption = chooseEncryption(options, config.backups);
        await withLocation(chosenLocation(options.to, config), async (location) => {
          const info = await withProgress('backup', (progress) =>
            createBackupFile({ config, database, blobs: openBlobStore(config) }, { location, encryption, trigger: 'cli', actorLabel: COMMAND_LINE.actorLabel, progress }),
          );
          out(`${location.describe(info.file)}\n`);
          out(`${info.rows} rows, ${info.blobs} files, ${info.bytes} bytes, sha256 ${info.sha256}${info.encrypted ? '' : ' (NOT encrypted)'}\n`);
        });
      }),
    );

  backup
    .command('verify')
    .description('Decrypt an archive, restore it into a scratch database, run the integrity checks and compare row counts; exit 0 only when it is sound.')
    .argument('<archive>', 'the archive: a file, or s3://bucket/prefix/fieldkeep-….fkb.age')
    .option('--identity <file>', 'age identity file (AGE-SECRET-KEY-1…); repeatable', collect, [])
    .option('--passphrase-file <file>', 'file holding the passphrase the archive was encrypted with')
    .addOption(new Option('--scratch <kind>', 'where to restore it: a temporary SQLite file, or a temporary schema in the configured PostgreSQL database').choices(['sqlite', 'postgres']).default('sqlite'))
    .action(async (archive: string, options: KeyOptions & { scratch: 'sqlite' | 'postgres' }) => {
      let scratch: Scratch = { kind: 'sqlite' };
      if (options.scratch === 'postgres') {
        const config = loadConfig(sources());
        if (config.database.kind !== 'postgres') throw new BackupError('backup.integrity_failed', '--scratch postgres needs DATABASE_URL to name a PostgreSQL database.');
        scratch = { kind: 'postgres', url: config.database.url };
      }
      const report = await withArchive(archive, sources, (source) => withProgress('verify', (progress) => verifyArchive(source, decryptionKeys(options), scratch, progress)));
      out(`${archive.slice(archive.lastIndexOf('/') + 1)} is sound: made ${report.manifest.createdAt} by Fieldkeep ${report.manifest.fieldkeepVersion} on ${report.manifest.sourceDialect}\n`);
      out(`restored ${report.rows} rows in ${report.manifest.tables.length} tables and ${report.blobs} files (${report.blobBytes} bytes), checksums match, audit log intact (${report.auditEntries} entries)\n`);
    });

  backup
    .command('restore')
    .description('Restore an archive into the configured database and blob store, all or nothing; the target must be empty unless --force.')
    .argument('<archive>', 'the archive: a file, or s3://bucket/prefix/fieldkeep-….fkb.age')
    .option('--identity <file>', 'age identity file (AGE-SECRET-KEY-1…); repeatable', collect, [])
    .option('--passphrase-file <file>', 'file holding the passphrase the archive was encrypted with')
    .option('--force', 'replace everything the target already holds')
    .action(async (archive: string, options: KeyOptions & { force?: boolean }) => {
      const config = ensureSecretKey(loadConfig(sources()));
      const keys = decryptionKeys(options);
      const database = openDatabase(config);
      try {
        const report = await withArchive(archive, sources, (source) =>
          withProgress('restore', (progress) => restoreBackupFile({ database, blobs: openBlobStore(config), secretKey: config.secretKey! }, source, keys, { force: options.force ?? false, progress })),
        );
        const rows = Object.values(report.rows).reduce((a, b) => a + b, 0);
        out(`restored ${rows} rows and ${report.blobs} files from the backup made ${report.manifest.createdAt} (${report.manifest.sourceDialect})\n`);
      } finally {
        await database.close();
      }
    });

  backup
    .command('list')
    .description('List the archives in the backup location (newest first) with what is known without decrypting them.')
    .option('--to <dir|s3://bucket/prefix>', 'directory or S3 location to list (default FIELDKEEP_BACKUP_DIR)')
    .option('--json', 'one JSON array')
    .action(async (options: { to?: string; json?: boolean }) => {
      const archives = await withLocation(chosenLocation(options.to, loadConfig(sources())), listArchives);
      if (options.json) {
        out(`${JSON.stringify(archives, null, 2)}\n`);
        return;
      }
      out('created\tfile\tbytes\trows\tfiles\tencrypted\n');
      for (const a of archives) out(`${a.createdAt}\t${a.file}\t${a.bytes}\t${a.rows}\t${a.blobs}\t${a.encrypted ? (a.passphrase ? 'passphrase' : `${a.recipients.length} recipient(s)`) : 'NO'}\n`);
    });

  backup
    .command('verifier')
    .description('Run the backup verifier until stopped: for each backup run, restore the previous backup into a scratch database and record the outcome. Run it apart from the server, where the identity may be.')
    .option('--identity <file>', 'age identity file (default FIELDKEEP_BACKUP_VERIFY_IDENTITY_FILE)')
    .action(async (options: { identity?: string }) => {
      const config = loadConfig(sources());
      const verifier = await startVerifier(config, options.identity === undefined ? {} : { identityFile: path.resolve(options.identity) });
      const stop = (signal: NodeJS.Signals) => {
        verifier.logger.info({ signal }, 'backup verifier stopping');
        const force = setTimeout(() => process.exit(1), config.shutdownTimeoutMs);
        force.unref();
        verifier.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            verifier.logger.error({ err }, 'error while stopping the backup verifier');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  return backup;
}

function chooseEncryption(options: { recipient: string[]; passphraseFile?: string; unencrypted?: boolean }, settings: { recipients: string[]; passphrase: string | undefined }): Encryption {
  const explicit = options.recipient.length > 0 || options.passphraseFile !== undefined;
  if (options.unencrypted) {
    if (explicit) throw new BackupError('backup.encryption_required', '--unencrypted cannot be combined with --recipient or --passphrase-file.');
    return { kind: 'none' };
  }
  const recipients = (explicit ? options.recipient : settings.recipients).map(checkRecipient);
  const passphrase = explicit ? (options.passphraseFile === undefined ? undefined : readSecretFile(options.passphraseFile)) : settings.passphrase;
  if (recipients.length === 0 && passphrase === undefined) {
    throw new BackupError('backup.encryption_required', 'Give --recipient age1… (or set FIELDKEEP_BACKUP_RECIPIENTS), or --passphrase-file; --unencrypted writes the data in the clear.');
  }
  return { kind: 'age', to: { recipients, passphrase } };
}
