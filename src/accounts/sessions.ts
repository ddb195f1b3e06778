/**
 * Browser sessions: an opaque 256-bit token in an HttpOnly, SameSite=Lax cookie, stored only as its
 * SHA-256, with an idle timeout and an absolute lifetime.
 *
 * Cookie name and transport. Over HTTPS the cookie is `__Host-fieldkeep_session` with `Secure` (the
 * prefix makes browsers refuse it unless it is Secure, host-only and Path=/). Browsers also refuse
 * `__Host-` cookies without Secure, and refuse Secure cookies over plain HTTP, so a development
 * install on http://127.0.0.1 gets a plain-named `fieldkeep_session` cookie instead; production
 * refuses browser sign-in over plain HTTP altogether (`session.insecure_transport`), and never reads
 * the plain-named cookie. Each cookie is read only over the transport it was issued on.
 *
 * CSRF. Every state-changing request authenticated by the cookie must carry `X-CSRF-Token`. The
 * token is derived from the session token with a keyed hash (no extra storage, and the page can get
 * it again after a reload from GET /api/v1/sessions/current); cross-site pages can neither read it
 * nor the cookie it derives from.
 */
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import type { ClientInfo } from './client.js';
import type { AccountsContext } from './context.js';
import { insertSession, type Executor, type SessionRow } from './queries.js';
import { constantTimeEqual, generateToken, hashToken, keyedHash } from './tokens.js';

export const SECURE_SESSION_COOKIE = '__Host-fieldkeep_session';
export const PLAIN_SESSION_COOKIE = 'fieldkeep_session';
export const CSRF_HEADER = 'x-csrf-token';

/** last_seen_at is written at most this often, not on every request. */
const TOUCH_INTERVAL_MS = 60_000;

export interface NewSession {
  id: number;
  token: string;
  csrfToken: string;
  expiresAt: string;
}

/** The session that authenticated a request, kept beside the request for the session routes. */
export interface CurrentSession {
  id: number;
  token: string;
}

const currentSessions = new WeakMap<FastifyRequest, CurrentSession>();

export function currentSessionOf(request: FastifyRequest): CurrentSession | undefined {
  return currentSessions.get(request);
}

export function setCurrentSession(request: FastifyRequest, session: CurrentSession): void {
  currentSessions.set(request, session);
}

/** The cookie name for this transport, or null when browser sessions are refused on it. */
export function sessionCookieName(config: Config, secure: boolean): string | null {
  if (secure) return SECURE_SESSION_COOKIE;
  return config.env === 'development' ? PLAIN_SESSION_COOKIE : null;
}

export function readSessionCookie(request: FastifyRequest, config: Config): string | undefined {
  const name = sessionCookieName(config, request.protocol === 'https');
  const header = request.headers.cookie;
  if (name === null || header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) return pair.slice(separator + 1).trim();
  }
  return undefined;
}

/** Our cookie values are base62 tokens, so they need no encoding; the attributes are fixed. */
export function sessionCookie(name: string, token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${name}=${token}; Max-Age=${Math.max(0, maxAgeSeconds)}; Path=/; HttpOnly${secure ? '; Secure' : ''}; SameSite=Lax`;
}

export function clearedSessionCookie(name: string, secure: boolean): string {
  return sessionCookie(name, '', 0, secure);
}

export function csrfTokenFor(accounts: AccountsContext, sessionToken: string): string {
  return keyedHash(Buffer.from(accounts.secret), ['csrf', sessionToken]);
}

export function csrfTokenMatches(accounts: AccountsContext, sessionToken: string, presented: unknown): boolean {
  return typeof presented === 'string' && constantTimeEqual(csrfTokenFor(accounts, sessionToken), presented);
}

/** A new session for the user: a fresh token at every sign-in (never reused, never chosen by the client). */
export async function openSession(accounts: AccountsContext, db: Executor, userId: number, client: ClientInfo, now = Date.now()): Promise<NewSession> {
  const token = generateToken('opaque');
  const expiresAt = new Date(now + accounts.config.sessionLifetimeHours * 3_600_000).toISOString();
  const at = new Date(now).toISOString();
  const id = await insertSession(db, {
    user_id: userId,
    token_hash: hashToken(token),
    created_at: at,
    last_seen_at: at,
    expires_at: expiresAt,
    address: client.address,
    user_agent: client.userAgent,
  });
  return { id, token, csrfToken: csrfTokenFor(accounts, token), expiresAt };
}

export type SessionFreshness = 'fresh' | 'stale' | 'expired';

/** Whether a stored session may still be used at `now`, and whether its last-seen time is worth writing. */
export function sessionFreshness(accounts: AccountsContext, session: SessionRow, now: number): SessionFreshness {
  const lastSeen = Date.parse(session.last_seen_at);
  if (now >= Date.parse(session.expires_at) || now - lastSeen >= accounts.config.sessionIdleMinutes * 60_000) return 'expired';
  return now - lastSeen >= TOUCH_INTERVAL_MS ? 'stale' : 'fresh';
}
