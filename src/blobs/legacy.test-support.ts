/**
 * Version 1 blob files, as Fieldkeep wrote them before master keys (format.ts), for the tests of
 * reading and converting them. `legacyFixtures` were written by that code itself (commit 20d81c3's
 * FsBlobStore); `sealLegacy` reproduces them byte for byte given the same salt, which the tests check.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { legacyKey, MAGIC_V1, openLegacyHeader } from './format.js';
import { SEGMENT_BYTES } from './sealed-stream.js';

export const LEGACY_SECRET = 'legacy-secret-'.padEnd(43, 'x');

/** 66,537 bytes: two segments, the second short. */
export const legacyBigContent = (): Buffer => Buffer.from(Array.from({ length: 66_537 }, (_, i) => (i * 31 + (i >> 8)) & 0xff));

export const legacyFixtures = {
  small: {
    content: Buffer.from('legacy attachment from before the master key\n'),
    id: '8c91ac30ad4a44d17a5fb5ebde92bceb0c86c1e9760f4d4b56901f011bec50a6',
    salt: '05d469e18ce036f5424b310ac856aa0b',
    file: '464b424c4f42310a05d469e18ce036f5424b310ac856aa0b0d88b8f1f233ba878281c2f45e4ff17a45dd0585680d6e40905dfb96b3f18dbaee674c6ca8a5e368436c8a9ad332d84ec51be7bd72b34462fd6fe4279c',
  },
  big: {
    id: '5e917e528a5828b2d62636c9bc475290c1371f942c059816409a51828ce3ef47',
    salt: 'dec9d81e4b236991e25874b4f9358a90',
    fileBytes: 66_593,
    fileSha256: '1cf3dced3c0fbd919188a6b1ecb105e79ac2982f827f619edb9efca72bcb3324',
  },
} as const;

/** A version 1 file of `content` under `secretKey`, with the given 16-byte salt. */
export function sealLegacy(secretKey: string, content: Buffer, salt: Buffer): Buffer {
  const header = Buffer.concat([MAGIC_V1, salt]);
  const cipher = openLegacyHeader(header, legacyKey(secretKey));
  const parts: Buffer[] = [header];
  let index = 0;
  let rest: Buffer = content;
  while (rest.length > SEGMENT_BYTES) {
    parts.push(cipher.seal(rest.subarray(0, SEGMENT_BYTES), index++, false));
    rest = rest.subarray(SEGMENT_BYTES);
  }
  parts.push(cipher.seal(rest, index, true));
  return Buffer.concat(parts);
}

/** Places a version 1 file where the store keeps blob `id`. */
export function placeLegacy(root: string, id: string, file: Buffer): string {
  const dir = path.join(root, id.slice(0, 2), id.slice(2, 4));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, id), file);
  return path.join(dir, id);
}
