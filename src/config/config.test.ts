import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeDatabase, loadConfig } from './config.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'fieldkeep-config-'));
const load = (env: Record<string, string | undefined>) => loadConfig({ env, cwd });

function problemsOf(env: Record<string, string | undefined>) {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a configuration error');
}

describe('configuration', () => {
  it('has defaults that start a single machine with nothing set', () => {
    const config = load({});
    expect(config).toMatchObject({
      env: 'development',
      host: '127.0.0.1',
      port: 8080,
      dataDir: path.join(cwd, 'data'),
      database: { kind: 'sqlite', path: path.join(cwd, 'data', 'fieldkeep.sqlite') },
      publicUrl: 'http://127.0.0.1:8080',
      trustProxy: false,
      sqliteSynchronous: 'FULL',
    });
  });

  it('reads the documented names', () => {
    const config = load({
      FIELDKEEP_HOST: '0.0.0.0',
      FIELDKEEP_PORT: '9000',
      FIELDKEEP_DATA_DIR: '/srv/fieldkeep',
      DATABASE_URL: 'postgres://fk:pw@db:5432/fieldkeep',
      FIELDKEEP_PUBLIC_URL: 'https://data.example.org/',
      FIELDKEEP_TRUST_PROXY: 'yes',
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      dataDir: '/srv/fieldkeep',
      database: { kind: 'postgres', url: 'postgres://fk:pw@db:5432/fieldkeep' },
      publicUrl: 'https://data.example.org',
      trustProxy: true,
    });
  });

  it('masks the database password when describing it', () => {
    const config = load({ DATABASE_URL: 'postgres://fk:hunter2hunter2@db:5432/fieldkeep' });
    expect(describeDatabase(config.database)).not.toContain('hunter2');
  });

  it('accepts a sqlite: URL relative to the data directory', () => {
    expect(load({ DATABASE_URL: 'sqlite:other.sqlite' }).database).toEqual({ kind: 'sqlite', path: path.join(cwd, 'data', 'other.sqlite') });
  });

  it.each([
    ['FIELDKEEP_PORT', 'eighty', /whole number/],
    ['FIELDKEEP_PORT', '70000', /from 0 to 65535/],
    ['FIELDKEEP_TRUST_PROXY', 'maybe', /not a boolean/],
    ['FIELDKEEP_ENV', 'staging', /not one of development, production/],
    ['DATABASE_URL', 'mysql://db/fk', /mysql:\/\/, which is not supported/],
    ['DATABASE_URL', 'not a url', /not a valid URL/],
    ['FIELDKEEP_PUBLIC_URL', 'ftp://x', /not supported/],
    ['FIELDKEEP_SECRET_KEY', 'short', /shorter than 32/],
  ])('refuses %s=%s, naming the setting and the fix', (name, value, message) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.setting).toBe(name);
    expect(problems[0]?.message).toMatch(message);
    expect(problems[0]?.fix.length).toBeGreaterThan(10);
  });

  it('reports every problem at once', () => {
    expect(problemsOf({ FIELDKEEP_PORT: 'x', FIELDKEEP_ENV: 'y' }).map((p) => p.setting)).toEqual(['FIELDKEEP_ENV', 'FIELDKEEP_PORT']);
  });

  it('requires an explicit secret key in production', () => {
    expect(problemsOf({ FIELDKEEP_ENV: 'production' }).map((p) => p.setting)).toEqual(['FIELDKEEP_SECRET_KEY']);
  });

  it('reads secrets from their _FILE twins, without the trailing newline', () => {
    const file = path.join(cwd, 'secret.txt');
    writeFileSync(file, 'k'.repeat(40) + '\n');
    expect(load({ FIELDKEEP_SECRET_KEY_FILE: file }).secretKey).toBe('k'.repeat(40));
  });

  it('refuses a secret given both directly and as a file', () => {
    const file = path.join(cwd, 'secret2.txt');
    writeFileSync(file, 'k'.repeat(40));
    expect(problemsOf({ FIELDKEEP_SECRET_KEY: 'k'.repeat(40), FIELDKEEP_SECRET_KEY_FILE: file })[0]?.message).toMatch(/both/);
  });

  it('says which _FILE cannot be read', () => {
    expect(problemsOf({ DATABASE_URL_FILE: '/nonexistent/db-url' })[0]?.setting).toBe('DATABASE_URL_FILE');
  });

  it('offers no _FILE twin for settings that are not secrets', () => {
    expect(load({ FIELDKEEP_PORT_FILE: '/nonexistent' }).port).toBe(8080);
  });

  it('reads an optional JSON file, with the environment taking precedence', () => {
    const file = path.join(cwd, 'fieldkeep.json');
    writeFileSync(file, JSON.stringify({ FIELDKEEP_PORT: 9100, FIELDKEEP_HOST: '10.0.0.1' }));
    const config = load({ FIELDKEEP_CONFIG_FILE: file, FIELDKEEP_HOST: '127.0.0.2' });
    expect(config.port).toBe(9100);
    expect(config.host).toBe('127.0.0.2');
  });

  it('refuses a config file with unknown settings or that is not JSON', () => {
    const unknown = path.join(cwd, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ FIELDKEEP_PROT: 1 }));
    expect(problemsOf({ FIELDKEEP_CONFIG_FILE: unknown })[0]?.message).toMatch(/unknown setting "FIELDKEEP_PROT"/);
    const broken = path.join(cwd, 'broken.json');
    writeFileSync(broken, '{ nope');
    expect(problemsOf({ FIELDKEEP_CONFIG_FILE: broken })[0]?.setting).toBe('FIELDKEEP_CONFIG_FILE');
  });

  it('formats its error so an operator knows what to change', () => {
    expect(() => load({ FIELDKEEP_PORT: 'x' })).toThrow(/FIELDKEEP_PORT: .*\n\s+fix: /);
  });
});
