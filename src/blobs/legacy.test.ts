import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from './fs-store.js';
import { legacyBigContent, legacyFixtures, LEGACY_SECRET, placeLegacy, sealLegacy } from './legacy.test-support.js';
import { encryptLegacyAll, storeStatus } from './maintenance.js';
import { Keyring, MasterKey } from './master-key.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'fieldkeep-legacy-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const { small, big } = legacyFixtures;

/** A store directory holding the two version 1 files the old code wrote. */
function legacyStore(secret = LEGACY_SECRET) {
  const root = mkdtempSync(path.join(scratch, 'fieldkeep-legacy-'));
  placeLegacy(root, small.id, Buffer.from(small.file, 'hex'));
  placeLegacy(root, big.id, sealLegacy(LEGACY_SECRET, legacyBigContent(), Buffer.from(big.salt, 'hex')));
  const keyring = new Keyring(new MasterKey(randomBytes(32)));
  return { root, keyring, store: new FsBlobStore(root, secret, keyring) };
}

const fileOf = (root: string, id: string) => path.join(root, id.slice(0, 2), id.slice(2, 4), id);

describe('blob files written before master keys (version 1)', () => {
  it('are reproduced byte for byte from the old code\'s known answers', () => {
    expect(sealLegacy(LEGACY_SECRET, small.content, Buffer.from(small.salt, 'hex')).toString('hex')).toBe(small.file);
    const bigFile = sealLegacy(LEGACY_SECRET, legacyBigContent(), Buffer.from(big.salt, 'hex'));
    expect(bigFile.length).toBe(big.fileBytes);
    expect(createHash('sha256').update(bigFile).digest('hex')).toBe(big.fileSha256);
  });

  it('still read, under the same ids a new put of the same content gets', async () => {
    const { store } = legacyStore();
    expect(await buffer(await store.get(small.id))).toEqual(small.content);
    expect((await buffer(await store.get(big.id))).equals(legacyBigContent())).toBe(true);
    expect((await store.put(Buffer.from(small.content))).id).toBe(small.id);
  });

  it('fail to read, with blob.corrupt, when altered or under another server secret', async () => {
    const { root, store } = legacyStore();
    const bytes = readFileSync(fileOf(root, big.id));
    bytes[bytes.length - 20]! ^= 1;
    writeFileSync(fileOf(root, big.id), bytes);
    await expect(buffer(await store.get(big.id))).rejects.toMatchObject({ code: 'blob.corrupt' });
    const other = legacyStore('o'.repeat(43));
    await expect(buffer(await other.store.get(small.id))).rejects.toMatchObject({ code: 'blob.corrupt' });
  });

  it('are encrypted in place under the master key by `blobs encrypt`, which is safe to run again', async () => {
    const { root, keyring, store } = legacyStore();
    expect(storeStatus(store)).toMatchObject({ legacy: 2, byKey: {} });
    expect(await encryptLegacyAll(store)).toEqual({ encrypted: 2, failed: [] });
    expect(storeStatus(store)).toMatchObject({ legacy: 0, byKey: { [keyring.current.id]: 2 } });
    for (const id of [small.id, big.id]) expect(readFileSync(fileOf(root, id)).subarray(0, 8).toString('latin1')).toBe('FKBLOB2\n');
    expect(await encryptLegacyAll(store)).toEqual({ encrypted: 0, failed: [] });
    // Now the master key alone reads them: the server secret only names files.
    const withOtherSecret = new FsBlobStore(root, 'o'.repeat(43), keyring);
    expect(await buffer(await withOtherSecret.get(small.id))).toEqual(small.content);
    expect((await buffer(await withOtherSecret.get(big.id))).equals(legacyBigContent())).toBe(true);
  });

  it('are left as they are, and reported, when a file holds another blob\'s content or is damaged', async () => {
    const { root, store } = legacyStore();
    writeFileSync(fileOf(root, big.id), Buffer.from(small.file, 'hex'));
    const report = await encryptLegacyAll(store);
    expect(report.encrypted).toBe(1);
    expect(report.failed).toEqual([{ file: path.relative(root, fileOf(root, big.id)), reason: expect.stringContaining('moved or swapped') }]);
    expect(readFileSync(fileOf(root, big.id)).toString('hex')).toBe(small.file);
  });
});
