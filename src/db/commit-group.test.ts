import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './database.js';

describe('group commit on SQLite', () => {
  let database: Database;
  beforeEach(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-group-'));
    database = openDatabase({ database: { kind: 'sqlite', path: path.join(dir, 'db.sqlite') }, sqliteSynchronous: 'FULL', dbPoolSize: 1 });
    await sql`create table t (n integer primary key)`.execute(database.db);
  });
  afterEach(async () => database.close());

  const insert = (n: number) => database.inGroupCommit(async (trx) => {
    await sql`insert into t (n) values (${n})`.execute(trx);
    return n;
  });
  const stored = async () => (await sql<{ n: number }>`select n from t order by n`.execute(database.db)).rows.map((r) => r.n);

  it('shares one transaction among work submitted together, failing only the work that failed', async () => {
    let commitsBefore = 0;
    const outcomes = await Promise.allSettled([
      insert(1),
      database.inGroupCommit(async (trx) => {
        commitsBefore = (await sql<{ n: number }>`select count(*) as n from t`.execute(trx)).rows[0]!.n;
        await sql`insert into t (n) values (2)`.execute(trx);
        throw new Error('refused');
      }),
      insert(1),
      insert(3),
    ]);
    expect(commitsBefore).toBe(1);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(await stored()).toEqual([1, 3]);
  });

  it('reports success only after the commit, and a failed commit to every work of the group', async () => {
    await sql`create table parent (id integer primary key)`.execute(database.db);
    await sql`create table child (parent_id integer references parent (id) deferrable initially deferred)`.execute(database.db);
    const orphan = database.inGroupCommit(async (trx) => sql`insert into child (parent_id) values (42)`.execute(trx));
    const innocent = insert(7);
    await expect(orphan).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    await expect(innocent).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    expect(await stored()).toEqual([]);
  });

  it('commits without waiting for the disk on the event loop, then syncs, leaving the configured level in place', async () => {
    const level = async () => (await sql<{ synchronous: number }>`pragma synchronous`.execute(database.db)).rows[0]!.synchronous;
    expect(await level()).toBe(2);
    const many = await Promise.all(Array.from({ length: 100 }, (_, i) => insert(i + 10)));
    expect(many).toHaveLength(100);
    expect(await stored()).toHaveLength(100);
    await expect(database.inGroupCommit(async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(await level()).toBe(2);
  });

  it('needs no sync of its own when the configured level is NORMAL', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-group-normal-'));
    const normal = openDatabase({ database: { kind: 'sqlite', path: path.join(dir, 'db.sqlite') }, sqliteSynchronous: 'NORMAL', dbPoolSize: 1 });
    try {
      await sql`create table t (n integer primary key)`.execute(normal.db);
      await Promise.all([1, 2, 3].map((n) => normal.inGroupCommit((trx) => sql`insert into t (n) values (${n})`.execute(trx))));
      expect((await sql<{ synchronous: number }>`pragma synchronous`.execute(normal.db)).rows[0]!.synchronous).toBe(1);
      expect((await sql<{ n: number }>`select count(*) as n from t`.execute(normal.db)).rows[0]!.n).toBe(3);
    } finally {
      await normal.close();
    }
  });
});
