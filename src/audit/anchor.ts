import type { FastifyBaseLogger } from 'fastify';
import type { Executor } from './queries.js';
import { readHead } from './queries.js';

/**
 * Writes the chain's head (last id and hash) to the log now and then every `intervalMs` (0: only
 * at start). Log lines leave the machine (journald, a log shipper), so a copy of the head kept
 * there anchors the chain: `fieldkeep audit verify --anchor ID:HASH` then detects a rewrite of
 * the whole log, which the chain alone cannot. Returns a function that stops the timer.
 */
export function startAuditAnchor(db: Executor, logger: FastifyBaseLogger, intervalMs: number): () => void {
  const writeHead = () =>
    readHead(db).then(
      (head) => logger.info({ auditHead: { id: head.lastId, hash: head.lastHash } }, 'audit head'),
      (err: unknown) => logger.error({ err }, 'could not read the audit head'),
    );
  void writeHead();
  if (intervalMs === 0) return () => {};
  const timer = setInterval(() => void writeHead(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
