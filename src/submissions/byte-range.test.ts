import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { contentDisposition, parseRange, sliceStream } from './byte-range.js';

describe('byte ranges', () => {
  it('reads the single-range forms of RFC 9110', () => {
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=50-5000', 100)).toEqual({ start: 50, end: 99 });
  });

  it('sends the whole file for no, several or malformed ranges, and refuses ranges past the end', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange('items=0-1', 100)).toBeNull();
    expect(parseRange('bytes=9-3', 100)).toBeNull();
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 100)).toBe('unsatisfiable');
  });

  it('cuts a range out of a stream that arrives in chunks', async () => {
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const chunks = () => Readable.from([bytes.subarray(0, 300), bytes.subarray(300, 301), bytes.subarray(301)]);
    expect(await buffer(sliceStream(chunks(), { start: 250, end: 650 }))).toEqual(bytes.subarray(250, 651));
    expect(await buffer(sliceStream(chunks(), { start: 0, end: 0 }))).toEqual(bytes.subarray(0, 1));
    expect(await buffer(sliceStream(chunks(), { start: 999, end: 999 }))).toEqual(bytes.subarray(999));
  });

  it('names files for every client (RFC 6266)', () => {
    expect(contentDisposition('photo.jpg')).toBe(`attachment; filename="photo.jpg"; filename*=UTF-8''photo.jpg`);
    expect(contentDisposition('café "1".jpg')).toBe(`attachment; filename="caf_ _1_.jpg"; filename*=UTF-8''caf%C3%A9%20%221%22.jpg`);
  });
});
