import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { batched, containerBytes, lines, readContainer } from './container.js';
import { dropOrder, restoreOrder } from './plan.js';
import type { TableShape } from './manifest.js';

async function bytesOf(entries: Array<{ name: string; parts: Buffer[] }>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of containerBytes(Readable.from(entries.map((e) => ({ name: e.name, content: Readable.from(e.parts) }))))) out.push(b);
  return Buffer.concat(out);
}

async function read(bytes: Buffer, chunk = 7): Promise<Array<{ name: string; content: Buffer; sha256: string }>> {
  const pieces = [];
  for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
  const out = [];
  for await (const entry of readContainer(Readable.from(pieces))) {
    const parts: Buffer[] = [];
    for await (const p of entry.content) parts.push(p);
    out.push({ name: entry.name, content: Buffer.concat(parts), sha256: entry.digest().sha256 });
  }
  return out;
}

describe('the backup container', () => {
  it('round-trips entries of any size, read in chunks that ignore frame boundaries', async () => {
    const big = Buffer.alloc(200_000, 7);
    const bytes = await bytesOf([
      { name: 'a', parts: [] },
      { name: 'blobs/ü', parts: [Buffer.from('x'), big, Buffer.from('yz')] },
      { name: 'c', parts: [Buffer.from('end')] },
    ]);
    const entries = await read(bytes, 4093);
    expect(entries.map((e) => e.name)).toEqual(['a', 'blobs/ü', 'c']);
    expect(entries[1]!.content.equals(Buffer.concat([Buffer.from('x'), big, Buffer.from('yz')]))).toBe(true);
    expect(entries[0]!.content.length).toBe(0);
    expect(entries[0]!.sha256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('lets an entry be skipped unread, still checking its digest', async () => {
    const bytes = await bytesOf([{ name: 'skip', parts: [Buffer.from('abc')] }, { name: 'keep', parts: [Buffer.from('def')] }]);
    const names = [];
    for await (const entry of readContainer(Readable.from([bytes]))) names.push(entry.name);
    expect(names).toEqual(['skip', 'keep']);
    bytes[bytes.indexOf('abc')]! ^= 1;
    await expect(async () => {
      for await (const _ of readContainer(Readable.from([bytes])));
    }).rejects.toMatchObject({ code: 'backup.corrupt' });
  });

  it.each([
    ['every cut', (b: Buffer) => Array.from({ length: b.length - 1 }, (_, i) => b.subarray(0, i + 1)), 'backup.truncated'],
    ['appended bytes', (b: Buffer) => [Buffer.concat([b, Buffer.from('!')])], 'backup.corrupt'],
  ])('reports %s', async (_label, variants, code) => {
    const bytes = await bytesOf([{ name: 'one', parts: [Buffer.from('hello')] }]);
    for (const variant of variants(bytes)) {
      await expect(read(variant, 3), `${variant.length} bytes`).rejects.toMatchObject({ code });
    }
  });

  it('splits JSON lines across frames and batches them back', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `${JSON.stringify([i, 'ü'.repeat(i % 13)])}\n`);
    const chunks: Buffer[] = [];
    for await (const c of batched(Readable.from(rows), 1000)) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(5);
    const joined = Buffer.concat(chunks);
    const split = Array.from({ length: Math.ceil(joined.length / 5) }, (_, i) => joined.subarray(i * 5, i * 5 + 5));
    const back = [];
    for await (const line of lines(Readable.from(split))) back.push(`${line}\n`);
    expect(back).toEqual(rows);
  });
});

describe('the restore order', () => {
  const shape = (name: string, references: string[], primaryKey = ['id']): TableShape => ({ name, columns: [{ name: 'id', type: 'integer' }], primaryKey, references, sequenceColumn: null });

  it('puts every table after the tables it refers to, leaving out the job queue and migrations', () => {
    const order = restoreOrder([shape('b', ['a']), shape('a', []), shape('c', ['b', 'a', 'c']), shape('job', ['a']), shape('kysely_migration', [])]);
    expect(order.map((s) => s.name)).toEqual(['a', 'b', 'c']);
  });

  it('drops every table, left-out ones included, before the tables it refers to', () => {
    const order = dropOrder([shape('b', ['a']), shape('a', []), shape('c', ['b', 'a', 'c']), shape('job_schedule', ['job']), shape('job', ['a']), shape('kysely_migration', [], [])]);
    const names = order.map((s) => s.name);
    expect([...names].sort()).toEqual(['a', 'b', 'c', 'job', 'job_schedule', 'kysely_migration']);
    for (const s of order) for (const parent of s.references) if (parent !== s.name) expect(names.indexOf(parent), `${s.name} before ${parent}`).toBeGreaterThan(names.indexOf(s.name));
  });

  it('refuses a cycle of foreign keys, and a table without a primary key', () => {
    expect(() => restoreOrder([shape('x', ['y']), shape('y', ['x'])])).toThrow(/x, y/);
    expect(() => restoreOrder([shape('x', [], [])])).toThrow(/primary key/);
  });
});
