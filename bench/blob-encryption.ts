/**
 * Blob encryption micro benchmark (not a test): what sealing costs on the submission hot path,
 * one ~50 KB photo per submission. In memory, the same stream stages a put runs (one 50 KB chunk
 * through a Transform into a discarding sink), per blob:
 *   - no encryption (a PassThrough), the floor;
 *   - version 1, the format before master keys (a per-blob HKDF, AES-256-GCM segments);
 *   - version 2, today's (a random data key and nonce prefix, AES-256-GCM segments, the data key
 *     wrapped with AES-256-GCM under the master key);
 * and opening version 2 (unwrap, then the segments). Then whole `FsBlobStore.put`s and `get`s on
 * this machine's disk (fdatasync and directory fsync included), for scale. CPU time per operation,
 * the median of several rounds, so that other work on the machine colours the figures less.
 *
 *   npx tsx bench/blob-encryption.ts            (writes its section of BENCHMARKS.md)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable, type Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { HEADER_BYTES, legacyKey, MAGIC_V1, newBlobKey, openHeader, openLegacyHeader } from '../src/blobs/format.js';
import { FsBlobStore } from '../src/blobs/fs-store.js';
import { Keyring, MasterKey } from '../src/blobs/master-key.js';
import { OpenStream, SealStream } from '../src/blobs/sealed-stream.js';
import { loadNow, machineLine, percentOf, printFigure, writeSection } from './support/report.js';

const PHOTO_BYTES = 50 * 1024;
const ROUNDS = 7;
const OPS_PER_ROUND = 2000;
const DISK_OPS = 200;
const photo = randomBytes(PHOTO_BYTES);
const master = new MasterKey(randomBytes(32));
const keyring = new Keyring(master);
const secret = randomBytes(32).toString('base64url');
const v1Key = legacyKey(secret);
const blobId = randomBytes(32).toString('hex');
const loadBefore = loadNow();

const discard = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });

/** Microseconds of CPU per call of `op`: the median over rounds of the mean within a round. */
async function cpuPerOp(op: () => Promise<unknown>, ops = OPS_PER_ROUND): Promise<number> {
  for (let i = 0; i < ops / 4; i++) await op();
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    for (let i = 0; i < ops; i++) await op();
    const used = process.cpuUsage(before);
    rounds.push((used.user + used.system) / ops);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(rounds.length / 2)]!;
}

const through = (stage: Transform) => pipeline(Readable.from([photo]), stage, discard());

const plain = await cpuPerOp(() => through(new PassThrough()));
const v1 = await cpuPerOp(() => {
  const header = Buffer.concat([MAGIC_V1, randomBytes(16)]);
  return through(new SealStream(openLegacyHeader(header, v1Key), { provisional: () => header, final: () => header }));
});
const v2 = await cpuPerOp(() => {
  const key = newBlobKey(master, () => blobId);
  return through(new SealStream(key.cipher, key.header));
});
const sealedV2 = await (async () => {
  const key = newBlobKey(master, () => blobId);
  return buffer(Readable.from([photo]).pipe(new SealStream(key.cipher, key.header)));
})();
const openV2 = await cpuPerOp(() => pipeline(Readable.from([sealedV2.subarray(HEADER_BYTES)]), new OpenStream(openHeader(sealedV2, keyring, blobId)), discard()));

const root = mkdtempSync(path.join(tmpdir(), 'fieldkeep-bench-blobs-'));
let putWallMs = 0;
let getWallMs = 0;
let putCpu: number;
let getCpu: number;
try {
  const store = new FsBlobStore(root, secret, keyring);
  const ids: string[] = [];
  putCpu = await cpuPerOp(async () => {
    const started = performance.now();
    // A fresh photo each time, as phones send: every put writes a new file.
    ids.push((await store.put(randomBytes(PHOTO_BYTES))).id);
    putWallMs += performance.now() - started;
  }, DISK_OPS);
  let next = 0;
  getCpu = await cpuPerOp(async () => {
    const started = performance.now();
    await buffer(await store.get(ids[next++ % ids.length]!));
    getWallMs += performance.now() - started;
  }, DISK_OPS);
} finally {
  rmSync(root, { recursive: true, force: true });
}
const diskCalls = DISK_OPS / 4 + ROUNDS * DISK_OPS;

const us = (n: number) => `${n.toFixed(1)} µs`;
const figure = (metric: string, value: number, ceiling?: number) => printFigure({ bench: 'blob-encryption', metric, value, unit: 'µs CPU', better: 'lower', ...(ceiling === undefined ? {} : { ceiling }) });
figure('sealing 50 KiB, version 2', v2, plain);
figure('opening 50 KiB, version 2', openV2, plain);
figure('whole put on disk', putCpu);
figure('whole get on disk', getCpu);
writeSection('blob-encryption', [
  '## Blob encryption at rest',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machineLine(loadBefore)}; one ${PHOTO_BYTES / 1024} KiB blob per operation,`,
  `CPU time per operation (median of ${ROUNDS} rounds of ${OPS_PER_ROUND} in memory, ${DISK_OPS} on disk). The ceiling for sealing and opening is`,
  'the same stream stages with no encryption (the floor), measured in the same run.',
  '',
  '| per 50 KiB blob | CPU |',
  '| --- | --: |',
  `| stream stages with no encryption (the floor) | ${us(plain)} |`,
  `| sealing, version 1 (before master keys: per-blob HKDF, AES-256-GCM) | ${us(v1)} |`,
  `| sealing, version 2 (data key and nonce prefix drawn, AES-256-GCM, data key wrapped under the master key) | ${us(v2)} (${percentOf(v2, plain, 'lower')} of the floor) |`,
  `| opening, version 2 (unwrap, then authenticate and decrypt) | ${us(openV2)} (${percentOf(openV2, plain, 'lower')} of the floor) |`,
  `| whole \`put\` on disk (digests, sealing, write, fdatasync, rename, directory fsync) | ${us(putCpu)} CPU, ${(putWallMs / diskCalls).toFixed(2)} ms wall |`,
  `| whole \`get\` on disk, read to the end | ${us(getCpu)} CPU, ${(getWallMs / diskCalls).toFixed(2)} ms wall |`,
  '',
  `Added by encryption at rest per 50 KiB put: ${us(v2 - plain)} of CPU over no encryption (${((100 * (v2 - plain)) / putCpu).toFixed(0)} % of a whole put's CPU,`,
  `which the file system's syncs dominate); against version 1, ${v2 <= v1 ? `${us(v1 - v2)} less` : `${us(v2 - v1)} more`}. A blob of one segment (up to 64 KiB,`,
  'the usual photo) is still written in one write, since its header is made once the content has ended; a longer one',
  'costs one more small write for its header.',
]);
