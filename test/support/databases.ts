import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import type { DatabaseTarget } from '../../src/config/config.js';

export const databaseKinds = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof databaseKinds)[number];

/** Runs the same suite once per database; the PostgreSQL copy says why when it cannot run. */
export function describeEachDatabase(title: string, body: (kind: DatabaseKind) => void): void {
  const postgres = inject('postgres');
  for (const kind of databaseKinds) {
    const skipReason = kind === 'postgres' && 'skipReason' in postgres ? postgres.skipReason : undefined;
    describe.skipIf(skipReason !== undefined)(`${title} [${kind}]${skipReason ? ` — SKIPPED: ${skipReason}` : ''}`, () =>
      body(kind),
    );
  }
}

export interface ScratchStorage {
  /** A fresh data directory (blobs, SQLite file, generated secret). */
  dataDir: string;
  target: DatabaseTarget;
  /** The settings an operator would give to use this storage. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A scratch database for the enclosing describe block, dropped after it. */
export function useScratchStorage(kind: DatabaseKind): () => ScratchStorage {
  let storage: ScratchStorage | undefined;
  beforeAll(async () => {
    storage = await createScratchStorage(kind);
  });
  afterAll(async () => storage?.drop());
  return () => {
    if (!storage) throw new Error('the scratch storage is not created yet');
    return storage;
  };
}

/**
 * A throwaway database of the given kind: a temporary directory for SQLite, or a fresh schema in
 * the test PostgreSQL database (selected through `search_path`, so migrations and queries land in
 * it and nowhere else), removed by `drop()`.
 */
export async function createScratchStorage(kind: DatabaseKind): Promise<ScratchStorage> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-test-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  if (kind === 'sqlite') {
    return {
      dataDir,
      target: { kind: 'sqlite', path: path.join(dataDir, 'fieldkeep.sqlite') },
      env: { FIELDKEEP_DATA_DIR: dataDir },
      drop: async () => removeDir(),
    };
  }
  const postgres = inject('postgres');
  if (!('url' in postgres)) throw new Error(postgres.skipReason);
  const schema = `fk_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient(postgres.url, (c) => c.query(`create schema ${schema}`));
  const url = new URL(postgres.url);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    dataDir,
    target: { kind: 'postgres', url: url.toString() },
    env: { FIELDKEEP_DATA_DIR: dataDir, DATABASE_URL: url.toString() },
    drop: async () => {
      await withAdminClient(postgres.url, (c) => c.query(`drop schema ${schema} cascade`));
      removeDir();
    },
  };
}

async function withAdminClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
