import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type CompiledQuery, type Migration } from 'kysely';
import type { Config } from '../config/config.js';
import { CommitGroup, type GroupedWork } from './commit-group.js';
import { migrations } from './migrations/index.js';
import { cachingStatements } from './statement-cache.js';
import type { Tables } from './tables.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  readonly db: Kysely<Tables>;
  readonly dialect: Dialect;
  /** The SQLite file, for the things only a file has (migration lock, backups). */
  readonly sqlitePath?: string;
  /**
   * Runs `work` in a transaction and resolves once its commit is durable. On SQLite the transaction
   * and its commit (one WAL fsync, off the event loop) may be shared with other work submitted at
   * the same moment, each in its own savepoint (commit-group.ts); for frequent small writes such as
   * phone submissions.
   */
  inGroupCommit<T>(work: GroupedWork<T>): Promise<T>;
  /**
   * Runs a compiled query and gives its rows as arrays of values, in the order selected: for reads
   * of many rows (exports), where making an object of every row costs more than the read.
   */
  selectArrays(query: CompiledQuery): Promise<unknown[][]>;
  close(): Promise<void>;
}

export type DatabaseOptions = Pick<Config, 'database' | 'sqliteSynchronous' | 'dbPoolSize'>;

const PG_INT8 = 20;

/**
 * Opens the configured database. SQLite runs in WAL mode so readers never block the writer, with
 * `synchronous` FULL by default: a commit that has returned survives a power cut, which is what a
 * 201 to a phone promises (NORMAL only survives a process crash; see FIELDKEEP_SQLITE_SYNCHRONOUS).
 */
export function openDatabase(options: DatabaseOptions): Database {
  const target = options.database;
  if (target.kind === 'sqlite') {
    mkdirSync(path.dirname(target.path), { recursive: true, mode: 0o700 });
    const handle = new SQLite(target.path);
    handle.pragma('journal_mode = WAL');
    handle.pragma(`synchronous = ${options.sqliteSynchronous}`);
    handle.pragma('foreign_keys = ON');
    handle.pragma('busy_timeout = 5000');
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: cachingStatements(handle) }) });
    const group = new CommitGroup(db, { handle, file: target.path, synchronous: options.sqliteSynchronous });
    // Statements of their own (Kysely's must keep giving objects), cached the same way.
    const arrayStatements = cachingStatements(handle);
    return {
      db,
      dialect: 'sqlite',
      sqlitePath: target.path,
      inGroupCommit: (work) => group.run(work),
      selectArrays: async (query) => (arrayStatements.prepare(query.sql) as unknown as SQLite.Statement).raw(true).all(...query.parameters) as unknown[][],
      close: () => db.destroy(),
    };
  }
  // Loaded only for PostgreSQL: a SQLite server never needs it.
  const pg = createRequire(import.meta.url)('pg') as typeof import('pg');
  const pool = new pg.Pool({
    connectionString: target.url,
    max: options.dbPoolSize,
    connectionTimeoutMillis: 5000,
    // Counts and ids are int8; they stay far below 2^53, so numbers are safe and match SQLite.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client's error (e.g. the server restarting) must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor a checked-out one's: a server that shuts down terminates connections between two queries of
  // a transaction too, and pg then emits the error outside any query. The transaction's next query
  // fails (the request is answered 503), and the pool discards the connection when it is released.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  // PostgreSQL commits concurrent transactions together by itself, off this process's thread.
  return {
    db,
    dialect: 'postgres',
    inGroupCommit: (work) => db.transaction().execute(work),
    selectArrays: async (query) => (await pool.query({ text: query.sql, values: [...query.parameters], rowMode: 'array' })).rows as unknown[][],
    close: () => db.destroy(),
  };
}

/**
 * On PostgreSQL the migration tables are named in the connection's current schema: left unnamed,
 * Kysely looks for them in every schema, so another schema's copy (another app, or a parallel
 * test's scratch schema) makes it skip creating its own and then fail to find it.
 */
export async function migrator(database: Database): Promise<Migrator> {
  const list: Record<string, Migration> = {};
  for (const [name, factory] of migrations) list[name] = factory(database.dialect);
  const migrationTableSchema =
    database.dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db)).rows[0]?.schema : undefined;
  return new Migrator({ db: database.db, provider: { getMigrations: async () => list }, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
}

export interface MigrationOutcome {
  applied: string[];
}

/**
 * Brings the schema up to date, one process at a time: on PostgreSQL Kysely holds an advisory lock;
 * on SQLite, where Kysely assumes a single process, a write transaction on a lock file beside the
 * database serialises processes that start together (the OS drops it if a process dies).
 */
export async function migrateToLatest(database: Database): Promise<MigrationOutcome> {
  const run = async () => {
    const { error, results } = await (await migrator(database)).migrateToLatest();
    if (error) throw error;
    return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
  };
  if (database.sqlitePath === undefined) return run();
  const lock = new SQLite(`${database.sqlitePath}.migrate-lock`, { timeout: 0 });
  try {
    await acquireImmediate(lock, 120_000);
    return await run();
  } finally {
    if (lock.inTransaction) lock.exec('ROLLBACK');
    lock.close();
  }
}

/** Polls rather than letting SQLite wait, which would block this process's event loop. */
async function acquireImmediate(handle: SQLite.Database, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      handle.exec('BEGIN IMMEDIATE');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}

export interface MigrationStatus {
  pending: string[];
  applied: string[];
}

export async function migrationStatus(database: Database): Promise<MigrationStatus> {
  const all = await (await migrator(database)).getMigrations();
  return {
    pending: all.filter((m) => m.executedAt === undefined).map((m) => m.name),
    applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name),
  };
}

export async function ping(database: Database): Promise<void> {
  await sql`select 1`.execute(database.db);
}
