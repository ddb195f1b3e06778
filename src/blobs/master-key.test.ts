import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/config.js';
import { MasterKey, newMasterKeyText, parseMasterKey } from './master-key.js';

describe('master keys', () => {
  const raw = randomBytes(32);

  it('are read from base64url, base64 or hex, after comment lines, and nothing else', () => {
    for (const text of [raw.toString('base64url'), raw.toString('base64'), raw.toString('hex'), `# a comment\n\n${raw.toString('base64url')}\n`]) {
      expect(parseMasterKey(text)).toEqual(raw);
    }
    for (const text of ['', '# only a comment', randomBytes(16).toString('base64url'), randomBytes(33).toString('base64'), `${raw.toString('hex')}0`, 'not a key at all, not at all, not at all!!']) {
      expect(parseMasterKey(text)).toBeNull();
    }
  });

  it('are generated as a key file naming the key\'s id, and the id does not reveal the key', () => {
    const text = newMasterKeyText();
    const key = new MasterKey(parseMasterKey(text)!);
    expect(text.split('\n')[0]).toBe(`# Fieldkeep master key ${key.id}. Keep a copy apart from the data: without it no stored file can be read.`);
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
    expect(new MasterKey(parseMasterKey(text)!).id).toBe(key.id);
    expect(new MasterKey(randomBytes(32)).id).not.toBe(key.id);
    expect(text).not.toContain(key.wrapKey.toString('base64url'));
  });

  it('as settings, must be keys, and a previous key needs a current one', () => {
    const fails = (env: Record<string, string>) => {
      try {
        loadConfig({ cwd: '/tmp', env });
        return [];
      } catch (err) {
        return (err as ConfigError).problems.map((p) => p.setting);
      }
    };
    expect(fails({ FIELDKEEP_MASTER_KEY: 'short' })).toEqual(['FIELDKEEP_MASTER_KEY']);
    expect(fails({ FIELDKEEP_MASTER_KEY: newMasterKeyText(), FIELDKEEP_MASTER_KEY_PREVIOUS: 'x' })).toEqual(['FIELDKEEP_MASTER_KEY_PREVIOUS']);
    expect(fails({ FIELDKEEP_MASTER_KEY_PREVIOUS: newMasterKeyText() })).toEqual(['FIELDKEEP_MASTER_KEY_PREVIOUS']);
    expect(fails({ FIELDKEEP_MASTER_KEY: newMasterKeyText(), FIELDKEEP_MASTER_KEY_PREVIOUS: newMasterKeyText() })).toEqual([]);
  });
});
