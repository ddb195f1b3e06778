/*
 * Kysely's SQLite driver prepares every statement anew, and preparing (parsing and planning the
 * SQL) costs about as much as running a short statement. Kysely emits the same SQL text for the
 * same query shape, so the handle given to Kysely keeps the most recently used statements by
 * their text. SQLite re-prepares a cached statement by itself if the schema changes under it.
 * (A statement being iterated cannot be reused meanwhile, but better-sqlite3 refuses any other
 * use of the connection then anyway, cached or not.)
 */
import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Enough for every distinct query shape of the application; SQL with inlined values just rotates through. */
export const STATEMENT_CACHE_SIZE = 500;

export function cachingStatements(handle: SQLite.Database, capacity: number = STATEMENT_CACHE_SIZE): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => handle.close(),
    prepare(sql: string) {
      // Map order is insertion order: re-inserting makes this the most recently used.
      const statement = statements.get(sql) ?? handle.prepare(sql);
      statements.delete(sql);
      statements.set(sql, statement);
      if (statements.size > capacity) statements.delete(statements.keys().next().value as string);
      return statement;
    },
  };
}
