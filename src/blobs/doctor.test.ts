import { chmodSync, existsSync, linkSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { masterKeyDoctorCheck } from './doctor.js';
import { keyFiles } from './keys.js';
import { newMasterKeyText } from './master-key.js';
import { openBlobStore } from './open.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'fieldkeep-key-doctor-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function setup(extra: Record<string, string> = {}) {
  const cwd = mkdtempSync(path.join(scratch, 'fieldkeep-key-doctor-'));
  const env = { FIELDKEEP_DATA_DIR: path.join(cwd, 'data'), ...extra };
  const check = () => masterKeyDoctorCheck(loadConfig({ cwd, env }), { cwd, env });
  const store = () => openBlobStore(ensureSecretKey(loadConfig({ cwd, env })));
  return { cwd, env, check, store, files: keyFiles(env.FIELDKEEP_DATA_DIR) };
}

describe('fieldkeep doctor on the master key', () => {
  it('warns (without failing, and without making one) that the key is not made yet', () => {
    const { check, files } = setup();
    expect(check()).toMatchObject({ name: 'master key', ok: true, warning: true, detail: expect.stringContaining('not created yet') });
    expect(existsSync(files.current)).toBe(false);
  });

  it('passes a generated key of mode 0600, and warns once others may read it', () => {
    const { check, store, files } = setup();
    const id = store().keyring.current.id;
    expect(check()).toEqual({ name: 'master key', ok: true, detail: `master key ${id} from ${files.current}` });
    chmodSync(files.current, 0o644);
    expect(check()).toMatchObject({ ok: true, warning: true, detail: expect.stringContaining('can be read by other users'), fix: `chmod 600 ${files.current}` });
  });

  it('fails when the key is gone but files need it, or the configured key is not theirs', async () => {
    const { check, store, files, cwd, env } = setup();
    await store().put(Buffer.from('a photo'));
    rmSync(files.current);
    expect(check()).toMatchObject({ ok: false, detail: expect.stringContaining('the server will not start'), fix: expect.stringContaining('put the key file back') });
    const other = { ...env, FIELDKEEP_MASTER_KEY: newMasterKeyText() };
    expect(masterKeyDoctorCheck(loadConfig({ cwd, env: other }), { cwd, env: other })).toMatchObject({ ok: false, detail: expect.stringContaining('blob.master_key_unknown') });
  });

  it('warns about an unfinished rotation and, in production, a key kept in the data directory', () => {
    const { check, store, files } = setup({ FIELDKEEP_ENV: 'production', FIELDKEEP_SECRET_KEY: 'x'.repeat(40) });
    store();
    linkSync(files.current, files.previous);
    const result = check();
    expect(result).toMatchObject({ ok: true, warning: true });
    expect(result.detail).toContain('a rotation is unfinished');
    expect(result.detail).toContain('kept in the data directory');
    expect(result.fix).toContain('FIELDKEEP_MASTER_KEY_FILE');
  });

  it('checks the permissions of a FIELDKEEP_MASTER_KEY_FILE', () => {
    const cwd = mkdtempSync(path.join(scratch, 'fieldkeep-key-doctor-'));
    writeFileSync(path.join(cwd, 'master.key'), newMasterKeyText(), { mode: 0o640 });
    chmodSync(path.join(cwd, 'master.key'), 0o640);
    const env = { FIELDKEEP_DATA_DIR: path.join(cwd, 'data'), FIELDKEEP_MASTER_KEY_FILE: 'master.key' };
    expect(masterKeyDoctorCheck(loadConfig({ cwd, env }), { cwd, env })).toMatchObject({ ok: true, warning: true, detail: expect.stringContaining('from FIELDKEEP_MASTER_KEY; ') });
    chmodSync(path.join(cwd, 'master.key'), 0o600);
    expect(masterKeyDoctorCheck(loadConfig({ cwd, env }), { cwd, env })).toMatchObject({ ok: true, detail: expect.not.stringContaining('other users') });
  });
});
