import { InvalidArgumentError } from 'commander';
import { loadConfig, type Config, type ConfigSources } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { migrateToLatest, openDatabase, type Database } from '../db/database.js';

/** How a change made from the server's shell is recorded in the audit log. */
export const COMMAND_LINE = { actorLabel: 'command line' } as const;

/**
 * What every command that touches data does around its work: load the settings (and the server
 * secret), open the database with its schema brought up to date, and close it however the work ends.
 */
export async function withDatabase(sources: () => ConfigSources, work: (database: Database, config: Config) => Promise<void>): Promise<void> {
  const config = ensureSecretKey(loadConfig(sources()));
  const database = openDatabase(config);
  try {
    await migrateToLatest(database);
    await work(database, config);
  } finally {
    await database.close();
  }
}

/** A commander option parser for whole numbers in a range, with a message that says which. */
export function wholeNumber(min: number, max: number) {
  return (text: string): number => {
    const value = /^\d{1,16}$/.test(text) ? Number(text) : NaN;
    if (!(value >= min && value <= max)) throw new InvalidArgumentError(`give a whole number from ${min} to ${max}`);
    return value;
  };
}

export const recordId = wholeNumber(1, Number.MAX_SAFE_INTEGER);
