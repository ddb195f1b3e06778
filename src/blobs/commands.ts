/**
 * `fieldkeep master-key generate|rotate` and `fieldkeep blobs status|encrypt`: the blob store's
 * encryption at rest from the server's shell. Long walks show a progress bar on a terminal.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { loadConfig, type Config, type ConfigSources } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { BlobError } from './errors.js';
import { installNewKeyFile, keyFiles, keySource, removePreviousKeyFile } from './keys.js';
import { encryptLegacyAll, rewrapAll, storeStatus, type Progress, type Unreadable } from './maintenance.js';
import { newMasterKeyText } from './master-key.js';
import { blobDirectory, openBlobStore } from './open.js';
import { runningServers } from './servers.js';

type Out = (text: string) => void;

function withProgress<T>(label: string, work: (progress: Progress) => T): T {
  if (!process.stderr.isTTY) return work(() => {});
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% | {value}/{total} files`, stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  let started = false;
  const progress: Progress = (done, total) => {
    if (!started) bar.start(total, done);
    else bar.update(done);
    started = true;
  };
  const stop = () => bar.stop();
  const result = work(progress);
  if (result instanceof Promise) return result.finally(stop) as T;
  stop();
  return result;
}

function describeKeys(config: Config): string {
  if (keySource(config) === 'setting') return 'FIELDKEEP_MASTER_KEY' + (config.masterKeyPrevious === undefined ? '' : ', previous FIELDKEEP_MASTER_KEY_PREVIOUS');
  return `${keyFiles(config.dataDir).current} (generated)`;
}

function printUnreadable(out: Out, files: readonly Unreadable[]): void {
  for (const f of files) out(`  cannot read ${f.file}: ${f.reason}\n`);
}

export function masterKeyCommand(sources: () => ConfigSources, out: Out = (t) => process.stdout.write(t)): Command {
  const masterKey = new Command('master-key').description('The master key that wraps the key of every stored file (attachments, form files, exports).');

  masterKey
    .command('generate')
    .description('Print a new random master key (for FIELDKEEP_MASTER_KEY or a FIELDKEEP_MASTER_KEY_FILE), or write it to a new file with mode 0600.')
    .option('--out <file>', 'write it to this file, which must not exist yet')
    .action((options: { out?: string }) => {
      const text = newMasterKeyText();
      if (options.out === undefined) return out(text);
      writeFileSync(path.resolve(options.out), text, { flag: 'wx', mode: 0o600 });
      out(`${text.split('\n')[0]!.replace(/^# /, '')}\nwritten to ${path.resolve(options.out)}\n`);
    });

  masterKey
    .command('rotate')
    .description(
      'Re-wrap every file\'s data key under a new master key, rewriting only file headers; resumable, and the old key stays usable until every file is done. ' +
        'With the generated key file, stop the server first: this makes the new key. With FIELDKEEP_MASTER_KEY, set the new key there and the old one as FIELDKEEP_MASTER_KEY_PREVIOUS, restart the server, then run this.',
    )
    .action(async () => {
      const config = ensureSecretKey(loadConfig(sources()));
      if (keySource(config) === 'file') {
        const servers = runningServers(blobDirectory(config));
        if (servers.length > 0) {
          throw new BlobError(
            'blob.server_running',
            `A Fieldkeep server (process ${servers.join(', ')}) is using this data directory. With the generated key file, rotation runs offline: stop the server, run this, then start it again (a running server would go on writing files under the old key, which rotation deletes).`,
          );
        }
        installNewKeyFile(config.dataDir);
      } else if (config.masterKeyPrevious === undefined) {
        throw new BlobError(
          'blob.rotation_needs_previous',
          'FIELDKEEP_MASTER_KEY is set, so the new key comes from you: make one with `fieldkeep master-key generate`, set it as FIELDKEEP_MASTER_KEY and the old key as FIELDKEEP_MASTER_KEY_PREVIOUS, restart the server with both, then run this again.',
        );
      }
      const store = openBlobStore(config);
      const report = await withProgress('re-wrapping', (progress) => rewrapAll(store, progress));
      out(`re-wrapped ${report.rewrapped} file(s) under master key ${report.keyId}\n`);
      if (report.legacy > 0) out(`${report.legacy} file(s) predate master keys (sealed under the server secret): run \`fieldkeep blobs encrypt\`\n`);
      printUnreadable(out, report.unreadable);
      if (report.unreadable.length > 0) process.exitCode = 1;
      if (!report.complete) {
        out(`${report.remaining} file(s) changed while being re-wrapped and are still under the old key: run this again; the old key stays until then\n`);
        process.exitCode = 1;
        return;
      }
      if (keySource(config) === 'file') {
        removePreviousKeyFile(config.dataDir);
        out(`every file is under the new key; the old key file is removed. Keep a copy of ${keyFiles(config.dataDir).current} apart from the data.\n`);
      } else {
        out('every file is under the new key: remove FIELDKEEP_MASTER_KEY_PREVIOUS from the settings and destroy the old key.\n');
      }
    });
  return masterKey;
}

export function blobsCommand(sources: () => ConfigSources, out: Out = (t) => process.stdout.write(t)): Command {
  const blobs = new Command('blobs').description('The blob store: attachments, form files and stored exports, encrypted at rest.');

  blobs
    .command('status')
    .description('Where the master key comes from, and how many files each key wraps (and how many predate master keys).')
    .action(() => {
      const config = ensureSecretKey(loadConfig(sources()));
      const store = openBlobStore(config);
      const status = withProgress('reading', (progress) => storeStatus(store, progress));
      out(`master key ${store.keyring.current.id} from ${describeKeys(config)}\n`);
      for (const previous of store.keyring.previous) out(`previous key ${previous.id} (a rotation is unfinished: run \`fieldkeep master-key rotate\`)\n`);
      for (const [id, count] of Object.entries(status.byKey)) out(`${count} file(s) under master key ${id}${id === store.keyring.current.id ? ' (current)' : ''}\n`);
      out(`${status.legacy} file(s) sealed under the server secret before master keys${status.legacy > 0 ? ': run `fieldkeep blobs encrypt`' : ''}\n`);
      printUnreadable(out, status.unrecognised);
      if (status.unrecognised.length > 0) process.exitCode = 1;
    });

  blobs
    .command('encrypt')
    .description('Re-seal files written before master keys (under the server secret) under the master key, each as a new file renamed over the old; safe to run again.')
    .action(async () => {
      const config = ensureSecretKey(loadConfig(sources()));
      const store = openBlobStore(config);
      const report = await withProgress('encrypting', (progress) => encryptLegacyAll(store, progress));
      out(`encrypted ${report.encrypted} file(s) under master key ${store.keyring.current.id}\n`);
      printUnreadable(out, report.failed);
      if (report.failed.length > 0) process.exitCode = 1;
    });
  return blobs;
}
