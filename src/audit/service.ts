import { listRows, type AuditFilter, type AuditRow, type Executor } from './queries.js';

export interface AuditEntryView {
  id: number;
  at: string;
  actor: { kind: string; id: number | null; label: string | null };
  address: string | null;
  userAgent: string | null;
  action: string;
  resource: { type: string; id: string } | null;
  projectId: number | null;
  /** Null where the reader may see who did what, when, but not the project's particulars. */
  details: Record<string, unknown> | null;
  hash: string;
}

export interface AuditPage {
  entries: AuditEntryView[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore: number | null;
}

/**
 * How much of an entry a reader sees: a project's owners and managers see their project's entries
 * whole; instance administrators see the whole log but not the particulars of entries about a
 * project's contents (who read what, when, is shown; what was in it is not).
 */
export type AuditAudience = 'project' | 'instance';

export async function listAuditEntries(db: Executor, filter: AuditFilter, limit: number, audience: AuditAudience): Promise<AuditPage> {
  const rows = await listRows(db, filter, limit + 1);
  const page = rows.slice(0, limit);
  return {
    entries: page.map((row) => present(row, audience)),
    nextBefore: rows.length > limit ? Number(page[page.length - 1]!.id) : null,
  };
}

const CSV_COLUMNS = ['id', 'at', 'actor_kind', 'actor_id', 'actor_label', 'address', 'user_agent', 'action', 'resource_type', 'resource_id', 'project_id', 'details', 'hash'] as const;
const CSV_BATCH = 500;

/** The matching entries as CSV, newest first, read a batch at a time so memory stays flat. */
export async function* auditCsv(db: Executor, filter: AuditFilter, audience: AuditAudience): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  let beforeId = filter.beforeId;
  for (;;) {
    const rows = await listRows(db, { ...filter, ...(beforeId !== undefined ? { beforeId } : {}) }, CSV_BATCH);
    if (rows.length === 0) return;
    yield rows
      .map((row) => {
        const view = present(row, audience);
        const cells = [view.id, view.at, view.actor.kind, view.actor.id, view.actor.label, view.address, view.userAgent, view.action,
          view.resource?.type ?? null, view.resource?.id ?? null, view.projectId, view.details === null ? null : JSON.stringify(view.details), view.hash];
        return `${cells.map(csvCell).join(',')}\r\n`;
      })
      .join('');
    if (rows.length < CSV_BATCH) return;
    beforeId = Number(rows[rows.length - 1]!.id);
  }
}

/** RFC 4180 quoting, and a leading quote on text a spreadsheet would run as a formula. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function present(row: AuditRow, audience: AuditAudience): AuditEntryView {
  const projectId = row.project_id === null ? null : Number(row.project_id);
  return {
    id: Number(row.id),
    at: row.at,
    actor: { kind: row.actor_kind, id: row.actor_id === null ? null : Number(row.actor_id), label: row.actor_label },
    address: row.address,
    userAgent: row.user_agent,
    action: row.action,
    resource: row.resource_type === null ? null : { type: row.resource_type, id: row.resource_id ?? '' },
    projectId,
    details: audience === 'instance' && projectId !== null ? null : (JSON.parse(row.details) as Record<string, unknown>),
    hash: row.hash,
  };
}
