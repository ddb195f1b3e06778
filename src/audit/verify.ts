import { entryHash, GENESIS_HASH, type ChainedFields } from './chain.js';
import { readHead, rowById, rowsAfter, type AuditRow, type Executor } from './queries.js';

export type ChainProblem =
  | { kind: 'changed'; id: number; message: string }
  | { kind: 'removed'; id: number; message: string }
  | { kind: 'inserted'; id: number; message: string };

export type ChainReport =
  | { intact: true; entries: number; head: { id: number; hash: string } }
  | { intact: false; entries: number; problem: ChainProblem };

/** An externally kept copy of one entry's hash (from the periodic `audit head` log line). */
export interface Anchor {
  id: number;
  hash: string;
}

const PAGE = 1000;

/**
 * Recomputes the whole chain, a page at a time (memory stays flat however long the log is), and
 * reports the first problem found:
 * - a gap in the ids (`removed`), or a tail shorter than the head row says (`removed`);
 * - an entry whose stored hash is not the hash of its own fields (`changed`);
 * - an entry whose link does not match the entry before it (`changed`: one of the two was rewritten);
 * - an entry beyond the id the head row recorded (`inserted`);
 * - an anchor (an id and hash kept outside the database) that no longer matches (`changed`),
 *   which is what catches a rewrite of the whole chain by someone who also rewrote the head.
 */
export async function verifyAuditChain(db: Executor, anchors: readonly Anchor[] = []): Promise<ChainReport> {
  const head = await readHead(db);
  let expectedId = 1;
  let previousHash = GENESIS_HASH;
  let entries = 0;
  for (;;) {
    const page = await rowsAfter(db, expectedId - 1, PAGE);
    for (const row of page) {
      const problem = checkRow(row, expectedId, previousHash, head.lastId);
      if (problem) return { intact: false, entries, problem };
      previousHash = row.hash;
      expectedId = row.id + 1;
      entries += 1;
    }
    if (page.length < PAGE) break;
  }
  const lastId = expectedId - 1;
  if (lastId < head.lastId) {
    return failure(entries, 'removed', lastId + 1, `entries ${lastId + 1}–${head.lastId} were removed from the end of the log`);
  }
  if (head.lastHash !== previousHash) {
    return failure(entries, 'changed', lastId, `the head row's hash does not match entry ${lastId}; the last entry or the head was rewritten`);
  }
  for (const anchor of anchors) {
    const row = await rowById(db, anchor.id);
    if (row === undefined) return failure(entries, 'removed', anchor.id, `anchored entry ${anchor.id} is missing`);
    if (row.hash !== anchor.hash) {
      return failure(entries, 'changed', anchor.id, `entry ${anchor.id} no longer has its anchored hash; the chain up to it was rewritten`);
    }
  }
  return { intact: true, entries, head: { id: lastId, hash: previousHash } };
}

function checkRow(row: AuditRow, expectedId: number, previousHash: string, headLastId: number): ChainProblem | undefined {
  if (row.id > headLastId) {
    return { kind: 'inserted', id: row.id, message: `entry ${row.id} lies beyond the last entry the log recorded (${headLastId})` };
  }
  if (row.id !== expectedId) {
    const range = row.id - 1 === expectedId ? `entry ${expectedId} was` : `entries ${expectedId}–${row.id - 1} were`;
    return { kind: 'removed', id: expectedId, message: `${range} removed` };
  }
  if (entryHash(row.prev_hash, fieldsOf(row)) !== row.hash) {
    return { kind: 'changed', id: row.id, message: `entry ${row.id} was changed: its hash does not match its contents` };
  }
  if (row.prev_hash !== previousHash) {
    return {
      kind: 'changed',
      id: row.id,
      message: `entry ${row.id} does not link to entry ${row.id - 1}: one of them was rewritten, or an entry was inserted between them`,
    };
  }
  return undefined;
}

function fieldsOf(row: AuditRow): ChainedFields {
  return {
    id: Number(row.id),
    at: row.at,
    actorKind: row.actor_kind,
    actorId: row.actor_id === null ? null : Number(row.actor_id),
    actorLabel: row.actor_label,
    address: row.address,
    userAgent: row.user_agent,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    projectId: row.project_id === null ? null : Number(row.project_id),
    details: parseDetails(row.details),
  };
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : { unparseable: text };
  } catch {
    return { unparseable: text };
  }
}

function failure(entries: number, kind: ChainProblem['kind'], id: number, message: string): ChainReport {
  return { intact: false, entries, problem: { kind, id, message } };
}
