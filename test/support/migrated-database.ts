import { afterAll, beforeAll } from 'vitest';
import { migrateToLatest, openDatabase, type Database } from '../../src/db/database.js';
import { useScratchStorage, type DatabaseKind, type ScratchStorage } from './databases.js';

/** A scratch database with every migration applied, open for the enclosing describe block. */
export function useMigratedDatabase(kind: DatabaseKind, poolSize = 8): () => { database: Database; storage: ScratchStorage } {
  const storage = useScratchStorage(kind);
  let database: Database | undefined;
  beforeAll(async () => {
    database = openDatabase({ database: storage().target, sqliteSynchronous: 'NORMAL', dbPoolSize: poolSize });
    await migrateToLatest(database);
  });
  afterAll(async () => database?.close());
  return () => {
    if (!database) throw new Error('the database is not open yet');
    return { database, storage: storage() };
  };
}
