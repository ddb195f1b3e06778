/**
 * The disk filling up under a running server: the data directory is a small tmpfs of its own
 * (attachments, generated keys, and on SQLite the database too), and in the middle of submissions
 * a ballast file takes every byte left. While it lasts every submission is refused with 507
 * `server.storage_full` (HTTP's Insufficient Storage: the request was fine, the server cannot store
 * it now; a 5xx, so phones keep the submission and send it again) and an OpenRosa message the phone
 * shows; /readyz says not ready. Once the ballast is removed the same process stores submissions
 * again by itself. Nothing acknowledged is lost, and the database's integrity holds.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchStorage, describeEachDatabase, type ScratchStorage } from '../support/databases.js';
import { publishForm, seedInstance, type FaultInstance } from './support/instance.js';
import { missingCapability } from './support/plan.js';
import { runFault } from './support/scenario.js';
import { bundleServer, startServerProcess, type ServerBundle, type ServerProcess } from './support/server-process.js';

const TMPFS_SIZE = '64m';
const noTmpfs = missingCapability('tmpfs');

/** Writes to `file` until the file system has no byte left; returns how many bytes it took. */
function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describeEachDatabase(`the data directory's disk filling up in the middle of submissions${noTmpfs ? ` — SKIPPED: ${noTmpfs}` : ''}`, (kind) => {
  let bundle: ServerBundle;
  let storage: ScratchStorage;
  let mounted = false;
  let server: ServerProcess;
  let instance: FaultInstance;

  beforeAll(async () => {
    if (noTmpfs) return;
    [bundle, storage] = await Promise.all([bundleServer(), createScratchStorage(kind)]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tmpfs', storage.dataDir]);
    mounted = true;
    instance = await seedInstance(storage.env, storage.dataDir);
    server = await startServerProcess(bundle, instance.env);
    await publishForm(instance, server.url);
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    if (mounted) execFileSync('umount', [storage.dataDir]);
    await storage?.drop();
    bundle?.remove();
  });

  it.skipIf(noTmpfs !== undefined)('refuses with 507 server.storage_full while the disk is full, says not ready, and recovers by itself when space returns', async () => {
    const ballast = path.join(storage.dataDir, 'ballast');
    let filled = 0;
    const figures = await runFault(instance, server, {
      name: `disk-full-tmpfs-${TMPFS_SIZE}`,
      database: kind,
      inject: async () => {
        filled = fillDisk(ballast);
      },
      clear: async () => rmSync(ballast),
      refusals: ['507 server.storage_full'],
    });
    expect(filled).toBeGreaterThan(0);
    expect(figures.acknowledged).toBeGreaterThan(0);
  }, 240_000);
});
