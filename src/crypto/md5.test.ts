import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { md5 } from './md5.js';

const openSsl = (data: Uint8Array) => createHash('md5').update(data).digest('hex');
const hex = (data: Uint8Array) => Buffer.from(data).toString('hex');

describe('MD5', () => {
  it('gives the RFC 1321 test-suite digests', () => {
    const suite: Array<[string, string]> = [
      ['', 'd41d8cd98f00b204e9800998ecf8427e'],
      ['a', '0cc175b9c0f1b6a831c399e269772661'],
      ['abc', '900150983cd24fb0d6963f7d28e17f72'],
      ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
    ];
    for (const [text, digest] of suite) expect(hex(md5(new TextEncoder().encode(text)))).toBe(digest);
  });

  it('agrees with OpenSSL on every length around the block and padding boundaries, however the input is split', () => {
    for (let length = 0; length <= 200; length += 1) {
      const data = randomBytes(length);
      const want = openSsl(data);
      expect(hex(md5(data))).toBe(want);
      for (const piece of [1, 7, 63, 64, 65]) {
        const hash = md5.create();
        for (let offset = 0; offset < length; offset += piece) hash.update(data.subarray(offset, offset + piece));
        expect(hex(hash.digest())).toBe(want);
      }
    }
    const large = randomBytes(3 * 1024 * 1024 + 17);
    expect(hex(md5.create().update(large.subarray(0, 1_000_001)).update(large.subarray(1_000_001)).digest())).toBe(openSsl(large));
  });
});
