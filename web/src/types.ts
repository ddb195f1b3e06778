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
