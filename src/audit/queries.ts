import type { Kysely, Transaction } from 'kysely';
import { insertRow, prepared } from '../db/prepared.js';
import type { AuditLogTable, Tables } from '../db/tables.js';

/** A database handle or an open transaction: audit entries join the caller's transaction. */
export type Executor = Kysely<Tables> | Transaction<Tables>;

export type AuditRow = AuditLogTable;

/*
 * The append's three statements are prepared (src/db/prepared.ts): an entry is appended for every
 * received submission, and building and compiling them anew cost as much as running them.
 */
const claimHead = prepared((db) =>
  db
    .updateTable('audit_head')
    .set((eb) => ({ last_id: eb('last_id', '+', 1) }))
    .where('id', '=', 1)
    .returning(['last_id', 'last_hash']),
);

const insertEntry = prepared((db, v: AuditRow) =>
  db.insertInto('audit_log').values(
    insertRow(v, {
      id: true,
      at: true,
      actor_kind: true,
      actor_id: true,
      actor_label: true,
      address: true,
      user_agent: true,
      action: true,
      resource_type: true,
      resource_id: true,
      project_id: true,
      details: true,
      prev_hash: true,
      hash: true,
    }),
  ),
);

const setHeadHash = prepared((db, v: { hash: string }) => db.updateTable('audit_head').set({ last_hash: v.hash }).where('id', '=', 1));

/**
 * Takes the next id and the previous hash in one statement. The UPDATE locks the head row until
 * the caller's transaction ends (PostgreSQL) or takes the database's write lock (SQLite), so
 * concurrent appends queue here and the chain cannot fork.
 */
export async function claimNextId(trx: Transaction<Tables>): Promise<{ id: number; previousHash: string }> {
  const head = await claimHead.first(trx, {});
  if (head === undefined) throw new Error('the audit head row is missing');
  return { id: Number(head.last_id), previousHash: head.last_hash };
}

export async function appendRow(trx: Transaction<Tables>, row: AuditRow): Promise<void> {
  await insertEntry.rows(trx, row);
  await setHeadHash.rows(trx, { hash: row.hash });
}

export async function readHead(db: Executor): Promise<{ lastId: number; lastHash: string }> {
  const head = await db.selectFrom('audit_head').select(['last_id', 'last_hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  return { lastId: Number(head.last_id), lastHash: head.last_hash };
}

/** Entries in id order after `afterId`, a page at a time, for verification. */
export async function rowsAfter(db: Executor, afterId: number, limit: number): Promise<AuditRow[]> {
  return db.selectFrom('audit_log').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();
}

export async function rowById(db: Executor, id: number): Promise<AuditRow | undefined> {
  return db.selectFrom('audit_log').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Whether the same actor already has this read entry since `since` (reads are grouped). */
export async function hasRecentRead(
  db: Executor,
  match: { actorKind: string; actorId: number | null; action: string; resourceType: string | null; resourceId: string | null; projectId: number | null },
  since: string,
): Promise<boolean> {
  let query = db
    .selectFrom('audit_log')
    .select('id')
    .where('action', '=', match.action)
    .where('actor_kind', '=', match.actorKind)
    .where('at', '>=', since);
  query = match.actorId === null ? query.where('actor_id', 'is', null) : query.where('actor_id', '=', match.actorId);
  query = match.resourceType === null ? query.where('resource_type', 'is', null) : query.where('resource_type', '=', match.resourceType);
  query = match.resourceId === null ? query.where('resource_id', 'is', null) : query.where('resource_id', '=', match.resourceId);
  query = match.projectId === null ? query.where('project_id', 'is', null) : query.where('project_id', '=', match.projectId);
  return (await query.limit(1).executeTakeFirst()) !== undefined;
}

export interface AuditFilter {
  /** Only this project's entries; `undefined` for the whole log. */
  projectId?: number;
  /** Exact action, or a prefix ending in `.` (e.g. `project.`). */
  action?: string;
  actorId?: number;
  /** Inclusive lower and exclusive upper bound, ISO times. */
  from?: string;
  to?: string;
  /** Keyset paging: entries with a smaller id than this. */
  beforeId?: number;
}

/** Matching entries, newest first. */
export async function listRows(db: Executor, filter: AuditFilter, limit: number): Promise<AuditRow[]> {
  let query = db.selectFrom('audit_log').selectAll();
  if (filter.projectId !== undefined) query = query.where('project_id', '=', filter.projectId);
  if (filter.action !== undefined) {
    const action = filter.action;
    query = action.endsWith('.')
      ? query.where((eb) => eb(eb.fn('substr', ['action', eb.val(1), eb.val(action.length)]), '=', action))
      : query.where('action', '=', action);
  }
  if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
  if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('at', '<', filter.to);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  return query.orderBy('id', 'desc').limit(limit).execute();
}
