import SQLite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { cachingStatements } from './statement-cache.js';

describe('the prepared-statement cache', () => {
  it('prepares each SQL text once, and forgets the least recently used beyond its capacity', () => {
    const handle = new SQLite(':memory:');
    const cache = cachingStatements(handle, 2);
    const first = cache.prepare('select 1');
    expect(cache.prepare('select 1')).toBe(first);
    cache.prepare('select 2');
    cache.prepare('select 1');
    cache.prepare('select 3');
    expect(cache.prepare('select 1')).toBe(first);
    const second = cache.prepare('select 2');
    expect(cache.prepare('select 2')).toBe(second);
    handle.close();
  });

  it('keeps working when the schema changes under a cached statement', () => {
    const handle = new SQLite(':memory:');
    handle.exec('create table t (a integer)');
    const cache = cachingStatements(handle);
    expect(cache.prepare('select * from t').all([])).toEqual([]);
    handle.exec('alter table t add column b integer; insert into t values (1, 2)');
    expect(cache.prepare('select * from t').all([])).toEqual([{ a: 1, b: 2 }]);
    handle.close();
  });
});
