import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** The "previous hash" of the first entry: 32 zero bytes. */
export const GENESIS_HASH = '0'.repeat(64);

/** Exactly the fields an entry's hash covers, in the form they are stored. */
export interface ChainedFields {
  id: number;
  at: string;
  actorKind: string;
  actorId: number | null;
  actorLabel: string | null;
  address: string | null;
  userAgent: string | null;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  projectId: number | null;
  details: Record<string, unknown>;
}

/**
 * `hash = SHA-256(previous hash ‖ canonical JSON of this entry)`: the previous hash as its 32 raw
 * bytes, then the UTF-8 canonical JSON of the fields above; written as 64 lowercase hex digits.
 */
export function entryHash(previousHash: string, fields: ChainedFields): string {
  if (!/^[0-9a-f]{64}$/.test(previousHash)) throw new TypeError('a previous hash is 64 lowercase hex digits');
  return createHash('sha256')
    .update(Buffer.from(previousHash, 'hex'))
    .update(canonicalJson(fields), 'utf8')
    .digest('hex');
}
