import type { ColumnType, Generated } from 'kysely';

/**
 * The database's tables as Kysely sees them. Times are ISO-8601 UTC text (`isoNow()`), booleans are
 * 0/1 integers, and JSON is text: the one representation both SQLite and PostgreSQL store and sort
 * identically, so the same queries serve both.
 */
export interface InstanceTable {
  id: string;
  created_at: string;
}

/** One hash-chained audit entry (src/audit); append-only. */
export interface AuditLogTable {
  id: number;
  at: string;
  actor_kind: string;
  actor_id: number | null;
  actor_label: string | null;
  address: string | null;
  user_agent: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  project_id: number | null;
  /** Canonical JSON text. */
  details: string;
  prev_hash: string;
  hash: string;
}

/** The one row holding the audit chain's last id and hash; locked to serialise appends. */
export interface AuditHeadTable {
  id: number;
  last_id: number;
  last_hash: string;
}

/** A person who signs in (src/accounts). `_key` columns are the lower-cased, unique lookup forms. */
export interface UsersTable {
  id: Generated<number>;
  username: string;
  username_key: string;
  email: string | null;
  email_key: string | null;
  password_hash: string;
  is_admin: number;
  disabled_at: string | null;
  /** Sealed with the server secret (src/accounts/sealed.ts), never stored in the clear. */
  totp_secret: string | null;
  totp_pending_secret: string | null;
  /** The TOTP time step last used, so no code is accepted twice. */
  totp_last_step: number | null;
  created_at: string;
  updated_at: string;
}

/** A browser session; only the SHA-256 of its cookie token is stored. */
export interface SessionsTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  address: string | null;
  user_agent: string | null;
}

/** A personal API token; only its SHA-256 is stored. */
export interface ApiTokensTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  token_hash: string;
  scope: 'read' | 'write';
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

/** A single-use password reset token (SHA-256 only), deleted when used. */
export interface PasswordResetsTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  expires_at: string;
  created_at: string;
}

/** A two-factor recovery code (SHA-256 only), deleted when used. */
export interface RecoveryCodesTable {
  id: Generated<number>;
  user_id: number;
  code_hash: string;
  created_at: string;
}

/** Failed sign-ins per account or client address (`user:<id>`, `name:<keyed hash>`, `address:<ip>`). */
export interface LoginThrottleTable {
  key: string;
  failures: number;
  last_failure_at: string;
}

/** A project (src/projects). The owner is `owner_id`, never a membership row. */
export interface ProjectsTable {
  id: Generated<number>;
  name: string;
  description: string;
  owner_id: number;
  archived: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** One person's role in one project (src/access), with an optional row filter as JSON text. */
export interface ProjectMembersTable {
  project_id: number;
  user_id: number;
  role: string;
  row_filter: string | null;
  created_at: string;
  updated_at: string;
}

/** A time-limited role given from the command line; kept after it expires. */
export interface EmergencyGrantsTable {
  id: Generated<number>;
  project_id: number;
  user_id: number;
  role: string;
  reason: string;
  created_at: string;
  expires_at: string;
}

/** A pending ownership transfer, until the new owner accepts it. */
export interface OwnershipOffersTable {
  project_id: number;
  to_user_id: number;
  offered_by: number;
  created_at: string;
}

/** A form in a project (src/forms), identified there by its XForm id. */
export interface FormsTable {
  id: Generated<number>;
  project_id: number;
  xml_form_id: string;
  state: string;
  published_version_id: number | null;
  draft_version_id: number | null;
  created_by: number | null;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

/** One uploaded definition of a form: a draft until `published_at` is set. */
export interface FormVersionsTable {
  id: Generated<number>;
  form_id: number;
  version: string;
  title: string;
  /** Blob of the XForm exactly as served; its MD5 is the OpenRosa hash. */
  xform_blob: string;
  xform_md5: string;
  xform_size: number;
  schema_json: string;
  media_json: string;
  warnings_json: string;
  encrypted: number;
  source_kind: string;
  source_name: string;
  source_blob: string;
  created_by: number | null;
  created_at: string;
  published_at: string | null;
}

/** A media file of a form (image, audio, video, CSV), keyed by name. */
export interface FormMediaTable {
  id: Generated<number>;
  form_id: number;
  name: string;
  blob_id: string;
  md5: string;
  size: number;
  content_type: string;
  updated_at: string;
}

/** One logical submission (src/submissions): its first version's instanceID and its current version. */
export interface SubmissionsTable {
  id: Generated<number>;
  project_id: number;
  form_id: number;
  instance_id: string;
  current_version_id: number | null;
  submitted_by_user_id: number | null;
  submitted_by_device_id: number | null;
  created_at: string;
  updated_at: string;
  /** `approved`, `not_approved`, `on_hold`, or null when not reviewed (src/submissions/review.ts). */
  review_status: string | null;
  reviewed_by_user_id: number | null;
  reviewed_at: string | null;
  /** Set while the submission is in the trash (src/submissions/trash.ts); every read excludes it. */
  deleted_at: string | null;
  deleted_by_user_id: number | null;
}

/** A comment on a submission by a reviewer. */
export interface SubmissionCommentsTable {
  id: Generated<number>;
  submission_id: number;
  author_user_id: number | null;
  /** The author's username when written, kept if the account goes. */
  author_label: string;
  body: string;
  created_at: string;
}

/** One version of a submission: the XML exactly as received (a blob), and who sent it. */
export interface SubmissionVersionsTable {
  id: Generated<number>;
  submission_id: number;
  form_id: number;
  form_version_id: number;
  instance_id: string;
  deprecated_id: string | null;
  instance_name: string | null;
  encrypted: number;
  xml_blob: string;
  xml_sha256: string;
  xml_size: number;
  /** Answers as JSON text (src/xform parseSubmission); null for encrypted envelopes. */
  fields_json: string | null;
  /**
   * The answers typed (src/submissions/typed-values.ts): JSON text on SQLite, jsonb on PostgreSQL
   * (read back as text or as a value, so readers go through `storedJson`); null for encrypted
   * envelopes and for rows stored before migration 0009.
   */
  data_json: ColumnType<unknown, string | null | undefined, string | null>;
  submitted_by_kind: string;
  /** The user's or device's id, by `submitted_by_kind`. */
  submitted_by_id: number | null;
  /** The phone's `deviceID` query parameter, as sent. */
  device_id: string | null;
  created_at: string;
}

/** A file of a submission version; without a blob it is one the XML names that has not arrived. */
export interface SubmissionAttachmentsTable {
  id: Generated<number>;
  version_id: number;
  name: string;
  blob_id: string | null;
  md5: string | null;
  sha256: string | null;
  size: number | null;
  content_type: string | null;
  /** 0/1: the name appears as an answer in the XML. */
  referenced: number;
  /** 0/1: a binary field (or the encrypted manifest) names it, so the submission needs it. */
  expected: number;
  received_at: string | null;
}

/**
 * A device (src/devices): a collector credential for one project. The token is found by its
 * SHA-256; it is kept otherwise only sealed under the server secret, to show its QR code again.
 */
export interface DevicesTable {
  id: Generated<number>;
  project_id: number;
  label: string;
  token_hash: string;
  /** The token sealed under the server secret (migration 0015); null for devices made before it. */
  token_sealed: string | null;
  created_by: number | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

/** A public link (src/public-links): anonymous submission to one form; only the token's SHA-256 is stored. */
export interface PublicLinksTable {
  id: Generated<number>;
  project_id: number;
  form_id: number;
  label: string;
  token_hash: string;
  /** 0/1: single-use, spent by its first submission. */
  once: number;
  created_by: number | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  /** When a single-use link made its submission. */
  used_at: string | null;
}

/** A background job (src/jobs): queued, claimed by one runner, then succeeded, failed or cancelled. */
export interface JobTable {
  id: Generated<number>;
  kind: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  project_id: number | null;
  /** Who asked (`Actor['kind']` and its id); null for scheduled jobs. */
  actor_kind: string | null;
  actor_id: number | null;
  payload_json: string;
  progress_done: number;
  progress_total: number | null;
  /** What the job produced; cleared once its kind's `expire` has run after `expires_at`. */
  result_json: string | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  run_after: string;
  /** The claim of the runner working on it (runner id and claim number). */
  claimed_by: string | null;
  heartbeat_at: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  expires_at: string | null;
}

/** A cron schedule (src/jobs): each due time becomes one job of `kind` with `payload_json`. */
export interface JobScheduleTable {
  name: string;
  cron: string;
  kind: string;
  payload_json: string;
  next_run_at: string;
  last_run_at: string | null;
  last_job_id: number | null;
}

/** One attempt to write a backup archive (src/backups), and the latest verification of it. */
export interface BackupRunsTable {
  id: Generated<number>;
  trigger: 'schedule' | 'api' | 'cli';
  state: 'running' | 'succeeded' | 'failed';
  started_at: string;
  finished_at: string | null;
  /** The archive's file name in the backup directory. */
  file: string | null;
  bytes: number | null;
  archive_sha256: string | null;
  rows: number | null;
  blobs: number | null;
  error_message: string | null;
  verified_at: string | null;
  verify_ok: number | null;
  verify_message: string | null;
}

/** A saved export setting (src/exports): a form's export options under a name, with stable download URLs. */
export interface ExportSettingsTable {
  id: Generated<number>;
  project_id: number;
  form_id: number;
  name: string;
  /** csv, xlsx, geojson or zip: the format the setting was saved for (its URLs serve csv and xlsx too). */
  format: string;
  /** The options as given (src/exports/options.ts). */
  options_json: string;
  created_by_user_id: number | null;
  created_at: string;
  updated_at: string;
}

/** An end-to-end encrypted project (src/project-keys). */
export interface ProjectEncryptionTable {
  project_id: number;
  /** 0/1: an export may carry the passphrase so the server decrypts (ODK Central's way). */
  allow_server_decryption: number;
  enabled_by: number | null;
  enabled_at: string;
}

/** A key pair of an encrypted project: the public key, the private key only passphrase-wrapped. */
export interface ProjectKeysTable {
  id: Generated<number>;
  project_id: number;
  /** `active` (injected into forms) or `retired` (after a rotation; still decrypts older data). */
  state: string;
  /** One-line base64 SubjectPublicKeyInfo, as forms carry it. */
  public_key: string;
  /** JSON `fieldkeep.wrapped-private-key`; null for a self-managed key uploaded as a public key only. */
  wrapped_private_key: string | null;
  hint: string | null;
  /** Appended to form versions that carry this key, so phones fetch them again. */
  version_suffix: string;
  created_by: number | null;
  created_at: string;
  retired_at: string | null;
}

/** A person's own key pair, the private key wrapped by their own passphrase. */
export interface UserKeysTable {
  user_id: number;
  public_key: string;
  wrapped_private_key: string;
  updated_at: string;
}

/** A project key sealed for one member (JSON `fieldkeep.sealed-private-key`). */
export interface ProjectKeyGrantsTable {
  id: Generated<number>;
  project_key_id: number;
  user_id: number;
  sealed_private_key: string;
  granted_by: number | null;
  created_at: string;
}

export interface Tables {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  password_resets: PasswordResetsTable;
  recovery_codes: RecoveryCodesTable;
  login_throttle: LoginThrottleTable;
  instance: InstanceTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  emergency_grants: EmergencyGrantsTable;
  ownership_offers: OwnershipOffersTable;
  forms: FormsTable;
  form_versions: FormVersionsTable;
  form_media: FormMediaTable;
  devices: DevicesTable;
  submissions: SubmissionsTable;
  submission_versions: SubmissionVersionsTable;
  submission_attachments: SubmissionAttachmentsTable;
  submission_comments: SubmissionCommentsTable;
  public_links: PublicLinksTable;
  job: JobTable;
  job_schedule: JobScheduleTable;
  backup_runs: BackupRunsTable;
  export_settings: ExportSettingsTable;
  project_encryption: ProjectEncryptionTable;
  project_keys: ProjectKeysTable;
  user_keys: UserKeysTable;
  project_key_grants: ProjectKeyGrantsTable;
}
