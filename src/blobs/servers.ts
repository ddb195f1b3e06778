/**
 * Which server processes use a blob store. A server registers itself while it runs (a file named by
 * its process id under `<blobs>/servers/`), so that `master-key rotate` with the generated key file,
 * which replaces that file and deletes the old key when done, can refuse to run under a live
 * server: such a server keeps the old key in memory and would go on writing files that, once the
 * old key is gone, nothing can open. Entries of processes that are gone are ignored and removed.
 * Process ids are local to one machine: servers on other machines sharing the directory are not seen.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isRunning } from './maintenance.js';

const ENTRY = /^(\d+)\.[0-9a-f]{12}$/;

function serversDir(root: string): string {
  return path.join(root, 'servers');
}

/** Records this process as a server of the store; the returned function removes the record. */
export function registerServer(root: string): () => void {
  const dir = serversDir(root);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const entry = path.join(dir, `${process.pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(entry, '', { mode: 0o600 });
  return () => rmSync(entry, { force: true });
}

/** The ids of live server processes using the store (the records of dead ones are removed). */
export function runningServers(root: string): number[] {
  let names: string[];
  try {
    names = readdirSync(serversDir(root));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const live = new Set<number>();
  for (const name of names) {
    const pid = Number(ENTRY.exec(name)?.[1]);
    if (isRunning(pid)) live.add(pid);
    else rmSync(path.join(serversDir(root), name), { force: true });
  }
  return [...live];
}
