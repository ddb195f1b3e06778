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
    description: 'Server secret (at least 32 characters): keys for signed tokens, sealed columns and the ids (keyed content hashes) of stored files, and the key of files stored before FIELDKEEP_MASTER_KEY existed (until `fieldkeep blobs encrypt`). Back it up apart from the data. Required explicitly in production.',
    secret: true,
  },
  FIELDKEEP_MASTER_KEY: {
    type: str,
    default: undefined,
    defaultText: 'generated once into `<data dir>/master.key` (mode 0600)',
    description: 'Master key (32 bytes in base64url, base64 or hex; `fieldkeep master-key generate` makes one) that wraps the key of every stored file (attachments, form files, exports), so the database and blob directory alone reveal no content. Keep a copy apart from the data: without it no file can be read. See docs/encryption.md.',
    secret: true,
  },
  FIELDKEEP_MASTER_KEY_PREVIOUS: {
    type: str,
    default: undefined,
    defaultText: '`<data dir>/master.key.previous` while a rotation of the generated key is unfinished',
    description: 'The master key being rotated away from: files still wrapped under it stay readable until `fieldkeep master-key rotate` has re-wrapped them all under FIELDKEEP_MASTER_KEY; then remove it.',
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
  FIELDKEEP_HEADERS_TIMEOUT_MS: {
    type: int(1000, 600_000),
    default: '30000',
    description: 'A connection that has not sent its complete request headers this long after starting them is closed (against slow-header attacks).',
  },
  FIELDKEEP_REQUEST_TIMEOUT_MS: {
    type: int(1000, 86_400_000),
    default: '900000',
    description: 'The whole request, headers and body, must arrive within this time or the connection is closed with 408; bounds how long a client dribbling an upload can hold a connection. Leave room for the largest submission over the slowest network phones use.',
  },
  FIELDKEEP_IDLE_TIMEOUT_MS: {
    type: int(1000, 3_600_000),
    default: '120000',
    description: 'A connection on which nothing is received or sent for this long is closed (a stalled upload, a client gone silent).',
  },
  FIELDKEEP_KEEP_ALIVE_TIMEOUT_MS: {
    type: int(1000, 600_000),
    default: '72000',
    description: 'How long an idle keep-alive connection is kept for the next request; longer than a reverse proxy\'s own idle timeout (often 60 s), so the proxy never reuses a connection the server is closing.',
  },
  FIELDKEEP_MAX_CONNECTIONS: {
    type: int(16, 1_000_000),
    default: '2048',
    description: 'Open client connections one server process accepts at once; connections beyond it are closed at once, so slow or idle clients cannot exhaust the process (keep it below the open-files limit).',
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
  FIELDKEEP_AUDIT_ANCHOR_INTERVAL_MS: {
    type: int(0, 7 * 24 * 3_600_000),
    default: '3600000',
    description: 'How often the audit chain\'s head (last id and hash) is written to the log, as an external anchor for `audit verify --anchor`; 0 writes it only at start.',
  },
  FIELDKEEP_FORM_MAX_BYTES: {
    type: int(1024, 1024 * 1024 * 1024),
    default: String(20 * 1024 * 1024),
    description: 'Largest form definition (XLSForm or XForm) accepted for upload, in bytes.',
  },
  FIELDKEEP_MEDIA_MAX_BYTES: {
    type: int(1024, 16 * 1024 * 1024 * 1024),
    default: String(100 * 1024 * 1024),
    description: 'Largest form media file (image, audio, video, CSV) accepted for upload, in bytes.',
  },
  FIELDKEEP_SUBMISSION_MAX_BYTES: {
    type: int(1024 * 1024, 4 * 1024 * 1024 * 1024),
    default: String(100 * 1024 * 1024),
    description: 'Largest OpenRosa submission POST (XML and attachments together), in bytes; advertised to phones, which split larger submissions.',
  },
  FIELDKEEP_AUDIT_READ_GROUP_MS: {
    type: int(0, 24 * 3_600_000),
    default: '300000',
    description: 'Reads of the same project data by the same person within this window share one audit entry (paging a table writes one, not one per page).',
  },
  FIELDKEEP_TRASH_RETENTION_DAYS: {
    type: int(1, 3650),
    default: '30',
    description: 'Deleted submissions stay in the trash, restorable, for this many days; `fieldkeep submissions purge-trash` then removes them and their files.',
  },
  FIELDKEEP_BLOB_DELETE_GRACE_SECONDS: {
    type: int(0, 7 * 86_400),
    default: '3600',
    description: 'A purge never deletes a file written less than this long ago: an upload of the same content may not have committed its record yet.',
  },
  FIELDKEEP_PASSWORD_ITERATIONS: {
    type: int(1000, 10_000_000),
    default: '1000000',
    description: 'PBKDF2-SHA256 iterations of new password hashes (Django format); older hashes are upgraded at the next sign-in.',
  },
  FIELDKEEP_SESSION_IDLE_MINUTES: {
    type: int(1, 10_080),
    default: '120',
    description: 'A signed-in browser session ends after this many minutes without a request.',
  },
  FIELDKEEP_SESSION_LIFETIME_HOURS: {
    type: int(1, 8760),
    default: '12',
    description: 'A browser session ends this many hours after sign-in, however active it is.',
  },
  FIELDKEEP_LOGIN_FREE_FAILURES: {
    type: int(1, 100),
    default: '5',
    description: 'Failed sign-ins to one account before each further attempt must wait (1 s, doubling each time).',
  },
  FIELDKEEP_LOGIN_LOCK_FAILURES: {
    type: int(2, 1000),
    default: '15',
    description: 'Failed sign-ins to one account that lock it for FIELDKEEP_LOGIN_LOCK_MINUTES.',
  },
  FIELDKEEP_LOGIN_ADDRESS_FREE_FAILURES: {
    type: int(1, 10_000),
    default: '20',
    description: 'Failed sign-ins from one client address (to any accounts) before its attempts must wait.',
  },
  FIELDKEEP_LOGIN_ADDRESS_LOCK_FAILURES: {
    type: int(2, 100_000),
    default: '100',
    description: 'Failed sign-ins from one client address that block it for FIELDKEEP_LOGIN_LOCK_MINUTES.',
  },
  FIELDKEEP_LOGIN_LOCK_MINUTES: {
    type: int(1, 10_080),
    default: '30',
    description: 'How long a sign-in lock lasts; failures older than this are forgotten.',
  },
  FIELDKEEP_ADMIN_TWO_FACTOR: {
    type: bool,
    default: 'true',
    description: 'Instance administrators must turn on two-factor authentication before they can use admin functions.',
  },
  FIELDKEEP_BASIC_AUTH_CACHE_SECONDS: {
    type: int(0, 3600),
    default: '300',
    description: 'How long a verified HTTP Basic credential is remembered in memory, so phones do not pay the password hash on every request (0 turns it off).',
  },
  FIELDKEEP_MAIL_TRANSPORT: {
    type: oneOf('log', 'smtp'),
    default: 'log',
    description: 'log writes outgoing email (password resets, with their links) to the server log, for one machine without mail; smtp sends it.',
  },
  FIELDKEEP_SMTP_URL: {
    type: { kind: 'url', protocols: ['smtp:', 'smtps:'] },
    default: undefined,
    description: 'SMTP server for FIELDKEEP_MAIL_TRANSPORT=smtp, e.g. smtps://user:pass@mail.example.org:465.',
    secret: true,
  },
  FIELDKEEP_MAIL_FROM: {
    type: str,
    default: 'Fieldkeep <fieldkeep@localhost>',
    description: 'Sender address of the email Fieldkeep sends.',
  },
  FIELDKEEP_JOB_CONCURRENCY: {
    type: int(1, 64),
    default: '2',
    description: 'Background jobs (exports, backups) one server process runs at the same time.',
  },
  FIELDKEEP_JOB_POLL_MS: {
    type: int(50, 600_000),
    default: '1000',
    description: 'How often an idle server looks for queued jobs and due schedules, in milliseconds.',
  },
  FIELDKEEP_JOB_STALE_SECONDS: {
    type: int(10, 86_400),
    default: '120',
    description: 'A running job whose server has not reported for this long is taken back: queued again while it has attempts left, otherwise failed. Servers report at least every quarter of it.',
  },
  FIELDKEEP_BACKUP_DIR: {
    type: str,
    default: undefined,
    defaultText: '`<data dir>/backups`',
    description: 'Where `fieldkeep backup create` and scheduled backups write archives (and retention prunes): a directory, on another disk or a mounted remote store, or `s3://bucket/prefix` on S3-compatible storage (FIELDKEEP_BACKUP_S3_*).',
  },
  FIELDKEEP_BACKUP_S3_ENDPOINT: {
    type: { kind: 'url', protocols: ['https:', 'http:'] },
    default: undefined,
    defaultText: 'Amazon S3 of the region',
    description: 'Endpoint of the S3-compatible service for `s3://` backup locations (MinIO, Ceph, Garage, Backblaze B2, Cloudflare R2, …).',
  },
  FIELDKEEP_BACKUP_S3_REGION: {
    type: str,
    default: 'us-east-1',
    description: 'Region of `s3://` backup locations (what the service expects in request signatures; many S3-compatible services accept any).',
  },
  FIELDKEEP_BACKUP_S3_ACCESS_KEY_ID: {
    type: str,
    default: undefined,
    defaultText: 'the AWS SDK\'s default credentials (AWS_* variables, shared files, instance role)',
    description: 'Access key id for `s3://` backup locations; give it with FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY. The key needs to put, list, get and delete objects under the prefix.',
    secret: true,
  },
  FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY: {
    type: str,
    default: undefined,
    description: 'Secret access key for `s3://` backup locations.',
    secret: true,
  },
  FIELDKEEP_BACKUP_S3_PATH_STYLE: {
    type: bool,
    default: 'false',
    description: 'Address buckets as `<endpoint>/<bucket>` instead of `<bucket>.<endpoint>`; most self-hosted S3-compatible services (MinIO, Ceph) need it.',
  },
  FIELDKEEP_BACKUP_RECIPIENTS: {
    type: str,
    default: undefined,
    description: 'age public keys (age1…, from age-keygen; comma- or space-separated) backups are encrypted to. The private keys stay offline: the server cannot read its own backups.',
  },
  FIELDKEEP_BACKUP_PASSPHRASE: {
    type: str,
    default: undefined,
    description: 'Passphrase backups are encrypted with (age scrypt), instead of recipients; long and random, kept apart from the server.',
    secret: true,
  },
  FIELDKEEP_BACKUP_CRON: {
    type: str,
    default: undefined,
    description: 'When scheduled backups run, as a 5-field cron expression in UTC (e.g. `30 2 * * *`); unset, nothing is scheduled.',
  },
  FIELDKEEP_BACKUP_KEEP_DAILY: {
    type: int(0, 3650),
    default: '7',
    description: 'Retention: keep the newest backup of each of this many most recent days that have one.',
  },
  FIELDKEEP_BACKUP_KEEP_WEEKLY: {
    type: int(0, 520),
    default: '4',
    description: 'Retention: keep the newest backup of each of this many most recent ISO weeks that have one.',
  },
  FIELDKEEP_BACKUP_KEEP_MONTHLY: {
    type: int(0, 1200),
    default: '12',
    description: 'Retention: keep the newest backup of each of this many most recent months that have one.',
  },
  FIELDKEEP_BACKUP_VERIFY_IDENTITY_FILE: {
    type: str,
    default: undefined,
    description: 'The age identity file `fieldkeep backup verifier` decrypts with: it verifies, for each backup run, the previous backup by restoring it into a scratch database. Anyone with it can read the backups: set it only where the verifier runs, never on the server that makes them.',
  },
  FIELDKEEP_EXPORT_CACHE_SECONDS: {
    type: int(0, 3600),
    default: '60',
    description: 'A saved export setting\'s URL (…/exports/settings/{id}/data.csv or .xlsx) serves the same file to the same person for this long before computing it again, so a dashboard refresh storm costs one export (0 turns the cache off).',
  },
  FIELDKEEP_EXPORT_RETENTION_HOURS: {
    type: int(1, 8760),
    default: '24',
    description: 'The file an export job produces (kept encrypted in the blob store) is deleted this many hours after the job was asked for.',
  },
  FIELDKEEP_PRIVACY_URL: {
    type: { kind: 'url', protocols: ['http:', 'https:'] },
    default: undefined,
    description: 'The instance\'s privacy policy, linked from every page of the web application and from "Where is my data?"; unset, no link is shown.',
  },
  FIELDKEEP_TERMS_URL: {
    type: { kind: 'url', protocols: ['http:', 'https:'] },
    default: undefined,
    description: 'The instance\'s terms of use, linked like the privacy policy; unset, no link is shown.',
  },
  FIELDKEEP_MAP_TILE_URL: {
    type: str,
    default: undefined,
    description: 'The base layer of the data screen\'s map: an XYZ tile address with {z}, {x} and {y}, either on a tile server the operator runs (https://tiles.example.org/{z}/{x}/{y}.png; the page\'s policy then allows images from that origin) or a path on this server (/tiles/{z}/{x}/{y}.png behind the same proxy). Unset, the map has no base layer and fetches nothing from anywhere.',
  },
  FIELDKEEP_MAP_TILE_ATTRIBUTION: {
    type: str,
    default: undefined,
    description: 'The credit shown on the map under the base layer (plain text, e.g. "© OpenStreetMap contributors"), as the tiles\' licence asks.',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof settings;
