import { Migrator, type Kysely, type Migration, type Transaction } from 'kysely';
import type { Dialect } from '../db/database.js';
import { migrations } from '../db/migrations/index.js';
import type { Tables } from '../db/tables.js';
import { BackupError } from './errors.js';
import * as q from './queries.js';

export const knownMigrations = (): string[] => migrations.map(([name]) => name);

/**
 * Migrates the target, inside the restore's transaction, up to `name` (the archive's last
 * migration, so rows are restored into the schema they were read from) or, without a name, to the
 * latest (after the rows are in, converting them as any upgrade would). Both commit or roll back
 * with the rows. A migration that fails is reported naming it, as a backup error.
 */
export async function migrateWithin(trx: Transaction<Tables>, dialect: Dialect, name?: string): Promise<void> {
  const migrator = await migratorWithin(trx, dialect);
  const { error, results } = name === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(name);
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  const reason = error instanceof Error ? error.message : String(error);
  throw new BackupError(
    'backup.integrity_failed',
    failed === undefined ? `Migrating the restored database failed: ${reason}. Nothing was restored.` : `Migration ${failed} failed on the restored data: ${reason}. Nothing was restored.`,
  );
}

/**
 * Kysely's own Migrator (same bookkeeping tables and rows as `migrateToLatest` writes), run in a
 * transaction it does not own. It asks its database for a connection to run on, which a Transaction
 * refuses: here the transaction itself is that connection, and the Migrator is told not to open a
 * transaction of its own. Each migration runs in a savepoint: on PostgreSQL a failed statement
 * would otherwise poison the transaction before the Migrator releases its advisory lock, so the
 * release would fail in place of the migration (hiding which one failed, and why) and the lock,
 * held by the session rather than the transaction, would outlive the failed restore.
 * On PostgreSQL the bookkeeping is pinned to the current schema, as src/db/database.ts does.
 */
async function migratorWithin(trx: Transaction<Tables>, dialect: Dialect): Promise<Migrator> {
  const list: Record<string, Migration> = {};
  for (const [name, factory] of migrations) list[name] = inSavepoint(factory(dialect));
  const schema = dialect === 'postgres' ? await q.currentSchema(trx) : undefined;
  return new Migrator({ db: sharingConnection(trx), provider: { getMigrations: async () => list }, disableTransactions: true, ...(schema ? { migrationTableSchema: schema } : {}) });
}

function sharingConnection(trx: Transaction<Tables>): Kysely<Tables> {
  return new Proxy(trx, {
    get(target, property) {
      if (property === 'connection') return () => ({ execute: <T>(work: (db: Kysely<Tables>) => Promise<T>) => work(target) });
      const value: unknown = Reflect.get(target, property, target);
      // Kysely's methods read private fields, so they must run on the transaction, not on this proxy.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const SAVEPOINT = 'fieldkeep_migration';

function inSavepoint(migration: Migration): Migration {
  return {
    up: async (db) => {
      await q.savepoint(db, SAVEPOINT);
      try {
        await migration.up(db);
      } catch (err) {
        await q.rollbackToSavepoint(db, SAVEPOINT);
        throw err;
      }
      await q.releaseSavepoint(db, SAVEPOINT);
    },
  };
}
