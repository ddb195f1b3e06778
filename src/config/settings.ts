/**
 * The one table of Fieldkeep's settings.
 *
 * Every setting has a name (the environment variable), a type, a default and a one-line
 * description; the README's configuration table is generated from this table and a test keeps
 * the two in step. Secrets can also be read from `NAME_FILE` (Docker and systemd credentials),
 * so they need never appear in the environment or in a process listing.
 */

export type SettingType =
  | { kind: 'string' }
  | { kind: 'int'; min: number; max: number }
  | { kind: 'bool' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'url'; protocols: readonly string[] };

export interface SettingSpec {
  readonly type: SettingType;
  /** The default as the environment would spell it; `undefined` means "unset". */
  readonly default: string | undefined;
  /** What the default means when it is computed rather than literal. */
  readonly defaultText?: string;
  readonly description: string;
  readonly secret?: boolean;
}

const bool = { kind: 'bool' } as const;
const str = { kind: 'string' } as const;
const int = (min: number, max: number) => ({ kind: 'int', min, max }) as const;
const oneOf = <const T extends readonly string[]>(...values: T) => ({ kind: 'enum', values }) as const;

export const settings = {
  FIELDKEEP_ENV: {
    type: oneOf('development', 'production'),
    default: 'development',
    description: 'production enables the strict checks (TLS, explicit secrets); development relaxes them for one machine.',
  },
  FIELDKEEP_HOST: {
    type: str,
    default: '127.0.0.1',
    description: 'Address the HTTP server listens on; 0.0.0.0 to listen on every interface.',
  },
  FIELDKEEP_PORT: {
    type: int(0, 65535),
    default: '8080',
    description: 'TCP port the HTTP server listens on (0 picks a free port).',
  },
  FIELDKEEP_DATA_DIR: {
    type: str,
    default: './data',
    description: 'Directory for the SQLite database, blobs (attachments) and generated secrets.',
  },
  DATABASE_URL: {
    type: { kind: 'url', protocols: ['postgres:', 'postgresql:', 'sqlite:'] },
    default: undefined,
    defaultText: 'SQLite at `<data dir>/fieldkeep.sqlite`',
    description: 'postgres://user:pass@host:5432/db for PostgreSQL (>= 14), or sqlite:/path/to/file.sqlite.',
    secret: true,
  },
  FIELDKEEP_PUBLIC_URL: {
    type: { kind: 'url', protocols: ['http:', 'https:'] },
    default: undefined,
    defaultText: '`http://<host>:<port>`',
    description: 'External base URL used in links the server hands out (OpenRosa download URLs, emails).',
  },
  FIELDKEEP_SECRET_KEY: {
    type: str,
    default: undefined,
    defaultText: 'generated once into `<data dir>/secret.key`',
    description: 'Server secret (at least 32 characters): keys for signed tokens and for attachments encrypted at rest. Back it up apart from the data: without it attachments cannot be read. Required explicitly in production.',
    secret: true,
  },
  FIELDKEEP_TRUST_PROXY: {
    type: bool,
    default: 'false',
    description: 'Trust X-Forwarded-* headers; turn on only behind a reverse proxy you control.',
  },
  FIELDKEEP_LOG_LEVEL: {
    type: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
    default: 'info',
    description: 'Minimum level of log lines written to standard output.',
  },
  FIELDKEEP_BODY_LIMIT: {
    type: int(1024, 64 * 1024 * 1024),
    default: String(1024 * 1024),
    description: 'Largest JSON request body in bytes; uploads have their own limits.',
  },
  FIELDKEEP_SQLITE_SYNCHRONOUS: {
    type: oneOf('FULL', 'NORMAL'),
    default: 'FULL',
    description: 'SQLite durability: FULL survives power loss after a commit; NORMAL survives only a process crash.',
  },
  FIELDKEEP_DB_POOL_SIZE: {
    type: int(1, 200),
    default: '10',
    description: 'PostgreSQL connections per server process.',
  },
  FIELDKEEP_SHUTDOWN_TIMEOUT_MS: {
    type: int(0, 600_000),
    default: '10000',
    description: 'How long a graceful shutdown waits for in-flight requests before it forces the exit.',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof settings;
