/**
 * A scratch instance's storage for a benchmark: a data directory and, on PostgreSQL, a schema of
 * its own in the admin database, both removed by `drop()`. (The tests' equivalent reads the
 * PostgreSQL address from Vitest; benchmarks run without it.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { postgresAdminUrl } from '../../test/support/postgres-url.js';

export interface BenchStorage {
  dataDir: string;
  /** The settings that point a Fieldkeep process at this storage. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function benchStorage(kind: 'sqlite' | 'postgres', label: string): Promise<BenchStorage> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `fieldkeep-bench-${label}-`));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (kind === 'sqlite') return { dataDir, env: { FIELDKEEP_DATA_DIR: dataDir }, drop: async () => removeDir() };
  const schema = `fk_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create schema ${schema}`);
  const url = new URL(postgresAdminUrl(process.env));
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    dataDir,
    env: { FIELDKEEP_DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    drop: async () => {
      await adminQuery(`drop schema if exists ${schema} cascade`);
      removeDir();
    },
  };
}

async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresAdminUrl(process.env) });
  await client.connect();
  await client.query(statement).finally(() => client.end());
}
