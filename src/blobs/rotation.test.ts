import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { HEADER_BYTES, rewrapHeader } from './format.js';
import { FsBlobStore } from './fs-store.js';
import { applyPendingJournals, pendingJournals, writeJournal } from './journal.js';
import { installNewKeyFile, keyFiles, keysInUse, loadKeyring, removePreviousKeyFile } from './keys.js';
import { rewrapAll } from './maintenance.js';
import { Keyring, MasterKey, newMasterKeyText } from './master-key.js';
import { SEGMENT_BYTES } from './sealed-stream.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'fieldkeep-rotation-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const secret = 's'.repeat(43);
const fileOf = (root: string, id: string) => path.join(root, id.slice(0, 2), id.slice(2, 4), id);
const relative = (id: string) => `${id.slice(0, 2)}/${id.slice(2, 4)}/${id}`;
const newKey = () => new MasterKey(randomBytes(32));

async function filledStore(count = 5) {
  const root = mkdtempSync(path.join(scratch, 'fieldkeep-rotation-'));
  const old = newKey();
  const store = new FsBlobStore(root, secret, new Keyring(old));
  const contents = Array.from({ length: count }, (_, i) => randomBytes(i === 0 ? 2 * SEGMENT_BYTES + 7 : 1000 + i));
  const ids = [];
  for (const c of contents) ids.push((await store.put(c)).id);
  return { root, old, store, contents, ids };
}

describe('rotating the master key', () => {
  it('re-wraps every data key under the new key, leaving the sealed content byte for byte as it was', async () => {
    const { root, old, contents, ids } = await filledStore();
    // One file set aside by a purge in progress: it may be put back, so it is rotated too.
    mkdirSync(path.join(root, 'deleting'));
    renameSync(fileOf(root, ids[4]!), path.join(root, 'deleting', `${ids[4]}.abc123`));
    const bodies = ids.slice(0, 4).map((id) => readFileSync(fileOf(root, id)).subarray(HEADER_BYTES));
    const next = newKey();
    const report = await rewrapAll(new FsBlobStore(root, secret, new Keyring(next, [old])));
    expect(report).toMatchObject({ keyId: next.id, rewrapped: 5, unreadable: [], remaining: 0, complete: true });
    expect(keysInUse(root)).toEqual([next.id]);
    for (const [i, id] of ids.slice(0, 4).entries()) {
      const file = readFileSync(fileOf(root, id));
      expect(file.subarray(8, 16)).toEqual(next.idBytes);
      expect(file.subarray(HEADER_BYTES).equals(bodies[i]!)).toBe(true);
    }
    const aside = readFileSync(path.join(root, 'deleting', `${ids[4]}.abc123`));
    expect(aside.subarray(8, 16)).toEqual(next.idBytes);
    // The new key alone now reads everything; the old key alone reads nothing.
    const onlyNew = new FsBlobStore(root, secret, new Keyring(next));
    for (const [i, id] of ids.slice(0, 4).entries()) expect((await buffer(await onlyNew.get(id))).equals(contents[i]!)).toBe(true);
    await expect(new FsBlobStore(root, secret, new Keyring(old)).get(ids[0]!)).rejects.toMatchObject({ code: 'blob.master_key_unknown' });
    expect(await rewrapAll(onlyNew)).toMatchObject({ rewrapped: 0, complete: true });
  });

  it('repairs a batch a crash cut short (a torn header too), and leaves a file stored again since alone', async () => {
    const { root, old, store, contents, ids } = await filledStore(3);
    const next = newKey();
    const both = new Keyring(next, [old]);
    const changes = ids.map((id) => {
      const before = readFileSync(fileOf(root, id)).subarray(0, HEADER_BYTES);
      return { file: relative(id), before, after: rewrapHeader(before, both, next, id) };
    });
    writeJournal(root, changes);
    // The crash: the first header written, the second torn half way, the third not reached...
    const write = (id: string, header: Buffer) => {
      const bytes = readFileSync(fileOf(root, id));
      header.copy(bytes, 0);
      writeFileSync(fileOf(root, id), bytes);
    };
    write(ids[0]!, changes[0]!.after);
    write(ids[1]!, changes[1]!.after.subarray(0, 40));
    const rotated = new FsBlobStore(root, secret, both);
    await expect(rotated.get(ids[1]!)).rejects.toMatchObject({ code: 'blob.corrupt' });
    // ...and, meanwhile, the third stored again by an upload (a new file with a data key of its own).
    await rotated.put(contents[2]!);
    const third = readFileSync(fileOf(root, ids[2]!));

    // Opening the store (as the server does at start) applies the journal again.
    applyPendingJournals(root);
    expect(pendingJournals(root)).toEqual([]);
    expect(readFileSync(fileOf(root, ids[2]!)).equals(third)).toBe(true);
    const onlyNew = new FsBlobStore(root, secret, new Keyring(next));
    for (const [i, id] of ids.entries()) expect((await buffer(await onlyNew.get(id))).equals(contents[i]!)).toBe(true);
    expect(await rewrapAll(rotated)).toMatchObject({ rewrapped: 0, complete: true, unreadable: [] });
    expect(store.keyring.current.id).toBe(old.id);
  });

  it('reports files it cannot re-wrap, and is then not complete only if readable files remain under the old key', async () => {
    const { root, old, ids } = await filledStore(2);
    const bytes = readFileSync(fileOf(root, ids[1]!));
    bytes[50]! ^= 1;
    writeFileSync(fileOf(root, ids[1]!), bytes);
    const report = await rewrapAll(new FsBlobStore(root, secret, new Keyring(newKey(), [old])));
    expect(report.rewrapped).toBe(1);
    expect(report.unreadable).toEqual([{ file: relative(ids[1]!), reason: expect.stringContaining('failed authentication') }]);
    expect(report.complete).toBe(true);
  });

  it('runs one at a time', async () => {
    const { root, old } = await filledStore(1);
    const store = new FsBlobStore(root, secret, new Keyring(newKey(), [old]));
    const first = rewrapAll(store);
    await expect(rewrapAll(store)).rejects.toMatchObject({ code: 'blob.maintenance_running' });
    await first;
    writeFileSync(path.join(root, 'maintenance.lock'), '999999999');
    await expect(rewrapAll(store)).resolves.toMatchObject({ complete: true });
  });
});

describe('the key files of the data directory', () => {
  const fresh = () => {
    const dataDir = mkdtempSync(path.join(scratch, 'fieldkeep-keys-'));
    const root = path.join(dataDir, 'blobs');
    mkdirSync(root);
    return { dataDir, root, config: { dataDir, masterKey: undefined, masterKeyPrevious: undefined } };
  };

  it('generates the key once, mode 0600, and every later load agrees', () => {
    const { root, config } = fresh();
    const first = loadKeyring(config, root);
    expect(readFileSync(keyFiles(config.dataDir).current, 'utf8')).toMatch(new RegExp(`^# Fieldkeep master key ${first.current.id}\\.`));
    expect(readdirSync(config.dataDir)).toContain('master.key');
    expect(statSync(keyFiles(config.dataDir).current).mode & 0o777).toBe(0o600);
    expect(loadKeyring(config, root).current.id).toBe(first.current.id);
  });

  it('refuses to generate a new key when files need the missing one, with a stable code', async () => {
    const { root, config } = fresh();
    const store = new FsBlobStore(root, secret, loadKeyring(config, root));
    await store.put(Buffer.from('a photo'));
    rmSync(keyFiles(config.dataDir).current);
    expect(() => loadKeyring(config, root)).toThrow(expect.objectContaining({ code: 'blob.master_key_missing', message: expect.stringContaining('blob.master_key_missing') }));
    expect(existsSync(keyFiles(config.dataDir).current)).toBe(false);
    const other = { ...config, masterKey: newMasterKeyText() };
    expect(() => loadKeyring(other, root)).toThrow(expect.objectContaining({ code: 'blob.master_key_unknown' }));
    writeFileSync(keyFiles(config.dataDir).current, 'not a key\n');
    expect(() => loadKeyring(config, root)).toThrow(expect.objectContaining({ code: 'blob.master_key_invalid' }));
  });

  it('installs a new key with the old kept as previous, resuming after a crash at any step', () => {
    const { root, config } = fresh();
    const original = loadKeyring(config, root).current.id;
    const files = keyFiles(config.dataDir);
    // A crash after the old key was linked as previous, before the new key was renamed in.
    linkSync(files.current, files.previous);
    writeFileSync(files.next, 'half-written');
    const installed = installNewKeyFile(config.dataDir);
    expect(installed).not.toBe(original);
    const keyring = loadKeyring(config, root);
    expect(keyring.current.id).toBe(installed);
    expect(keyring.previous.map((k) => k.id)).toEqual([original]);
    expect(existsSync(files.next)).toBe(false);
    // Run again before the rotation finished: the same new key, no third one.
    expect(installNewKeyFile(config.dataDir)).toBe(installed);
    removePreviousKeyFile(config.dataDir);
    expect(loadKeyring(config, root).previous).toEqual([]);
  });
});
