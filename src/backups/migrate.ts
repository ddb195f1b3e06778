import { migrationStatus, migrator, type Database } from '../db/database.js';
import { migrations } from '../db/migrations/index.js';
import { BackupError } from './errors.js';

export const knownMigrations = (): string[] => migrations.map(([name]) => name);

/**
 * Migrates the target up to `name` (the archive's last migration), not past it, so rows are
 * restored into the schema they were read from and later migrations then convert them as on any
 * upgrade. A target already past `name` cannot go back (migrations only go forward) and is refused.
 * On PostgreSQL the migration tables are pinned to the current schema, as `migrateToLatest` does.
 */
export async function migrateTo(database: Database, name: string): Promise<void> {
  const status = await migrationStatus(database);
  const target = knownMigrations().indexOf(name);
  if (status.applied.length > target + 1) {
    throw new BackupError('backup.schema_mismatch', `The target database is already migrated to ${status.applied[status.applied.length - 1]}, past the backup's ${name}: restore into a new, empty database.`);
  }
  const { error } = await (await migrator(database)).migrateTo(name);
  if (error) throw error;
}
