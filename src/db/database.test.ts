import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, createScratchStorage, type ScratchStorage } from '../../test/support/databases.js';
import { migrateToLatest, migrationStatus, openDatabase, ping } from './database.js';
import { migrations } from './migrations/index.js';
import { checkReadiness } from '../health/service.js';

const options = (storage: ScratchStorage) => ({ database: storage.target, sqliteSynchronous: 'FULL' as const, dbPoolSize: 4 });

describeEachDatabase('the database', (kind) => {
  let storage: ScratchStorage;
  beforeAll(async () => {
    storage = await createScratchStorage(kind);
  });
  afterAll(async () => storage.drop());

  it('reports pending migrations as not ready, then migrates once even when several processes start at once', async () => {
    const handles = [openDatabase(options(storage)), openDatabase(options(storage)), openDatabase(options(storage))];
    try {
      const before = await checkReadiness(handles[0]!);
      expect(before).toEqual({ ready: false, reason: expect.stringContaining('0001-instance') });
      const outcomes = await Promise.all(handles.map((h) => migrateToLatest(h)));
      const appliedSomewhere = outcomes.flatMap((o) => o.applied);
      expect(appliedSomewhere).toEqual(migrations.map(([name]) => name));
      expect(await migrationStatus(handles[1]!)).toEqual({ pending: [], applied: migrations.map(([name]) => name) });
      expect(await checkReadiness(handles[2]!)).toEqual({ ready: true });
      const instances = await handles[0]!.db.selectFrom('instance').selectAll().execute();
      expect(instances).toHaveLength(1);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  it('stores and returns ids as numbers and times as ISO text on both databases', async () => {
    const database = openDatabase(options(storage));
    try {
      await ping(database);
      const row = await database.db.selectFrom('instance').select(['id', 'created_at']).executeTakeFirstOrThrow();
      expect(row.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    } finally {
      await database.close();
    }
  });
});

it('reports an unreachable database as not ready', async () => {
  const database = openDatabase({ database: { kind: 'postgres', url: 'postgres://nobody@127.0.0.1:1/none' }, sqliteSynchronous: 'FULL', dbPoolSize: 1 });
  try {
    expect(await checkReadiness(database)).toEqual({ ready: false, reason: 'The database does not answer.' });
  } finally {
    await database.close();
  }
});
