import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { createRecoveryFile, encryptSubmission, generatePrivateKey, privateKeyToPem, serializeEncryptedManifest } from '../crypto/index.js';

const VECTORS = '/work/shared/testdata/odk-encryption';
const KAT_ID = 'uuid:6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60';
const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-decrypt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The known-answer envelope laid out as Briefcase pulls it: instances/<instance>/submission.xml and the .enc files. */
function briefcaseKat(root: string, instanceDir = 'uuid6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60'): string {
  const dir = path.join(root, 'instances', instanceDir);
  mkdirSync(dir, { recursive: true });
  for (const name of ['submission.xml', 'photo.jpg.enc', 'audit.csv.enc', 'submission.xml.enc']) copyFileSync(path.join(VECTORS, 'enc', name), path.join(dir, name));
  return dir;
}

// Each run starts the whole command line through tsx, which takes seconds on a busy machine.
describe('fieldkeep decrypt', { timeout: 120_000 }, () => {
  it('decrypts the BouncyCastle vectors in a Briefcase layout with the private key, signature valid', async () => {
    const input = path.join(work, 'kat-in');
    briefcaseKat(input);
    const out = path.join(work, 'kat-out');
    const run = await runFieldkeep(['decrypt', '--key', path.join(VECTORS, 'priv.pem'), '--in', input, '--out', out], {});
    expect(run.stdout).toBe(`${KAT_ID}  signature valid\n`);
    expect(run.code, run.stderr).toBe(0);
    for (const name of ['submission.xml', 'photo.jpg', 'audit.csv']) {
      expect(readFileSync(path.join(out, 'uuid-6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60', name)).equals(readFileSync(path.join(VECTORS, 'plain', name)))).toBe(true);
    }
  });

  it('reads a recovery file, and reports invalid, unsigned and undecryptable submissions one per line', async () => {
    const key = await generatePrivateKey();
    const recovery = path.join(work, 'recovery.json');
    writeFileSync(recovery, await createRecoveryFile(key, 'salt marsh heron 88 lantern', 'test project'));
    const input = path.join(work, 'mixed-in');
    const envelope = async (instanceId: string) => encryptSubmission({ formId: 'f', version: '1', instanceId, publicKey: key.publicKey, submissionXml: Buffer.from(`<data id="f"><n>${instanceId}</n></data>`), media: [{ name: 'big.bin', data: randomBytes(300_000) }] });
    const write = (dir: string, manifestXml: string, files: ReadonlyArray<{ name: string; data: Uint8Array }>) => {
      mkdirSync(path.join(input, dir), { recursive: true });
      writeFileSync(path.join(input, dir, 'submission.xml'), manifestXml);
      for (const file of files) writeFileSync(path.join(input, dir, file.name), file.data);
    };
    const good = await envelope('uuid:a-good');
    write('a', good.manifestXml, good.files);
    const tampered = await envelope('uuid:b-tampered');
    const media = Buffer.from(tampered.files[0]!.data);
    media[100] = (media[100] ?? 0) ^ 1;
    write('b', tampered.manifestXml, [{ name: 'big.bin.enc', data: media }, tampered.files[1]!]);
    const unsigned = await envelope('uuid:c-unsigned');
    write('c', serializeEncryptedManifest({ ...unsigned.manifest, base64EncryptedElementSignature: null }), unsigned.files);
    const missing = await envelope('uuid:d-missing');
    write('d', missing.manifestXml, missing.files.slice(1));

    const out = path.join(work, 'mixed-out');
    const run = await runFieldkeep(['decrypt', '--recovery-file', recovery, '--in', input, '--out', out], {}, { stdin: 'salt marsh heron 88 lantern\n' });
    const lines = run.stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['uuid:a-good  signature valid', 'uuid:b-tampered  signature INVALID', 'uuid:c-unsigned  no signature']);
    expect(lines[3]).toMatch(/^uuid:d-missing {2}NOT DECRYPTED: big\.bin\.enc is missing/);
    expect(run.code).toBe(1);
    expect(readFileSync(path.join(out, 'uuid-a-good', 'submission.xml'), 'utf8')).toContain('uuid:a-good');

    const wrong = await runFieldkeep(['decrypt', '--recovery-file', recovery, '--in', input, '--out', out], {}, { stdin: 'not the passphrase at all\n' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('passphrase is wrong');
  });

  it('says so when the key does not fit', async () => {
    const input = path.join(work, 'other-in');
    briefcaseKat(input);
    const other = path.join(work, 'other.pem');
    writeFileSync(other, await privateKeyToPem(await generatePrivateKey()));
    const run = await runFieldkeep(['decrypt', '--key', other, '--in', input, '--out', path.join(work, 'other-out')], {});
    expect(run.stdout).toMatch(new RegExp(`^${KAT_ID} {2}NOT DECRYPTED: The key of submission`));
    expect(run.code).toBe(1);
  });
});
