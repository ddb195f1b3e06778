import { randomBytes } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { migrationStatus, ping, type Database } from '../db/database.js';
import { databaseFault } from '../db/errors.js';
import { touchInstanceRow } from './queries.js';

export type Readiness = { ready: true } | { ready: false; reason: string };

/** A probe that has not answered by then counts as failed: readiness never hangs on a dead database. */
export const PROBE_TIMEOUT_MS = 5000;

/**
 * Ready means able to do the server's work, storing submissions included: the database answers,
 * its schema is current, and it accepts a write. A database that still answers reads but refuses
 * writes (a read-only or full disk, a standby, a lock held elsewhere) is not ready.
 */
export async function checkReadiness(database: Database): Promise<Readiness> {
  let status;
  try {
    await withinTimeout(ping(database));
    status = await withinTimeout(migrationStatus(database));
  } catch {
    return { ready: false, reason: 'The database does not answer.' };
  }
  if (status.pending.length > 0) {
    return { ready: false, reason: `Migrations are pending: ${status.pending.join(', ')}. Run \`fieldkeep migrate\`.` };
  }
  try {
    await withinTimeout(database.inGroupCommit((trx) => touchInstanceRow(trx)));
  } catch (err) {
    const full = databaseFault(err) === 'full';
    return { ready: false, reason: full ? 'The database is out of disk space.' : `The database refuses writes (${describe(err)}).` };
  }
  return { ready: true };
}

/**
 * The data directory (attachments, and the SQLite database by default) accepts a durable write: a
 * small file is written, synced and removed.
 */
export async function checkDataDirectory(dataDir: string): Promise<Readiness> {
  const probe = path.join(dataDir, `.readyz-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await withinTimeout(writeAndSync(probe));
    return { ready: true };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return { ready: false, reason: 'The disk holding the data directory is full.' };
    return { ready: false, reason: `The data directory refuses writes (${describe(err)}).` };
  } finally {
    await rm(probe, { force: true }).catch(() => {});
  }
}

async function writeAndSync(file: string): Promise<void> {
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.writeFile('ready?');
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

function withinTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describe(err: unknown): string {
  const { code, message } = err as { code?: unknown; message?: unknown };
  return [code, message].filter((part) => typeof part === 'string' && part !== '').join(': ') || 'unknown error';
}
