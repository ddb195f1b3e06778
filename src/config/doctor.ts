import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, describeDatabase, loadConfig, type Config, type ConfigSources } from './config.js';
import { migrationStatus, openDatabase, ping } from '../db/database.js';
import { backupDoctorCheck } from '../backups/doctor.js';
import { masterKeyDoctorCheck } from '../blobs/doctor.js';

export interface Check {
  name: string;
  ok: boolean;
  /** Worth acting on but not a failure: shown as WARN, and the exit status stays 0. */
  warning?: boolean;
  detail: string;
  fix?: string;
}

/**
 * `fieldkeep doctor`: every check an operator would otherwise discover one failed start at a time.
 * Returns the checks; the command prints them and exits non-zero if any failed.
 */
export async function runDoctor(sources: ConfigSources): Promise<Check[]> {
  let config: Config;
  try {
    config = loadConfig(sources);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => ({ name: `setting ${p.setting}`, ok: false, detail: p.message, fix: p.fix }));
  }
  return [
    { name: 'configuration', ok: true, detail: `${config.env} mode` },
    checkDataDir(config),
    checkSecretKey(config),
    masterKeyDoctorCheck(config, sources),
    checkTransport(config),
    await checkDatabase(config),
    await backupDoctorCheck(config),
  ];
}

function checkDataDir(config: Config): Check {
  const name = 'data directory';
  try {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    accessSync(config.dataDir, constants.W_OK);
    const probe = path.join(config.dataDir, `.doctor-${randomBytes(6).toString('hex')}`);
    writeFileSync(probe, 'ok');
    rmSync(probe);
    return { name, ok: true, detail: `${config.dataDir} is writable` };
  } catch (err) {
    return {
      name,
      ok: false,
      detail: `${config.dataDir} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      fix: `create it and give the server's user write access, or set FIELDKEEP_DATA_DIR elsewhere`,
    };
  }
}

function checkSecretKey(config: Config): Check {
  if (config.secretKey !== undefined) return { name: 'secret key', ok: true, detail: 'set explicitly' };
  return {
    name: 'secret key',
    ok: true,
    detail: `not set: generated once into ${path.join(config.dataDir, 'secret.key')} (development only; keep a copy with your backups)`,
  };
}

function checkTransport(config: Config): Check {
  const https = config.publicUrl.startsWith('https://');
  if (config.env === 'production' && !https) {
    return {
      name: 'TLS',
      ok: false,
      detail: `production mode serves ${config.publicUrl} without TLS: passwords and data would cross the network in clear`,
      fix: 'put a TLS-terminating proxy in front, then set FIELDKEEP_PUBLIC_URL=https://your.host and FIELDKEEP_TRUST_PROXY=true',
    };
  }
  return { name: 'TLS', ok: true, detail: https ? 'public URL uses HTTPS' : 'HTTP allowed in development mode' };
}

async function checkDatabase(config: Config): Promise<Check> {
  const name = 'database';
  const where = describeDatabase(config.database);
  let database;
  try {
    database = openDatabase(config);
    await ping(database);
  } catch (err) {
    await database?.close().catch(() => {});
    return {
      name,
      ok: false,
      detail: `${where} is unreachable (${(err as Error).message})`,
      fix: config.database.kind === 'postgres'
        ? 'check that PostgreSQL is running and DATABASE_URL names a reachable host, database and user'
        : 'check that the data directory is writable and the file is not corrupt',
    };
  }
  try {
    const status = await migrationStatus(database);
    if (status.pending.length > 0) {
      return { name, ok: false, detail: `${where}: ${status.pending.length} migration(s) pending`, fix: 'run `fieldkeep migrate` (or start the server, which migrates)' };
    }
    return { name, ok: true, detail: `${where}, schema current` };
  } finally {
    await database.close();
  }
}
