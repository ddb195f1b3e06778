import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES } from './format.js';
import { FsBlobStore } from './fs-store.js';
import { Keyring, MasterKey } from './master-key.js';
import { SEGMENT_BYTES, TAG_BYTES } from './sealed-stream.js';

const secret = 'k'.repeat(43);
const newKeyring = () => new Keyring(new MasterKey(randomBytes(32)));
const newStore = (key = secret, keyring = newKeyring()) => {
  const root = mkdtempSync(path.join(tmpdir(), 'fieldkeep-blobs-'));
  return { root, keyring, store: new FsBlobStore(root, key, keyring) };
};
const fileOf = (root: string, id: string) => path.join(root, id.slice(0, 2), id.slice(2, 4), id);

/** Reads the blob to its end or its error, keeping what was released before the error. */
async function readAll(store: FsBlobStore, id: string): Promise<{ released: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of await store.get(id)) chunks.push(chunk as Buffer);
    return { released: Buffer.concat(chunks), error: undefined };
  } catch (error) {
    return { released: Buffer.concat(chunks), error };
  }
}

const unused = { inUse: async () => false, graceMs: 0 };

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('the local blob store', () => {
  it.each([0, 1, SEGMENT_BYTES - 1, SEGMENT_BYTES, SEGMENT_BYTES + 1, 3 * SEGMENT_BYTES + 17])(
    'round-trips %i bytes, reporting size and plain digests',
    async (size) => {
      const { store } = newStore();
      const content = randomBytes(size);
      const blob = await store.put(content);
      expect(blob.size).toBe(size);
      expect(blob.md5).toBe(createHash('md5').update(content).digest('hex'));
      expect(blob.sha256).toBe(createHash('sha256').update(content).digest('hex'));
      expect(await buffer(await store.get(blob.id))).toEqual(content);
    },
  );

  it('stores content encrypted: the plaintext appears nowhere on disk', async () => {
    const { root, store } = newStore();
    const secretText = Buffer.from('patient name: Amina Yusuf, HIV status: positive '.repeat(50));
    await store.put(secretText);
    for (const file of filesUnder(root)) expect(readFileSync(file).includes(secretText.subarray(0, 40))).toBe(false);
  });

  it('addresses by keyed content hash: same content stored once, not guessable without the key', async () => {
    const { root, store } = newStore();
    const content = Buffer.from('the same photo');
    const a = await store.put(content);
    const b = await store.put(Readable.from([content.subarray(0, 5), content.subarray(5)]));
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(a.sha256);
    expect(filesUnder(root).filter((f) => /^[0-9a-f]{2}\//.test(path.relative(root, f)))).toHaveLength(1);
    const other = newStore('z'.repeat(43));
    expect((await other.store.put(content)).id).not.toBe(a.id);
  });

  it('refuses content over the limit and leaves nothing behind', async () => {
    const { root, store } = newStore();
    const stream = Readable.from((function* () {
      for (let i = 0; i < 100; i++) yield Buffer.alloc(1024, i);
    })());
    await expect(store.put(stream, { maxBytes: 10_000 })).rejects.toMatchObject({ code: 'blob.too_large' });
    expect(filesUnder(root)).toEqual([]);
  });

  const segment = SEGMENT_BYTES + TAG_BYTES;
  const swap = (b: Buffer, i: number, j: number) => {
    const [a, c] = [Buffer.from(b.subarray(HEADER_BYTES + i * segment, HEADER_BYTES + (i + 1) * segment)), Buffer.from(b.subarray(HEADER_BYTES + j * segment, HEADER_BYTES + (j + 1) * segment))];
    c.copy(b, HEADER_BYTES + i * segment);
    a.copy(b, HEADER_BYTES + j * segment);
    return b;
  };
  it.each([
    ['a flipped byte in the last segment', (b: Buffer) => { b[b.length - 40]! ^= 1; return b; }],
    ['a flipped byte in the second segment', (b: Buffer) => { b[HEADER_BYTES + segment + 5]! ^= 1; return b; }],
    ['a flipped tag bit in the first segment', (b: Buffer) => { b[HEADER_BYTES + segment - 1]! ^= 0x80; return b; }],
    ['a truncated last segment', (b: Buffer) => b.subarray(0, b.length - 1)],
    ['a dropped final segment (cut at a boundary)', (b: Buffer) => b.subarray(0, HEADER_BYTES + 2 * segment)],
    ['bytes appended', (b: Buffer) => Buffer.concat([b, Buffer.from('more')])],
    ['the first two segments swapped', (b: Buffer) => swap(b, 0, 1)],
    ['the second segment repeated over the first', (b: Buffer) => { b.copy(b, HEADER_BYTES, HEADER_BYTES + segment, HEADER_BYTES + 2 * segment); return b; }],
  ])('detects %s, releasing only authentic bytes of the blob before the damage', async (_label, tamper) => {
    const { root, store } = newStore();
    const content = randomBytes(3 * SEGMENT_BYTES + 100);
    const blob = await store.put(content);
    const file = fileOf(root, blob.id);
    writeFileSync(file, tamper(readFileSync(file)));
    const { released, error } = await readAll(store, blob.id);
    expect(error).toMatchObject({ code: 'blob.corrupt' });
    expect(content.subarray(0, released.length).equals(released)).toBe(true);
  });

  it.each([
    ['a different magic', 0],
    ['a changed master key id', 8],
    ['a changed nonce prefix', 16],
    ['a changed wrap nonce', 23],
    ['a changed wrapped key', 40],
    ['a changed wrap tag', HEADER_BYTES - 1],
  ])('refuses a header with %s before releasing anything', async (_label, at) => {
    const { root, store } = newStore();
    const blob = await store.put(Buffer.from('a small photo'));
    const file = fileOf(root, blob.id);
    const bytes = readFileSync(file);
    bytes[at]! ^= 1;
    writeFileSync(file, bytes);
    await expect(store.get(blob.id)).rejects.toMatchObject({ code: expect.stringMatching(/^blob\.(corrupt|master_key_unknown)$/) });
  });

  it('refuses a blob file moved to another blob\'s name: the header binds the id', async () => {
    const { root, store } = newStore();
    const [a, b] = [await store.put(Buffer.from('photo of Amina')), await store.put(Buffer.from('photo of Yusuf'))];
    writeFileSync(fileOf(root, b.id), readFileSync(fileOf(root, a.id)));
    await expect(store.get(b.id)).rejects.toMatchObject({ code: 'blob.corrupt' });
    expect(await buffer(await store.get(a.id))).toEqual(Buffer.from('photo of Amina'));
  });

  it('cannot be read under another master key, even with the header made to name it', async () => {
    const { root, store } = newStore();
    const blob = await store.put(Buffer.from('hello'));
    const wrong = new MasterKey(randomBytes(32));
    const thief = new FsBlobStore(root, secret, new Keyring(wrong));
    await expect(thief.get(blob.id)).rejects.toMatchObject({ code: 'blob.master_key_unknown' });
    const file = fileOf(root, blob.id);
    const bytes = readFileSync(file);
    wrong.idBytes.copy(bytes, 8);
    writeFileSync(file, bytes);
    await expect(thief.get(blob.id)).rejects.toMatchObject({ code: 'blob.corrupt' });
  });

  it('needs no server secret to read: the master key alone opens what it wrapped', async () => {
    const { root, keyring, store } = newStore();
    const blob = await store.put(Buffer.from('hello'));
    const other = new FsBlobStore(root, 'q'.repeat(43), keyring);
    expect(await buffer(await other.get(blob.id))).toEqual(Buffer.from('hello'));
  });

  it('writes under the current key and reads under every key of the keyring', async () => {
    const { root, keyring, store } = newStore();
    const old = await store.put(Buffer.from('written under the old key'));
    const next = new MasterKey(randomBytes(32));
    const rotated = new FsBlobStore(root, secret, new Keyring(next, [keyring.current]));
    const fresh = await rotated.put(Buffer.from('written under the new key'));
    expect(readFileSync(fileOf(root, fresh.id)).subarray(8, 16)).toEqual(next.idBytes);
    expect(await buffer(await rotated.get(old.id))).toEqual(Buffer.from('written under the old key'));
    expect(readdirSync(path.join(root, 'keys')).sort()).toEqual([keyring.current.id, next.id].sort());
  });

  it('answers unknown, malformed and deleted ids clearly', async () => {
    const { store } = newStore();
    await expect(store.get('0'.repeat(64))).rejects.toMatchObject({ code: 'blob.not_found' });
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({ code: 'blob.bad_id' });
    const blob = await store.put(Buffer.from('x'));
    expect(await store.has(blob.id)).toBe(true);
    expect(await store.deleteUnlessInUse(blob.id, unused)).toBe('deleted');
    expect(await store.has(blob.id)).toBe(false);
    expect(await store.deleteUnlessInUse(blob.id, unused)).toBe('absent');
    await expect(store.get(blob.id)).rejects.toMatchObject({ code: 'blob.not_found' });
  });

  describe('deleting content an upload may be bringing again', () => {
    const content = Buffer.from('a photo two phones sent');

    it('keeps a blob a record names', async () => {
      const { store } = newStore();
      const blob = await store.put(content);
      expect(await store.deleteUnlessInUse(blob.id, { inUse: async () => true, graceMs: 0 })).toBe('in_use');
      expect(await buffer(await store.get(blob.id))).toEqual(content);
    });

    it('keeps a blob written within the grace period: its upload may not have committed yet', async () => {
      const { store } = newStore();
      const blob = await store.put(content);
      expect(await store.deleteUnlessInUse(blob.id, { inUse: async () => false, graceMs: 60_000 })).toBe('recent');
      expect(await buffer(await store.get(blob.id))).toEqual(content);
    });

    it('keeps a blob whose record committed while the file was set aside', async () => {
      const { store } = newStore();
      const blob = await store.put(content);
      let checks = 0;
      const outcome = await store.deleteUnlessInUse(blob.id, { inUse: async () => (checks += 1) > 1, graceMs: 0 });
      expect(outcome).toBe('in_use');
      expect(await buffer(await store.get(blob.id))).toEqual(content);
    });

    it('leaves the copy an upload wrote while the old file was set aside', async () => {
      const { store } = newStore();
      const blob = await store.put(content);
      let checks = 0;
      const inUse = async () => {
        checks += 1;
        if (checks === 2) await store.put(content);
        return false;
      };
      expect(await store.deleteUnlessInUse(blob.id, { inUse, graceMs: 0 })).toBe('deleted');
      expect(await buffer(await store.get(blob.id))).toEqual(content);
    });

    it('puts back a file a crashed deletion left aside', async () => {
      const { root, store } = newStore();
      const blob = await store.put(content);
      const other = await store.put(Buffer.from('another file'));
      mkdirSync(path.join(root, 'deleting'), { recursive: true });
      renameSync(path.join(root, blob.id.slice(0, 2), blob.id.slice(2, 4), blob.id), path.join(root, 'deleting', `${blob.id}.crashed`));
      expect(await store.has(blob.id)).toBe(false);
      expect(await store.deleteUnlessInUse(other.id, unused)).toBe('deleted');
      expect(await buffer(await store.get(blob.id))).toEqual(content);
      expect(readdirSync(path.join(root, 'deleting'))).toEqual([]);
    });
  });

  it('streams large content without holding it in memory', async () => {
    const { store } = newStore();
    const chunk = randomBytes(1024 * 1024);
    const total = 64;
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const source = Readable.from((function* () {
      for (let i = 0; i < total; i++) {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
        yield chunk;
      }
    })());
    const blob = await store.put(source);
    expect(blob.size).toBe(total * chunk.length);
    expect(peak).toBeLessThan(32 * 1024 * 1024);
  });
});
