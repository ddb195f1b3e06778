import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { FsBlobStore } from './fs-store.js';
import { SEGMENT_BYTES } from './sealed-stream.js';

const secret = 'k'.repeat(43);
const newStore = (key = secret) => {
  const root = mkdtempSync(path.join(tmpdir(), 'fieldkeep-blobs-'));
  return { root, store: new FsBlobStore(root, key) };
};

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
    expect(filesUnder(root).filter((f) => !path.relative(root, f).startsWith('tmp'))).toHaveLength(1);
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

  it.each([
    ['a flipped byte', (b: Buffer) => { b[b.length - 40]! ^= 1; return b; }],
    ['a truncated last segment', (b: Buffer) => b.subarray(0, b.length - 1)],
    ['a dropped final segment', (b: Buffer) => b.subarray(0, 24 + SEGMENT_BYTES + 16)],
    ['a different magic', (b: Buffer) => { b[0] = 0; return b; }],
  ])('detects %s', async (_label, tamper) => {
    const { root, store } = newStore();
    const blob = await store.put(randomBytes(2 * SEGMENT_BYTES + 100));
    const file = filesUnder(root).find((f) => f.endsWith(blob.id))!;
    writeFileSync(file, tamper(readFileSync(file)));
    await expect(buffer(await store.get(blob.id))).rejects.toMatchObject({ code: 'blob.corrupt' });
  });

  it('cannot be read with another key', async () => {
    const { root, store } = newStore();
    const blob = await store.put(Buffer.from('hello'));
    const thief = new FsBlobStore(root, 'q'.repeat(43));
    await expect(buffer(await thief.get(blob.id))).rejects.toMatchObject({ code: 'blob.corrupt' });
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
