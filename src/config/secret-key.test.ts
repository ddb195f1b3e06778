import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { ensureSecretKey } from './secret-key.js';

describe('the generated secret key', () => {
  it('is made once, private to the owner, and reused', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-secret-'));
    const config = loadConfig({ env: { FIELDKEEP_DATA_DIR: dataDir }, cwd: dataDir });
    const first = ensureSecretKey(config).secretKey;
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(path.join(dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
    expect(ensureSecretKey(config).secretKey).toBe(first);
  });

  it('is not generated when one is configured', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-secret-'));
    const config = loadConfig({ env: { FIELDKEEP_DATA_DIR: dataDir, FIELDKEEP_SECRET_KEY: 's'.repeat(32) }, cwd: dataDir });
    expect(ensureSecretKey(config).secretKey).toBe('s'.repeat(32));
  });
});
