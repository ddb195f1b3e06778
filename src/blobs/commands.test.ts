import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { loadConfig } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { HEADER_BYTES } from './format.js';
import { FsBlobStore } from './fs-store.js';
import { keyFiles } from './keys.js';
import { placeLegacy, sealLegacy } from './legacy.test-support.js';
import { Keyring, MasterKey, parseMasterKey } from './master-key.js';
import { openBlobStore } from './open.js';
import { SEGMENT_BYTES } from './sealed-stream.js';
import { registerServer } from './servers.js';

/** Each command starts a process that compiles the sources (tsx): seconds apiece on a shared machine. */
const CLI_TIMEOUT = 300_000;
const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-master-key-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const fileOf = (dataDir: string, id: string) => path.join(dataDir, 'blobs', id.slice(0, 2), id.slice(2, 4), id);

/** A data directory with three files under its master key and one written before master keys. */
async function dataDirectory(settings: Record<string, string> = {}) {
  const dataDir = mkdtempSync(path.join(work, 'data-'));
  const env = { FIELDKEEP_DATA_DIR: dataDir, ...settings };
  const config = ensureSecretKey(loadConfig({ cwd: dataDir, env }));
  const store = openBlobStore(config);
  const contents = [randomBytes(2 * SEGMENT_BYTES + 11), randomBytes(50_000), Buffer.from('a note')];
  const ids = [];
  for (const c of contents) ids.push((await store.put(c)).id);
  const legacy = Buffer.from('written by an older Fieldkeep');
  // The id a put gives the same content: ids depend on the server secret only.
  const legacyId = (await new FsBlobStore(mkdtempSync(path.join(work, 'scratch-')), config.secretKey!, new Keyring(new MasterKey(randomBytes(32)))).put(legacy)).id;
  placeLegacy(path.join(dataDir, 'blobs'), legacyId, sealLegacy(config.secretKey!, legacy, randomBytes(16)));
  return { dataDir, env, config, contents: [...contents, legacy], ids: [...ids, legacyId] };
}

async function expectReadable(dataDir: string, secretKey: string, keyring: Keyring, ids: string[], contents: Buffer[]) {
  const store = new FsBlobStore(path.join(dataDir, 'blobs'), secretKey, keyring);
  for (const [i, id] of ids.entries()) expect((await buffer(await store.get(id))).equals(contents[i]!), id).toBe(true);
}

describe('fieldkeep master-key and blobs (command line)', () => {
  it('with the generated key file: status, encrypt what predates master keys, rotate; then refuse to serve without the key', { timeout: CLI_TIMEOUT }, async () => {
    const { dataDir, env, config, contents, ids } = await dataDirectory();
    const files = keyFiles(dataDir);
    const oldKey = new MasterKey(parseMasterKey(readFileSync(files.current, 'utf8'))!);

    const status = await runFieldkeep(['blobs', 'status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`master key ${oldKey.id} from ${files.current}`);
    expect(status.stdout).toContain(`3 file(s) under master key ${oldKey.id} (current)`);
    expect(status.stdout).toContain('1 file(s) sealed under the server secret before master keys: run `fieldkeep blobs encrypt`');

    const encrypted = await runFieldkeep(['blobs', 'encrypt'], env);
    expect(encrypted.code, encrypted.stderr).toBe(0);
    expect(encrypted.stdout).toContain(`encrypted 1 file(s) under master key ${oldKey.id}`);

    // A live server keeps the old key in memory: rotating the key file under it is refused, untouched.
    const unregister = registerServer(path.join(dataDir, 'blobs'));
    const underServer = await runFieldkeep(['master-key', 'rotate'], env);
    unregister();
    expect(underServer.code).toBe(1);
    expect(underServer.stderr).toContain(`A Fieldkeep server (process ${process.pid}) is using this data directory`);
    expect(new MasterKey(parseMasterKey(readFileSync(files.current, 'utf8'))!).id).toBe(oldKey.id);

    const bodies = ids.map((id) => readFileSync(fileOf(dataDir, id)).subarray(HEADER_BYTES));
    const rotated = await runFieldkeep(['master-key', 'rotate'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKey = new MasterKey(parseMasterKey(readFileSync(files.current, 'utf8'))!);
    expect(newKey.id).not.toBe(oldKey.id);
    expect(rotated.stdout).toContain(`re-wrapped 4 file(s) under master key ${newKey.id}`);
    expect(rotated.stdout).toContain('the old key file is removed');
    expect(existsSync(files.previous)).toBe(false);
    for (const [i, id] of ids.entries()) expect(readFileSync(fileOf(dataDir, id)).subarray(HEADER_BYTES).equals(bodies[i]!)).toBe(true);
    await expectReadable(dataDir, config.secretKey!, new Keyring(newKey), ids, contents);
    expect(statSync(files.current).mode & 0o777).toBe(0o600);

    rmSync(files.current);
    const refused = await runFieldkeep(['serve'], { ...env, FIELDKEEP_PORT: '0' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('blob.master_key_missing');
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    const doctor = await runFieldkeep(['doctor'], env);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL\s+master key: .*master\.key is missing/);
  });

  it('with FIELDKEEP_MASTER_KEY: generate a key, rotate from FIELDKEEP_MASTER_KEY_PREVIOUS, and say how when it is not set', { timeout: CLI_TIMEOUT }, async () => {
    const generated = await runFieldkeep(['master-key', 'generate'], {});
    expect(generated.code, generated.stderr).toBe(0);
    const oldText = generated.stdout;
    const oldKey = new MasterKey(parseMasterKey(oldText)!);
    expect(oldText).toContain(`# Fieldkeep master key ${oldKey.id}.`);
    const { dataDir, env, config, contents, ids } = await dataDirectory({ FIELDKEEP_MASTER_KEY: oldText });
    expect(existsSync(keyFiles(dataDir).current)).toBe(false);

    const newFile = path.join(work, 'new.key');
    const written = await runFieldkeep(['master-key', 'generate', '--out', newFile], {});
    expect(written.code, written.stderr).toBe(0);
    expect(statSync(newFile).mode & 0o777).toBe(0o600);
    const newKey = new MasterKey(parseMasterKey(readFileSync(newFile, 'utf8'))!);

    const alone = await runFieldkeep(['master-key', 'rotate'], { ...env, FIELDKEEP_MASTER_KEY: '', FIELDKEEP_MASTER_KEY_FILE: newFile });
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain('FIELDKEEP_MASTER_KEY_PREVIOUS');

    const rotated = await runFieldkeep(['master-key', 'rotate'], { FIELDKEEP_DATA_DIR: dataDir, FIELDKEEP_MASTER_KEY_FILE: newFile, FIELDKEEP_MASTER_KEY_PREVIOUS: oldText });
    expect(rotated.code, rotated.stderr).toBe(0);
    // The file predating master keys is not re-wrapped: it has no data key until `blobs encrypt`.
    expect(rotated.stdout).toContain(`re-wrapped 3 file(s) under master key ${newKey.id}`);
    expect(rotated.stdout).toContain('1 file(s) predate master keys');
    expect(rotated.stdout).toContain('remove FIELDKEEP_MASTER_KEY_PREVIOUS');
    await expectReadable(dataDir, config.secretKey!, new Keyring(newKey), ids, contents);
  });
});
