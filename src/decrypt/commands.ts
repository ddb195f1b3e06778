import { mkdir, readFile } from 'node:fs/promises';
import { Presets, SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import { promptHidden, readStdinLine } from '../accounts/commands.js';
import { CryptoError, loadPrivateKey, openRecoveryFile, type OdkPrivateKey } from '../crypto/index.js';
import { decryptManifest, findManifests, type DecryptOutcome } from './directory.js';

const VERDICTS = { valid: 'signature valid', invalid: 'signature INVALID', absent: 'no signature' } as const;

/**
 * `fieldkeep decrypt`: decrypts downloaded envelopes without a server, with a private key file or
 * a recovery file (its passphrase from standard input, or asked for on a terminal). Prints one
 * line per submission: its instanceID and signature verdict. Exits 1 when any submission could
 * not be decrypted or its signature is invalid.
 */
export function decryptCommand(): Command {
  return new Command('decrypt')
    .description('Decrypt ODK-encrypted submissions offline (Briefcase-style instances/<instance>/ folders or any folder of envelopes).')
    .addOption(new Option('--key <file>', 'the private key, PEM (PKCS#8 or PKCS#1) or DER').conflicts('recoveryFile'))
    .addOption(new Option('--recovery-file <file>', 'a Fieldkeep recovery file; its passphrase is read from standard input or asked for'))
    .requiredOption('--in <dir>', 'the folder holding the downloaded envelopes')
    .requiredOption('--out <dir>', 'where the decrypted submissions are written, one folder per instanceID')
    .action(async (options: { key?: string; recoveryFile?: string; in: string; out: string }) => {
      const keys = await loadKeys(options);
      const manifests = await findManifests(options.in);
      await mkdir(options.out, { recursive: true });
      const bar = progressBar(manifests.length);
      let failed = 0;
      for (const [index, manifest] of manifests.entries()) {
        const outcome = await decryptManifest(manifest, keys, options.in, options.out);
        if (outcome.error !== null || outcome.signature === 'invalid') failed += 1;
        process.stdout.write(`${describe(outcome)}\n`);
        bar.update(index + 1);
      }
      bar.stop();
      process.stderr.write(`${manifests.length - failed} of ${manifests.length} submissions decrypted with a valid or no signature; written to ${options.out}\n`);
      process.exitCode = failed > 0 || manifests.length === 0 ? 1 : 0;
    });
}

function describe(outcome: DecryptOutcome): string {
  const name = outcome.instanceId ?? outcome.manifest;
  if (outcome.error !== null) return `${name}  NOT DECRYPTED: ${outcome.error}`;
  return `${name}  ${VERDICTS[outcome.signature ?? 'absent']}`;
}

async function loadKeys(options: { key?: string; recoveryFile?: string }): Promise<OdkPrivateKey[]> {
  try {
    if (options.key) {
      const bytes = await readFile(options.key);
      return [await loadPrivateKey(bytes.includes('-----BEGIN') ? bytes.toString('utf8') : bytes)];
    }
    if (options.recoveryFile) {
      const text = await readFile(options.recoveryFile, 'utf8');
      const passphrase = process.stdin.isTTY ? await promptHidden('Recovery passphrase: ') : await readStdinLine();
      return [await openRecoveryFile(text, passphrase)];
    }
  } catch (err) {
    if (err instanceof CryptoError) throw new Error(err.message);
    throw err;
  }
  throw new Error('give the private key with --key FILE or a recovery file with --recovery-file FILE');
}

function progressBar(total: number): { update: (done: number) => void; stop: () => void } {
  if (!process.stderr.isTTY || total === 0) return { update: () => {}, stop: () => {} };
  const bar = new SingleBar({ format: 'decrypting [{bar}] {percentage}% | {value}/{total} submissions | {eta_formatted} left', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}
