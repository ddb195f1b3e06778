/*
 * Group commit for SQLite. With `synchronous=FULL` every commit fsyncs the WAL, and better-sqlite3
 * does that on the event loop: at a few hundred submissions a second the fsyncs alone take a large
 * share of the one thread. Work submitted in the same turn of the event loop therefore shares one
 * transaction and one commit:
 *
 * - each piece of work runs in its own savepoint, so a failure rolls back only that work and is
 *   reported to its caller alone, as if it had had a transaction of its own;
 * - no caller hears of success before the shared commit has returned, so what a caller
 *   acknowledges is durable exactly as with a transaction of its own; if the commit fails, every
 *   caller of the group gets the error and nothing of the group is stored.
 *
 * Work in one group runs one after the other on SQLite's single connection, as separate
 * transactions would; later work sees what earlier work of the group wrote, as it would after
 * their commits.
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Tables } from './tables.js';

export type GroupedWork<T> = (trx: Transaction<Tables>) => Promise<T>;

interface Pending {
  work: GroupedWork<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Bounds how long the first work of a group waits for the others. */
export const MAX_GROUP_SIZE = 32;

export class CommitGroup {
  private readonly queue: Pending[] = [];
  private running = false;

  constructor(private readonly db: Kysely<Tables>) {}

  /** Runs `work` in a transaction shared with the work submitted alongside; resolves after the commit. */
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
    setImmediate(() => {
      void this.commitNext().finally(() => {
        this.running = false;
        this.schedule();
      });
    });
  }

  private async commitNext(): Promise<void> {
    const group = this.queue.splice(0, MAX_GROUP_SIZE);
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction().execute(async (trx) => {
        const done: Outcome[] = [];
        for (const pending of group) done.push(await inSavepoint(trx, pending.work));
        return done;
      });
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
}

async function inSavepoint(trx: Transaction<Tables>, work: GroupedWork<unknown>): Promise<Outcome> {
  await sql`savepoint grouped_work`.execute(trx);
  try {
    const value = await work(trx);
    await sql`release savepoint grouped_work`.execute(trx);
    return { ok: true, value };
  } catch (error) {
    await sql`rollback to savepoint grouped_work`.execute(trx);
    await sql`release savepoint grouped_work`.execute(trx);
    return { ok: false, error };
  }
}
