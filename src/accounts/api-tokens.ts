/**
 * Personal API tokens for scripts and programs: named, read-only or read-write, optionally
 * expiring, shown once (`fk_pat_…`), stored as their SHA-256, revocable, with a last-used time.
 */
import { isoNow } from '../db/columns.js';
import { AppError } from '../server/errors.js';
import { auditAccountEvent } from './audit-events.js';
import type { ClientInfo } from './client.js';
import type { AccountsContext } from './context.js';
import { deleteApiToken, insertApiToken, listApiTokens, type ApiTokenRow } from './queries.js';
import type { UserActor } from './service.js';
import type { Changer } from './users.js';
import { generateToken, hashToken } from './tokens.js';

export type TokenScope = 'read' | 'write';

export interface TokenView {
  id: number;
  name: string;
  scope: TokenScope;
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

export interface NewToken extends TokenView {
  /** The secret itself: shown this once, never stored. */
  token: string;
}

export interface TokenRequest {
  name: string;
  scope: TokenScope;
  expiresInDays?: number | undefined;
}

function presentToken(row: ApiTokenRow): TokenView {
  return { id: row.id, name: row.name, scope: row.scope, expiresAt: row.expires_at, lastUsedAt: row.last_used_at, createdAt: row.created_at };
}

export async function createApiToken(accounts: AccountsContext, userId: number, request: TokenRequest, by: Changer & { client?: ClientInfo }): Promise<NewToken> {
  const token = generateToken('api');
  const now = Date.now();
  const row = {
    user_id: userId,
    name: request.name,
    token_hash: hashToken(token),
    scope: request.scope,
    expires_at: request.expiresInDays === undefined ? null : new Date(now + request.expiresInDays * 86_400_000).toISOString(),
    last_used_at: null,
    created_at: new Date(now).toISOString(),
  };
  const id = await accounts.db.transaction().execute(async (trx) => {
    const inserted = await insertApiToken(trx, row);
    await auditAccountEvent(trx, { action: 'token.created', ...by, userId, details: { tokenId: inserted, name: request.name, scope: request.scope, expiresAt: row.expires_at } });
    return inserted;
  });
  return { ...presentToken({ ...row, id }), token };
}

export async function listTokens(accounts: AccountsContext, actor: UserActor): Promise<TokenView[]> {
  return (await listApiTokens(accounts.db, actor.userId)).map(presentToken);
}

export async function revokeToken(accounts: AccountsContext, actor: UserActor, tokenId: number, client: ClientInfo): Promise<void> {
  await accounts.db.transaction().execute(async (trx) => {
    if (!(await deleteApiToken(trx, actor.userId, tokenId))) throw new AppError('token.not_found');
    await auditAccountEvent(trx, { action: 'token.revoked', actor, userId: actor.userId, client, details: { tokenId, at: isoNow() } });
  });
}
