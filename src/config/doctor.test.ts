import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEachDatabase, useScratchStorage } from '../../test/support/databases.js';
import { migrateToLatest, openDatabase } from '../db/database.js';
import { runDoctor } from './doctor.js';

const byName = (checks: Awaited<ReturnType<typeof runDoctor>>, name: string) => checks.find((c) => c.name === name);

describeEachDatabase('fieldkeep doctor', (kind) => {
  const scratch = useScratchStorage(kind);

  it('says the schema is not current before migration, and passes after', async () => {
    const storage = scratch();
    const env = storage.env;
    const before = await runDoctor({ env, cwd: storage.dataDir });
    expect(byName(before, 'database')).toMatchObject({ ok: false, fix: expect.stringContaining('fieldkeep migrate') });
    const database = openDatabase({ database: storage.target, sqliteSynchronous: 'FULL', dbPoolSize: 1 });
    await migrateToLatest(database);
    await database.close();
    const after = await runDoctor({ env, cwd: storage.dataDir });
    expect(after.every((c) => c.ok)).toBe(true);
  });
});

describe('fieldkeep doctor without a working setup', () => {
  const cwd = mkdtempSync(path.join(tmpdir(), 'fieldkeep-doctor-'));

  it('turns configuration errors into failed checks with fixes', async () => {
    const checks = await runDoctor({ env: { FIELDKEEP_PORT: 'abc' }, cwd });
    expect(checks).toEqual([expect.objectContaining({ name: 'setting FIELDKEEP_PORT', ok: false, fix: expect.any(String) })]);
  });

  it('fails production mode served over plain HTTP', async () => {
    const checks = await runDoctor({
      env: { FIELDKEEP_ENV: 'production', FIELDKEEP_SECRET_KEY: 'x'.repeat(40), FIELDKEEP_DATA_DIR: path.join(cwd, 'prod') },
      cwd,
    });
    expect(byName(checks, 'TLS')).toMatchObject({ ok: false, fix: expect.stringContaining('https://') });
  });

  it('passes production mode behind HTTPS', async () => {
    const checks = await runDoctor({
      env: {
        FIELDKEEP_ENV: 'production',
        FIELDKEEP_SECRET_KEY: 'x'.repeat(40),
        FIELDKEEP_PUBLIC_URL: 'https://data.example.org',
        FIELDKEEP_DATA_DIR: path.join(cwd, 'prod2'),
      },
      cwd,
    });
    expect(byName(checks, 'TLS')?.ok).toBe(true);
  });

  it('fails an unreachable database, saying what to check', async () => {
    const checks = await runDoctor({ env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', FIELDKEEP_DATA_DIR: path.join(cwd, 'd') }, cwd });
    expect(byName(checks, 'database')).toMatchObject({ ok: false, detail: expect.stringContaining('unreachable') });
  });

  it('fails a data directory that cannot be created (even for root: its parent is a file)', async () => {
    const file = path.join(cwd, 'a-file');
    writeFileSync(file, '');
    const checks = await runDoctor({ env: { FIELDKEEP_DATA_DIR: path.join(file, 'data') }, cwd });
    expect(byName(checks, 'data directory')).toMatchObject({ ok: false, detail: expect.stringContaining('ENOTDIR') });
  });
});
