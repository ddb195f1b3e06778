/**
 * Public API of the audit log: append an entry (inside the caller's transaction), group data
 * reads, verify the chain, list entries, anchor the head in the log, and the `audit` command.
 */
export { recordAudit, recordDataRead } from './record.js';
export type { AuditEvent, RecordedEntry } from './record.js';
export { verifyAuditChain } from './verify.js';
export type { Anchor, ChainProblem, ChainReport } from './verify.js';
export { canonicalJson } from './canonical-json.js';
export { GENESIS_HASH, entryHash } from './chain.js';
export type { ChainedFields } from './chain.js';
export type { Executor, AuditFilter } from './queries.js';
export { startAuditAnchor } from './anchor.js';
export { auditCommand } from './commands.js';
export { auditSource } from './request-source.js';
