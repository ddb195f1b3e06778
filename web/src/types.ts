/** The shapes the server's API answers with (see /api/docs), as far as the application reads them. */
import type { Issue } from './api.js';

export interface User {
  id: number;
  username: string;
  email: string | null;
  isAdmin: boolean;
  twoFactorEnabled: boolean;
  disabled: boolean;
  createdAt: string;
}

export interface SessionInfo {
  id: number;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  address: string | null;
  userAgent: string | null;
  current: boolean;
}

export interface ApiToken {
  id: number;
  name: string;
  scope: 'read' | 'write';
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

export type Role = 'owner' | 'manager' | 'editor' | 'viewer' | 'reviewer' | 'collector';

export interface ProjectSummary {
  id: number;
  name: string;
  description: string;
  archived: boolean;
  createdAt: string;
}

export interface Project extends ProjectSummary {
  owner: { id: number; username: string };
  yourRoles: Role[];
  updatedAt: string;
  emergencyAccess?: Array<{ username: string; role: Role; reason: string; grantedAt: string; expiresAt: string }>;
}

export interface FormVersion {
  id: number;
  version: string;
  title: string;
  hash: string;
  encrypted: boolean;
  source: { kind: string; fileName: string };
  warnings: Issue[];
  createdAt: string;
  publishedAt: string | null;
}

export interface MediaFile {
  name: string;
  uploaded: boolean;
  md5?: string;
  size?: number;
  contentType?: string;
}

export interface Form {
  xmlFormId: string;
  title: string;
  state: string;
  published: FormVersion | null;
  draft: FormVersion | null;
  media: MediaFile[];
  /** Where members fill the form in a browser (a page of its own: open it with a full page load). */
  fillUrl: string;
  createdAt: string;
  updatedAt: string;
}

export type ReviewStatus = 'approved' | 'not_approved' | 'on_hold';

export type SubmissionRow = Record<string, unknown>;

export interface SubmissionPage {
  results: SubmissionRow[];
  next: string | null;
  count?: number;
}

export interface Attachment {
  name: string;
  contentType: string | null;
  size: number | null;
  received: boolean;
  question: string | null;
  url: string;
}

export interface Comment {
  id: number;
  body: string;
  author: { id: number | null; username: string };
  createdAt: string;
}

export interface Review {
  status: ReviewStatus | null;
  reviewedAt: string | null;
  reviewedBy: { id: number; username: string } | null;
}

export interface Diff {
  from: string;
  to: string;
  changes: Array<{ path: string; before: string | null; after: string | null }>;
}

export interface TrashEntry {
  instanceId: string;
  deletedAt: string;
  deletedBy: string | null;
  purgeAfter: string;
}

export interface RowFilter {
  submittedByMe?: true;
  fieldIn?: { field: string; values: string[] };
}

export interface Member {
  userId: number;
  username: string;
  role: Role;
  rowFilter: RowFilter | null;
  since: string;
}

export interface Device {
  id: number;
  label: string;
  state: 'active' | 'expired' | 'revoked';
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** Whether its server URL and QR code can be shown again. */
  settingsAvailable: boolean;
}

/** A device's settings for ODK Collect: at creation, or shown again. */
export interface DeviceSettings {
  device: Device;
  serverUrl: string;
  qrSvg: string;
}

export interface PublicLink {
  id: number;
  label: string;
  formId: string;
  once: boolean;
  state: 'active' | 'expired' | 'revoked' | 'used';
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  usedAt: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: { kind: string; id: number | null; label: string | null };
  address: string | null;
  userAgent: string | null;
  action: string;
  resource: { type: string; id: string } | null;
  projectId: number | null;
  details: unknown;
  hash: string;
}

export type ExportFormat = 'csv' | 'xlsx' | 'geojson' | 'zip';

/** The export options the API takes (src/exports/options.ts); lists are comma-separated. */
export interface ExportOptions {
  values?: 'xml' | 'labels';
  headers?: 'xml' | 'labels';
  language?: string;
  groupSeparator?: string;
  groupNames?: boolean;
  selectMultiple?: 'summary' | 'details' | 'both';
  allVersions?: boolean;
  fields?: string;
  from?: string;
  to?: string;
  includeDeleted?: boolean;
  reviewStatus?: string;
  geoField?: string;
  media?: boolean;
}

export interface ExportSetting {
  id: number;
  name: string;
  format: ExportFormat;
  options: ExportOptions;
  createdAt: string;
  updatedAt: string;
  urls: { csv: string; xlsx: string };
}

export interface ExportJob {
  id: number;
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: { done: number; total: number | null };
  createdAt: string;
  finishedAt: string | null;
  expiresAt: string | null;
  expired: boolean;
  result: { fileName: string; size: number; submissions: number; note: string | null; url: string } | null;
  error: { code: string; message: string } | null;
}

/** Text by language as the form names it; untranslated text is under "default". */
export type LocalizedText = Record<string, string>;

/** One group, repeat or question of a form version's field schema (…/schema). */
export interface SchemaField {
  path: string;
  name: string;
  kind: 'question' | 'group' | 'repeat';
  type: string;
  control: string | null;
  parent: string | null;
  repeat: string | null;
  labels: LocalizedText;
  hints: LocalizedText;
  choices: Array<{ value: string; labels: LocalizedText }> | null;
  choiceList: string | null;
  mediaType: string | null;
  bind: { required: string | null; relevant: string | null; constraint: string | null; calculate: string | null; readonly: string | null };
}

export interface FormSchema {
  formId: string;
  version: string | null;
  title: string | null;
  languages: string[];
  defaultLanguage: string | null;
  encrypted: boolean;
  fields: SchemaField[];
}

export interface PasswordLink {
  url: string;
  expiresAt: string;
}
