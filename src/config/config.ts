import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMasterKey } from '../blobs/master-key.js';
import { settings, type SettingName, type SettingSpec, type SettingType } from './settings.js';

export type DatabaseTarget =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string };

export interface Config {
  env: 'development' | 'production';
  host: string;
  port: number;
  dataDir: string;
  database: DatabaseTarget;
  publicUrl: string;
  /** Undefined until `ensureSecretKey` fills it from the data directory in development. */
  secretKey: string | undefined;
  /** The blob store's master key as configured; undefined: the key file in the data directory. */
  masterKey: string | undefined;
  masterKeyPrevious: string | undefined;
  trustProxy: boolean;
  logLevel: string;
  bodyLimit: number;
  http: HttpSettings;
  sqliteSynchronous: 'FULL' | 'NORMAL';
  dbPoolSize: number;
  shutdownTimeoutMs: number;
  auditAnchorIntervalMs: number;
  auditReadGroupMs: number;
  formMaxBytes: number;
  mediaMaxBytes: number;
  submissionMaxBytes: number;
  trashRetentionDays: number;
  blobDeleteGraceSeconds: number;
  passwordIterations: number;
  sessionIdleMinutes: number;
  sessionLifetimeHours: number;
  loginThrottle: LoginThrottleSettings;
  adminTwoFactor: boolean;
  basicAuthCacheSeconds: number;
  mail: MailSettings;
  jobs: JobSettings;
  backups: BackupSettings;
  exports: ExportSettings;
  /** The instance's own documents, linked from the web application; null when not set. */
  links: { privacyUrl: string | null; termsUrl: string | null };
  /** The map's base layer (XYZ template and its credit); null when the map has none. */
  map: { tileUrl: string | null; tileAttribution: string | null };
}

/** Connection limits of the HTTP server, against slow and idle clients (src/server/app.ts). */
export interface HttpSettings {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
}

export interface ExportSettings {
  cacheSeconds: number;
  retentionHours: number;
}

export interface BackupSettings {
  /** Where archives go: an absolute directory path, or `s3://bucket/prefix` (src/backups/location.ts). */
  dir: string;
  recipients: string[];
  passphrase: string | undefined;
  cron: string | undefined;
  keep: { daily: number; weekly: number; monthly: number };
  verifyIdentityFile: string | undefined;
  s3: BackupS3Settings;
}

/** The S3-compatible service `s3://` backup locations are on; no credentials: the AWS SDK's default chain. */
export interface BackupS3Settings {
  endpoint: string | undefined;
  region: string;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  pathStyle: boolean;
}

export interface JobSettings {
  concurrency: number;
  pollMs: number;
  staleMs: number;
}

export interface LoginThrottleSettings {
  accountFreeFailures: number;
  accountLockFailures: number;
  addressFreeFailures: number;
  addressLockFailures: number;
  lockMinutes: number;
}

export interface MailSettings {
  transport: 'log' | 'smtp';
  smtpUrl: string | undefined;
  from: string;
}

export interface ConfigProblem {
  setting: string;
  message: string;
  fix: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      'Fieldkeep cannot start because of its configuration:\n' +
        problems.map((p) => `  - ${p.setting}: ${p.message}\n    fix: ${p.fix}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  env: Record<string, string | undefined>;
  cwd: string;
}

type Raw = Partial<Record<SettingName, string>>;

/**
 * Reads every setting from the environment, `NAME_FILE` twins of secrets, and the optional JSON file
 * named by FIELDKEEP_CONFIG_FILE (the environment wins over the file). Collects every problem before
 * failing, so an operator fixes them all in one go.
 */
export function loadConfig(sources: ConfigSources): Config {
  const problems: ConfigProblem[] = [];
  const fileValues = readConfigFile(sources, problems);
  const raw: Raw = {};
  for (const name of Object.keys(settings) as SettingName[]) {
    const value = readSetting(name, settings[name], sources, fileValues, problems);
    if (value !== undefined) raw[name] = value;
  }
  const values = new Map<SettingName, string | number | boolean>();
  for (const name of Object.keys(settings) as SettingName[]) {
    const spec: SettingSpec = settings[name];
    const text = raw[name] ?? spec.default;
    if (text === undefined) continue;
    const parsed = parseValue(name, spec.type, text, problems);
    if (parsed !== undefined) values.set(name, parsed);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = toConfig(values, sources.cwd);
  checkCombinations(config, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readConfigFile(sources: ConfigSources, problems: ConfigProblem[]): Record<string, unknown> {
  const file = sources.env.FIELDKEEP_CONFIG_FILE;
  if (!file) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path.resolve(sources.cwd, file), 'utf8'));
  } catch (err) {
    problems.push({
      setting: 'FIELDKEEP_CONFIG_FILE',
      message: `cannot read ${file} as JSON (${(err as Error).message})`,
      fix: 'point it at a readable JSON file of {"SETTING_NAME": "value"} pairs, or unset it',
    });
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push({
      setting: 'FIELDKEEP_CONFIG_FILE',
      message: `${file} is not a JSON object`,
      fix: 'write the file as {"SETTING_NAME": "value", ...}',
    });
    return {};
  }
  for (const key of Object.keys(parsed)) {
    if (!Object.hasOwn(settings, key)) {
      problems.push({
        setting: 'FIELDKEEP_CONFIG_FILE',
        message: `${file} names an unknown setting ${JSON.stringify(key)}`,
        fix: `remove it; known settings are listed in the README`,
      });
    }
  }
  return parsed as Record<string, unknown>;
}

function readSetting(
  name: SettingName,
  spec: SettingSpec,
  sources: ConfigSources,
  fileValues: Record<string, unknown>,
  problems: ConfigProblem[],
): string | undefined {
  const direct = sources.env[name];
  const fileName = spec.secret ? sources.env[`${name}_FILE`] : undefined;
  if (direct !== undefined && direct !== '' && fileName) {
    problems.push({
      setting: name,
      message: `both ${name} and ${name}_FILE are set`,
      fix: `set only one of them`,
    });
    return undefined;
  }
  if (fileName) {
    try {
      return readFileSync(path.resolve(sources.cwd, fileName), 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push({
        setting: `${name}_FILE`,
        message: `cannot read ${fileName} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        fix: `make the file readable by the server's user, or set ${name} instead`,
      });
      return undefined;
    }
  }
  if (direct !== undefined && direct !== '') return direct;
  const fromFile = fileValues[name];
  if (fromFile === undefined || fromFile === null) return undefined;
  if (typeof fromFile === 'object') {
    problems.push({
      setting: name,
      message: 'the config file gives it an object or list',
      fix: 'give a string, number or boolean',
    });
    return undefined;
  }
  return String(fromFile);
}

function parseValue(
  name: SettingName,
  type: SettingType,
  text: string,
  problems: ConfigProblem[],
): string | number | boolean | undefined {
  switch (type.kind) {
    case 'string':
      return text;
    case 'int': {
      const n = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
      if (!Number.isSafeInteger(n) || n < type.min || n > type.max) {
        problems.push({
          setting: name,
          message: `${JSON.stringify(text)} is not a whole number from ${type.min} to ${type.max}`,
          fix: `set ${name} to a whole number in that range`,
        });
        return undefined;
      }
      return n;
    }
    case 'bool': {
      const v = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      problems.push({ setting: name, message: `${JSON.stringify(text)} is not a boolean`, fix: `set ${name} to true or false` });
      return undefined;
    }
    case 'enum': {
      const match = type.values.find((v) => v.toLowerCase() === text.trim().toLowerCase());
      if (match === undefined) {
        problems.push({
          setting: name,
          message: `${JSON.stringify(text)} is not one of ${type.values.join(', ')}`,
          fix: `set ${name} to one of ${type.values.join(', ')}`,
        });
      }
      return match;
    }
    case 'url': {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        problems.push({ setting: name, message: 'is not a valid URL', fix: `set ${name} to an absolute URL such as ${exampleUrl(type)}` });
        return undefined;
      }
      if (!type.protocols.includes(url.protocol)) {
        problems.push({
          setting: name,
          message: `uses ${url.protocol.replace(/:$/, '')}://, which is not supported`,
          fix: `use one of ${type.protocols.map((p) => p.replace(/:$/, '://')).join(', ')}`,
        });
        return undefined;
      }
      return text;
    }
  }
}

function exampleUrl(type: Extract<SettingType, { kind: 'url' }>): string {
  return type.protocols.includes('postgres:') ? 'postgres://user@host:5432/fieldkeep' : 'https://data.example.org';
}

function toConfig(values: Map<SettingName, string | number | boolean>, cwd: string): Config {
  const get = <T extends string | number | boolean>(name: SettingName) => values.get(name) as T;
  const dataDir = path.resolve(cwd, get<string>('FIELDKEEP_DATA_DIR'));
  const host = get<string>('FIELDKEEP_HOST');
  const port = get<number>('FIELDKEEP_PORT');
  const databaseUrl = values.get('DATABASE_URL') as string | undefined;
  const publicUrl = (values.get('FIELDKEEP_PUBLIC_URL') as string | undefined) ?? `http://${hostForUrl(host)}:${port}`;
  return {
    env: get('FIELDKEEP_ENV'),
    host,
    port,
    dataDir,
    database: databaseTarget(databaseUrl, dataDir),
    publicUrl: publicUrl.replace(/\/+$/, ''),
    secretKey: values.get('FIELDKEEP_SECRET_KEY') as string | undefined,
    masterKey: values.get('FIELDKEEP_MASTER_KEY') as string | undefined,
    masterKeyPrevious: values.get('FIELDKEEP_MASTER_KEY_PREVIOUS') as string | undefined,
    trustProxy: get('FIELDKEEP_TRUST_PROXY'),
    logLevel: get('FIELDKEEP_LOG_LEVEL'),
    bodyLimit: get('FIELDKEEP_BODY_LIMIT'),
    http: {
      headersTimeoutMs: get('FIELDKEEP_HEADERS_TIMEOUT_MS'),
      requestTimeoutMs: get('FIELDKEEP_REQUEST_TIMEOUT_MS'),
      idleTimeoutMs: get('FIELDKEEP_IDLE_TIMEOUT_MS'),
      keepAliveTimeoutMs: get('FIELDKEEP_KEEP_ALIVE_TIMEOUT_MS'),
      maxConnections: get('FIELDKEEP_MAX_CONNECTIONS'),
    },
    sqliteSynchronous: get('FIELDKEEP_SQLITE_SYNCHRONOUS'),
    dbPoolSize: get('FIELDKEEP_DB_POOL_SIZE'),
    shutdownTimeoutMs: get('FIELDKEEP_SHUTDOWN_TIMEOUT_MS'),
    auditAnchorIntervalMs: get('FIELDKEEP_AUDIT_ANCHOR_INTERVAL_MS'),
    auditReadGroupMs: get('FIELDKEEP_AUDIT_READ_GROUP_MS'),
    formMaxBytes: get('FIELDKEEP_FORM_MAX_BYTES'),
    mediaMaxBytes: get('FIELDKEEP_MEDIA_MAX_BYTES'),
    submissionMaxBytes: get('FIELDKEEP_SUBMISSION_MAX_BYTES'),
    trashRetentionDays: get('FIELDKEEP_TRASH_RETENTION_DAYS'),
    blobDeleteGraceSeconds: get('FIELDKEEP_BLOB_DELETE_GRACE_SECONDS'),
    passwordIterations: get('FIELDKEEP_PASSWORD_ITERATIONS'),
    sessionIdleMinutes: get('FIELDKEEP_SESSION_IDLE_MINUTES'),
    sessionLifetimeHours: get('FIELDKEEP_SESSION_LIFETIME_HOURS'),
    loginThrottle: {
      accountFreeFailures: get('FIELDKEEP_LOGIN_FREE_FAILURES'),
      accountLockFailures: get('FIELDKEEP_LOGIN_LOCK_FAILURES'),
      addressFreeFailures: get('FIELDKEEP_LOGIN_ADDRESS_FREE_FAILURES'),
      addressLockFailures: get('FIELDKEEP_LOGIN_ADDRESS_LOCK_FAILURES'),
      lockMinutes: get('FIELDKEEP_LOGIN_LOCK_MINUTES'),
    },
    adminTwoFactor: get('FIELDKEEP_ADMIN_TWO_FACTOR'),
    basicAuthCacheSeconds: get('FIELDKEEP_BASIC_AUTH_CACHE_SECONDS'),
    mail: {
      transport: get('FIELDKEEP_MAIL_TRANSPORT'),
      smtpUrl: values.get('FIELDKEEP_SMTP_URL') as string | undefined,
      from: get('FIELDKEEP_MAIL_FROM'),
    },
    jobs: {
      concurrency: get('FIELDKEEP_JOB_CONCURRENCY'),
      pollMs: get('FIELDKEEP_JOB_POLL_MS'),
      staleMs: get<number>('FIELDKEEP_JOB_STALE_SECONDS') * 1000,
    },
    backups: {
      dir: backupLocation((values.get('FIELDKEEP_BACKUP_DIR') as string | undefined) ?? 'backups', dataDir),
      recipients: ((values.get('FIELDKEEP_BACKUP_RECIPIENTS') as string | undefined) ?? '').split(/[\s,]+/).filter((r) => r !== ''),
      passphrase: values.get('FIELDKEEP_BACKUP_PASSPHRASE') as string | undefined,
      cron: values.get('FIELDKEEP_BACKUP_CRON') as string | undefined,
      keep: { daily: get('FIELDKEEP_BACKUP_KEEP_DAILY'), weekly: get('FIELDKEEP_BACKUP_KEEP_WEEKLY'), monthly: get('FIELDKEEP_BACKUP_KEEP_MONTHLY') },
      verifyIdentityFile: values.get('FIELDKEEP_BACKUP_VERIFY_IDENTITY_FILE') as string | undefined,
      s3: {
        endpoint: values.get('FIELDKEEP_BACKUP_S3_ENDPOINT') as string | undefined,
        region: get('FIELDKEEP_BACKUP_S3_REGION'),
        accessKeyId: values.get('FIELDKEEP_BACKUP_S3_ACCESS_KEY_ID') as string | undefined,
        secretAccessKey: values.get('FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY') as string | undefined,
        pathStyle: get('FIELDKEEP_BACKUP_S3_PATH_STYLE'),
      },
    },
    exports: {
      cacheSeconds: get('FIELDKEEP_EXPORT_CACHE_SECONDS'),
      retentionHours: get('FIELDKEEP_EXPORT_RETENTION_HOURS'),
    },
    links: {
      privacyUrl: (values.get('FIELDKEEP_PRIVACY_URL') as string | undefined) ?? null,
      termsUrl: (values.get('FIELDKEEP_TERMS_URL') as string | undefined) ?? null,
    },
    map: {
      tileUrl: (values.get('FIELDKEEP_MAP_TILE_URL') as string | undefined) ?? null,
      tileAttribution: (values.get('FIELDKEEP_MAP_TILE_ATTRIBUTION') as string | undefined) ?? null,
    },
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** A backup directory relative to the data directory, or an `s3://` location as it is. */
function backupLocation(text: string, dataDir: string): string {
  return /^s3:\/\//i.test(text) ? text : path.resolve(dataDir, text);
}

function databaseTarget(url: string | undefined, dataDir: string): DatabaseTarget {
  if (url === undefined) return { kind: 'sqlite', path: path.join(dataDir, 'fieldkeep.sqlite') };
  if (url.startsWith('sqlite:')) {
    const file = decodeURIComponent(url.slice('sqlite:'.length).replace(/^\/\//, ''));
    return { kind: 'sqlite', path: path.resolve(dataDir, file) };
  }
  return { kind: 'postgres', url };
}

function checkCombinations(config: Config, problems: ConfigProblem[]): void {
  if (config.secretKey !== undefined && config.secretKey.length < 32) {
    problems.push({
      setting: 'FIELDKEEP_SECRET_KEY',
      message: 'is shorter than 32 characters',
      fix: 'generate one with: node -e "console.log(require(\'node:crypto\').randomBytes(32).toString(\'base64url\'))"',
    });
  }
  for (const [setting, value] of [['FIELDKEEP_MASTER_KEY', config.masterKey], ['FIELDKEEP_MASTER_KEY_PREVIOUS', config.masterKeyPrevious]] as const) {
    if (value !== undefined && parseMasterKey(value) === null) {
      problems.push({ setting, message: 'is not a 32-byte key in base64url, base64 or hex', fix: 'generate one with `fieldkeep master-key generate` (keep a copy apart from the data)' });
    }
  }
  if (config.masterKeyPrevious !== undefined && config.masterKey === undefined) {
    problems.push({
      setting: 'FIELDKEEP_MASTER_KEY_PREVIOUS',
      message: 'is set but FIELDKEEP_MASTER_KEY is not',
      fix: 'set FIELDKEEP_MASTER_KEY to the new key as well; to rotate the generated key file, just run `fieldkeep master-key rotate`',
    });
  }
  if (config.mail.transport === 'smtp' && config.mail.smtpUrl === undefined) {
    problems.push({
      setting: 'FIELDKEEP_SMTP_URL',
      message: 'is required when FIELDKEEP_MAIL_TRANSPORT is smtp',
      fix: 'set FIELDKEEP_SMTP_URL (or FIELDKEEP_SMTP_URL_FILE) to smtps://user:pass@host:465, or use FIELDKEEP_MAIL_TRANSPORT=log',
    });
  }
  const s3 = config.backups.s3;
  if ((s3.accessKeyId === undefined) !== (s3.secretAccessKey === undefined)) {
    problems.push({
      setting: s3.accessKeyId === undefined ? 'FIELDKEEP_BACKUP_S3_ACCESS_KEY_ID' : 'FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY',
      message: 'is required with the other half of the S3 key',
      fix: 'set both FIELDKEEP_BACKUP_S3_ACCESS_KEY_ID and FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY (or their _FILE twins), or neither to use the AWS SDK\'s default credentials',
    });
  }
  if (config.http.headersTimeoutMs > config.http.requestTimeoutMs) {
    problems.push({
      setting: 'FIELDKEEP_HEADERS_TIMEOUT_MS',
      message: `must not exceed FIELDKEEP_REQUEST_TIMEOUT_MS (${config.http.requestTimeoutMs}): the headers are part of the request`,
      fix: 'lower FIELDKEEP_HEADERS_TIMEOUT_MS or raise FIELDKEEP_REQUEST_TIMEOUT_MS',
    });
  }
  const limits = config.loginThrottle;
  const throttlePairs = [
    ['FIELDKEEP_LOGIN_FREE_FAILURES', limits.accountFreeFailures, 'FIELDKEEP_LOGIN_LOCK_FAILURES', limits.accountLockFailures],
    ['FIELDKEEP_LOGIN_ADDRESS_FREE_FAILURES', limits.addressFreeFailures, 'FIELDKEEP_LOGIN_ADDRESS_LOCK_FAILURES', limits.addressLockFailures],
  ] as const;
  for (const [free, freeValue, lock, lockValue] of throttlePairs) {
    if (lockValue <= freeValue) {
      problems.push({ setting: lock, message: `must be greater than ${free} (${freeValue})`, fix: `raise ${lock} or lower ${free}` });
    }
  }
  if (config.map.tileUrl !== null && tileOrigin(config.map.tileUrl) === undefined) {
    problems.push({
      setting: 'FIELDKEEP_MAP_TILE_URL',
      message: 'is not an http(s) address or a path with {z}, {x} and {y}',
      fix: 'set it like https://tiles.example.org/{z}/{x}/{y}.png or /tiles/{z}/{x}/{y}.png, or unset it for a map without a base layer',
    });
  }
  if (config.env === 'production' && config.secretKey === undefined) {
    problems.push({
      setting: 'FIELDKEEP_SECRET_KEY',
      message: 'is required in production (a generated key in the data directory would be lost with it)',
      fix: 'set FIELDKEEP_SECRET_KEY or FIELDKEEP_SECRET_KEY_FILE to at least 32 random characters, and keep a copy',
    });
  }
}

/**
 * The origin a tile template loads images from: null for a path on this server, undefined when
 * the template is not usable (no {z}/{x}/{y}, another scheme, or a policy-breaking character).
 */
export function tileOrigin(template: string): string | null | undefined {
  if (!['{z}', '{x}', '{y}'].every((part) => template.includes(part)) || /[\s;,'"]/.test(template)) return undefined;
  if (template.startsWith('/') && !template.startsWith('//')) return null;
  try {
    const url = new URL(template);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The settings as they are safe to show: secrets masked. */
export function describeDatabase(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') return `SQLite at ${target.path}`;
  const url = new URL(target.url);
  if (url.password) url.password = '***';
  return `PostgreSQL at ${url.toString()}`;
}
