import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildZip } from './fixtures.test-support.js';
import type { ZipEntrySpec } from './fixtures.test-support.js';
import { WorkbookError } from './errors.js';
import { defaultReadLimits } from './limits.js';
import type { ReadLimits } from './limits.js';
import { openSafeZip } from './zip.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const entries: ZipEntrySpec[] = [
  { name: 'a.xml', data: Buffer.from('<a>first</a>') },
  { name: 'dir/b.xml', data: Buffer.from('<b>second</b>'.repeat(50)) },
];

function failure(run: () => unknown): WorkbookError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(WorkbookError);
    return err as WorkbookError;
  }
  return expect.fail('expected a WorkbookError');
}

const open = (bytes: Buffer, limits: Partial<ReadLimits> = {}): ReturnType<typeof openSafeZip> => openSafeZip(bytes, { ...defaultReadLimits, ...limits });

describe('safe zip reader', () => {
  it('reads deflated and stored entries, and knows which parts exist', () => {
    const zip = open(buildZip([entries[0]!, { ...entries[1]!, method: 0 }]));
    expect(text(zip.read('a.xml'))).toBe('<a>first</a>');
    expect(text(zip.read('dir/b.xml'))).toBe('<b>second</b>'.repeat(50));
    expect([zip.has('a.xml'), zip.has('b.xml')]).toEqual([true, false]);
    expect(failure(() => zip.read('missing.xml')).code).toBe('xlsform.malformed_workbook');
  });

  it('finds the directory behind an archive comment and through ZIP64 records', () => {
    expect(text(open(buildZip(entries, { comment: `PK\u0005\u0006 looks like a record ${'-'.repeat(30)}` })).read('a.xml'))).toBe('<a>first</a>');
    const zip64 = open(buildZip(entries.map((e) => ({ ...e, zip64: true })), { zip64End: true }));
    expect(text(zip64.read('dir/b.xml'))).toBe('<b>second</b>'.repeat(50));
  });

  it('checks the bytes actually inflated against the declared size', () => {
    const data = Buffer.from('x'.repeat(5000));
    const longer = open(buildZip([{ name: 'a.xml', deflated: deflateRawSync(data), declaredSize: 4000 }]));
    expect(failure(() => longer.read('a.xml')).code).toBe('xlsform.zip_bomb');
    const shorter = open(buildZip([{ name: 'a.xml', deflated: deflateRawSync(data), declaredSize: 6000 }]));
    expect(failure(() => shorter.read('a.xml')).message).toMatch(/fewer bytes/);
    const stored = open(buildZip([{ name: 'a.xml', data, method: 0, declaredSize: 4000 }]));
    expect(failure(() => stored.read('a.xml')).code).toBe('xlsform.zip_bomb');
  });

  it('enforces the total budget on bytes inflated, not only on declared sizes', () => {
    const zip = open(buildZip([{ name: 'a.xml', data: Buffer.alloc(3000) }, { name: 'b.xml', data: Buffer.alloc(3000) }]), { maxUncompressedBytes: 6000 });
    zip.read('a.xml');
    zip.read('b.xml');
    expect(failure(() => zip.read('a.xml')).code).toBe('xlsform.zip_bomb');
  });

  it('refuses damaged data, unknown compression methods and archives it cannot locate', () => {
    const corrupt = open(buildZip([{ name: 'a.xml', deflated: Buffer.from('not deflate data at all'), declaredSize: 10 }]));
    expect(failure(() => corrupt.read('a.xml')).code).toBe('xlsform.malformed_workbook');
    const bzip2 = open(buildZip([{ ...entries[0]!, method: 12 }]));
    expect(failure(() => bzip2.read('a.xml')).message).toMatch(/compression method 12/);
    expect(failure(() => open(Buffer.from('PK\u0003\u0004 but nothing else'))).code).toBe('xlsform.malformed_workbook');
    const zip = buildZip(entries);
    expect(failure(() => open(zip.subarray(0, zip.length - 30))).code).toBe('xlsform.malformed_workbook');
  });

  it('vets every entry before inflating anything: names, duplicates, count', () => {
    expect(failure(() => open(buildZip([...entries, { name: 'x/../../y', data: Buffer.from('') }]))).code).toBe('xlsform.zip_unsafe_path');
    expect(failure(() => open(buildZip([...entries, entries[0]!]))).message).toMatch(/appears twice/);
    expect(failure(() => open(buildZip(entries), { maxEntries: 1 })).code).toBe('xlsform.zip_bomb');
  });
});
