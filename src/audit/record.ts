import type { Transaction } from 'kysely';
import { actorIdOf, actorLabelOf, type Actor } from '../access/actor.js';
import { isoNow } from '../db/columns.js';
import type { Tables } from '../db/tables.js';
import { canonicalJson } from './canonical-json.js';
import { entryHash, type ChainedFields } from './chain.js';
import { appendRow, claimNextId, hasRecentRead, type Executor } from './queries.js';

export interface AuditEvent {
  /** Who acted; a command-line or background action has none and is recorded as `system`. */
  actor?: Actor;
  /** Overrides the label derived from the actor (e.g. the name tried in a failed login, `cli`). */
  actorLabel?: string;
  /** Dotted verb-like name: `user.login`, `project.share`, `submission.read`, … */
  action: string;
  resource?: { type: string; id: string | number };
  projectId?: number;
  /** What else a reader needs to know. Never secrets: keys that name one are refused. */
  details?: Record<string, unknown>;
  address?: string;
  userAgent?: string;
}

export interface RecordedEntry {
  id: number;
  hash: string;
}

const ACTION_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const MAX_DETAILS_BYTES = 16 * 1024;
/** Keys whose values are credentials; an audit entry is readable by owners and admins, so these never go in. */
const SECRET_KEY = /^(password|new_?password|current_?password|passphrase|secret|token|totp|otp|code|recovery_?codes?|private_?key|authorization|cookie|api_?key)$/i;

/**
 * Appends one entry to the chain, inside the caller's transaction when given one (so the entry
 * commits or rolls back with the change it records), otherwise in a transaction of its own.
 */
export async function recordAudit(executor: Executor, event: AuditEvent): Promise<RecordedEntry> {
  const draft = draftFields(event);
  if (executor.isTransaction) return append(executor as Transaction<Tables>, draft);
  return executor.transaction().execute((trx) => append(trx, draft));
}

/**
 * Records a read of project data unless the same actor read the same thing within `windowMs`:
 * paging through a table, or opening it again a moment later, writes one entry, not one per page.
 */
export async function recordDataRead(executor: Executor, event: AuditEvent, windowMs: number, now = new Date()): Promise<RecordedEntry | null> {
  const draft = draftFields(event);
  const since = new Date(now.getTime() - windowMs).toISOString();
  if (await hasRecentRead(executor, draft, since)) return null;
  return recordAudit(executor, event);
}

type Draft = Omit<ChainedFields, 'id' | 'at'>;

async function append(trx: Transaction<Tables>, draft: Draft): Promise<RecordedEntry> {
  const { id, previousHash } = await claimNextId(trx);
  const fields: ChainedFields = { id, at: isoNow(), ...draft };
  const hash = entryHash(previousHash, fields);
  await appendRow(trx, {
    id,
    at: fields.at,
    actor_kind: fields.actorKind,
    actor_id: fields.actorId,
    actor_label: fields.actorLabel,
    address: fields.address,
    user_agent: fields.userAgent,
    action: fields.action,
    resource_type: fields.resourceType,
    resource_id: fields.resourceId,
    project_id: fields.projectId,
    details: canonicalJson(fields.details),
    prev_hash: previousHash,
    hash,
  });
  return { id, hash };
}

function draftFields(event: AuditEvent): Draft {
  if (!ACTION_PATTERN.test(event.action)) throw new TypeError(`audit action ${JSON.stringify(event.action)} is not a dotted lowercase name`);
  const details = event.details ?? {};
  refuseSecrets(details);
  if (Buffer.byteLength(canonicalJson(details)) > MAX_DETAILS_BYTES) throw new TypeError('audit details are larger than 16 KiB');
  const actor = event.actor;
  return {
    actorKind: actor === undefined ? 'system' : actor.kind,
    actorId: actor === undefined ? null : actorIdOf(actor),
    actorLabel: event.actorLabel ?? (actor === undefined ? null : actorLabelOf(actor)),
    address: event.address ?? null,
    userAgent: event.userAgent?.slice(0, 512) ?? null,
    action: event.action,
    resourceType: event.resource?.type ?? null,
    resourceId: event.resource === undefined ? null : String(event.resource.id),
    projectId: event.projectId ?? null,
    details,
  };
}

function refuseSecrets(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (SECRET_KEY.test(key)) throw new TypeError(`audit details must not carry secrets (key ${JSON.stringify(key)})`);
    refuseSecrets(inner);
  }
}
