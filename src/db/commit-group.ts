/*
 * Group commit for SQLite. With `synchronous=FULL` every commit fsyncs the WAL, and better-sqlite3
 * does that on the event loop: the thread waits for the disk at every commit, and requests that
 * arrive meanwhile cannot even be read. Work submitted in the same turn of the event loop therefore
 * shares one transaction and one commit, and the commit's fsync runs on the thread pool:
 *
 * - each piece of work runs in its own savepoint, so a failure rolls back only that work and is
 *   reported to its caller alone, as if it had had a transaction of its own;
 * - the group commits with `synchronous=NORMAL` (SQLite writes the WAL frames but does not wait
 *   for them), and then the WAL file is fdatasynced off the event loop; no caller hears of success
 *   before that sync has returned, so what a caller acknowledges is on disk exactly as after a
 *   FULL commit. While one group's sync runs, the next group already executes; syncs requested
 *   while one is running share the next one.
 * - if the commit fails, every caller of the group gets the error and nothing of the group is
 *   stored; if the sync fails, every caller gets the error (the rows may survive; a phone's retry
 *   then meets its own submission and is answered as a duplicate).
 * - after some errors (a full disk, an I/O error, a read-only file) SQLite rolls the whole
 *   transaction back by itself: then no savepoint is left to roll back to, every caller of the
 *   group gets that error (not the "no transaction is active" of a rollback that has nothing left
 *   to undo), and the server answers it as the storage fault it is.
 *
 * Readers may see a group's rows before its sync returns; an answer that depends on them (a
 * duplicate's 202) comes from a later group, whose own sync covers the earlier commit too.
 * Work in one group runs one after the other on SQLite's single connection, as separate
 * transactions would; later work sees what earlier work of the group wrote, as it would after
 * their commits.
 */
import { closeSync, fdatasync, fsync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Tables } from './tables.js';

export type GroupedWork<T> = (trx: Transaction<Tables>) => Promise<T>;

interface Pending {
  work: GroupedWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Compiled once: every piece of work runs them. */
const SAVEPOINT = {
  open: CompiledQuery.raw('savepoint grouped_work'),
  release: CompiledQuery.raw('release savepoint grouped_work'),
  rollback: CompiledQuery.raw('rollback to savepoint grouped_work'),
};

/** Bounds how long the first work of a group waits for the others. */
export const MAX_GROUP_SIZE = 32;

export interface CommitGroupOptions {
  /** The connection's own handle, to change `synchronous` around the group's commit and to see whether SQLite ended a transaction. */
  handle: SQLite.Database;
  /** The database file; its WAL is `<file>-wal`. */
  file: string;
  /** The configured level: NORMAL promises no durability, so nothing is synced. */
  synchronous: 'FULL' | 'NORMAL';
}

export class CommitGroup {
  private readonly queue: Pending[] = [];
  private readonly handle: SQLite.Database;
  private running = false;
  private readonly wal: WalSync | undefined;
  /** `synchronous` lowered for a group's commit and restored after it, prepared once. */
  private readonly levels: { lower: SQLite.Statement; restore: SQLite.Statement } | undefined;

  constructor(
    private readonly db: Kysely<Tables>,
    options: CommitGroupOptions,
  ) {
    this.handle = options.handle;
    if (options.synchronous === 'FULL') {
      this.wal = new WalSync(options.file);
      this.levels = { lower: options.handle.prepare('pragma synchronous = NORMAL'), restore: options.handle.prepare('pragma synchronous = FULL') };
    }
  }

  /** Runs `work` in a transaction shared with the work submitted alongside; resolves once it is durable. */
  run<T>(work: GroupedWork<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    // setImmediate, not a microtask: the requests whose I/O completed in this turn join the group.
    setImmediate(() => void this.commitNext());
  }

  private async commitNext(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP_SIZE);
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.connection().execute((connection) => this.commitGroup(connection, group));
    } catch (error) {
      for (const pending of group) pending.reject(error);
      return this.next();
    }
    this.next();
    try {
      await this.wal?.sync();
    } catch (error) {
      for (const pending of group) pending.reject(error);
      return;
    }
    group.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  }

  private next(): void {
    this.running = false;
    this.schedule();
  }

  /** Runs the group on the connection it holds, so nothing else runs while `synchronous` is lowered. */
  private async commitGroup(connection: Kysely<Tables>, group: readonly Pending[]): Promise<Outcome[]> {
    // Outside a transaction only: SQLite refuses to change the level inside one.
    this.levels?.lower.run();
    try {
      const trx = await connection.startTransaction().execute();
      try {
        const done: Outcome[] = [];
        for (const pending of group) done.push(await this.inSavepoint(trx, pending.work));
        await trx.commit().execute();
        return done;
      } catch (error) {
        // A transaction SQLite already ended has nothing to roll back; the error that ended it is the one to report.
        await trx.rollback().execute().catch((rollbackError: unknown) => {
          if (this.handle.inTransaction) throw rollbackError;
        });
        throw error;
      }
    } finally {
      this.levels?.restore.run();
    }
  }

  private async inSavepoint(trx: Transaction<Tables>, work: GroupedWork<unknown>): Promise<Outcome> {
    await trx.executeQuery(SAVEPOINT.open);
    try {
      const value = await work(trx);
      await trx.executeQuery(SAVEPOINT.release);
      return { ok: true, value };
    } catch (error) {
      // SQLite rolled the whole transaction back: the group fails with the error that made it.
      if (!this.handle.inTransaction) throw error;
      await trx.executeQuery(SAVEPOINT.rollback);
      await trx.executeQuery(SAVEPOINT.release);
      return { ok: false, error };
    }
  }
}

const syncData = promisify(fdatasync);
const syncAll = promisify(fsync);

/**
 * fdatasync of the WAL file on the thread pool. A sync started before a commit does not cover it,
 * so a request made while one runs waits for that one and then shares the next. The file is opened
 * for each sync (SQLite may recreate it); the directory is fsynced once, for the WAL's own entry.
 * Opening and closing wait for no disk and are made synchronously: through the thread pool (a
 * FileHandle) they cost the event loop more than the sync itself (profiles of the submission benchmark).
 */
class WalSync {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private directorySynced = false;

  constructor(private readonly databaseFile: string) {}

  sync(): Promise<void> {
    if (this.running === undefined) return this.start();
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<void> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    const running = this.syncFiles().finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async syncFiles(): Promise<void> {
    await syncOpened(`${this.databaseFile}-wal`, syncData);
    if (this.directorySynced) return;
    await syncOpened(path.dirname(this.databaseFile), syncAll);
    this.directorySynced = true;
  }
}

async function syncOpened(file: string, sync: (fd: number) => Promise<void>): Promise<void> {
  const fd = openSync(file, 'r');
  try {
    await sync(fd);
  } finally {
    closeSync(fd);
  }
}
