import type { CreateTableBuilder } from 'kysely';
import type { Dialect } from './database.js';

/** A surrogate key: SQLite's rowid alias or a PostgreSQL identity column; numbers in both. */
export function withIdColumn<T extends string>(table: CreateTableBuilder<T, never>, dialect: Dialect) {
  return dialect === 'postgres'
    ? table.addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

/** Raw bytes: SQLite BLOB, PostgreSQL BYTEA; both come back as Buffer. */
export function bytesType(dialect: Dialect) {
  return dialect === 'postgres' ? ('bytea' as const) : ('blob' as const);
}

/** The one timestamp format stored: fixed width, so text order is time order. */
export function isoNow(): string {
  return new Date().toISOString();
}
