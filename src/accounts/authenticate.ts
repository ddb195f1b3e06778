/**
 * The accounts authentication hook: recognises an API token (`Authorization: Bearer …` or
 * Kobo's `Token …`), HTTP Basic (over TLS, or from loopback in development), or the session
 * cookie, and sets `request.actor`. A credential that is presented but wrong is answered with 401
 * at once; an unknown Authorization scheme is left to other hooks. A disabled user's sessions
 * and tokens fail here on their next request, because every lookup requires an enabled user.
 *
 * Instance administrators who have not turned on two-factor (when FIELDKEEP_ADMIN_TWO_FACTOR is
 * on) are not administrators for this request: admin routes answer
 * `auth.two_factor_enrolment_required` until they enrol.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../access/actor.js';
import type { Config } from '../config/config.js';
import { isoNow } from '../db/columns.js';
import type { AuthenticationHook } from '../server/app.js';
import { AppError } from '../server/errors.js';
import { auditAccountEvent } from './audit-events.js';
import { clientInfo, isLoopback } from './client.js';
import { accountsOf, type AccountsContext } from './context.js';
import { retryAfterOf, verifyCredentials } from './credentials.js';
import { deleteSession, findActiveApiToken, findActiveSession, findEnabledUser, touchApiToken, touchSession, type UserRow } from './queries.js';
import { CSRF_HEADER, csrfTokenMatches, readSessionCookie, sessionFreshness, setCurrentSession } from './sessions.js';
import { attemptNotCounted, attemptSucceeded } from './throttle-store.js';
import { hashToken, isWellFormedToken, keyedHash } from './tokens.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The challenge ODK Collect needs before it sends Basic credentials (it never sends them unasked). */
export const BASIC_CHALLENGE = 'Basic realm="Fieldkeep", charset="UTF-8"';
const TOKEN_TOUCH_INTERVAL_MS = 60_000;

export const accountsAuthentication: AuthenticationHook = async (request, reply, ctx) => {
  if (request.actor.kind !== 'anonymous') return;
  const accounts = accountsOf(ctx, request.log);
  const authorization = request.headers.authorization;
  const actor =
    authorization === undefined ? await actorFromSessionCookie(accounts, request) : await actorFromAuthorization(accounts, request, reply, authorization);
  if (actor !== undefined) request.actor = actor;
};

async function actorFromAuthorization(accounts: AccountsContext, request: FastifyRequest, reply: FastifyReply, header: string): Promise<Actor | undefined> {
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header);
  const scheme = match?.[1]?.toLowerCase();
  const value = match?.[2] ?? '';
  if (scheme === 'bearer' || scheme === 'token') return actorFromApiToken(accounts, request, value);
  if (scheme === 'basic') {
    try {
      return await actorFromBasic(accounts, request, value);
    } catch (error) {
      const retryAfter = retryAfterOf(error);
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
      if (error instanceof AppError && error.status === 401) reply.header('www-authenticate', BASIC_CHALLENGE);
      throw error;
    }
  }
  return undefined;
}

async function actorFromApiToken(accounts: AccountsContext, request: FastifyRequest, token: string): Promise<Actor | undefined> {
  // Device tokens (fk_dev_) belong to the OpenRosa hook.
  if (isWellFormedToken('device', token)) return undefined;
  if (!isWellFormedToken('api', token)) throw new AppError('auth.invalid_token', 'This is not a Fieldkeep API token (they start with fk_pat_).');
  const now = isoNow();
  const found = await findActiveApiToken(accounts.db, hashToken(token), now);
  if (!found) throw new AppError('auth.invalid_token');
  const lastUsed = found.token.last_used_at;
  if (lastUsed === null || Date.parse(now) - Date.parse(lastUsed) >= TOKEN_TOUCH_INTERVAL_MS) await touchApiToken(accounts.db, found.token.id, now);
  return userActor(accounts, request, found.user, 'api_token', found.token.scope);
}

async function actorFromBasic(accounts: AccountsContext, request: FastifyRequest, encoded: string): Promise<Actor> {
  const client = clientInfo(request);
  if (!basicAllowed(request, accounts.config)) {
    throw new AppError('auth.basic_insecure', 'HTTP Basic sends the password itself, so this server accepts it only over HTTPS.');
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) throw new AppError('auth.invalid_credentials', 'The Basic credentials are not base64 of "username:password".');
  const name = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  const cacheKey = keyedHash(Buffer.from(accounts.secret), ['basic', name, password]);
  const now = Date.now();
  const cached = accounts.basicCache.get(cacheKey, now);
  if (cached !== undefined) {
    const user = await findEnabledUser(accounts.db, cached.userId);
    if (user && user.password_hash === cached.passwordHash && user.totp_secret === null) return userActor(accounts, request, user, 'basic', 'write');
    accounts.basicCache.forget(cacheKey);
  }
  const { user, keys } = await verifyCredentials(accounts, name, password, client, 'basic');
  if (user.totp_secret !== null) {
    await attemptNotCounted(accounts.db, keys);
    throw new AppError('auth.basic_two_factor', 'This account uses two-factor authentication: give the phone an API or device token instead of the password.');
  }
  const actor = userActor(accounts, request, user, 'basic', 'write');
  await accounts.db.transaction().execute(async (trx) => {
    await attemptSucceeded(trx, keys);
    await auditAccountEvent(trx, { action: 'user.login', actor, userId: user.id, client, details: { method: 'basic' } });
  });
  accounts.basicCache.remember(cacheKey, user.id, user.password_hash, now);
  return actor;
}

/** HTTP Basic sends the password itself: accepted over TLS, or from this machine in development. */
export function basicAllowed(request: FastifyRequest, config: Pick<Config, 'env'>): boolean {
  const client = clientInfo(request);
  return client.secure || (config.env === 'development' && isLoopback(client.address));
}

async function actorFromSessionCookie(accounts: AccountsContext, request: FastifyRequest): Promise<Actor | undefined> {
  const token = readSessionCookie(request, accounts.config);
  if (!isWellFormedToken('opaque', token)) return undefined;
  const found = await findActiveSession(accounts.db, hashToken(token));
  if (!found) return undefined;
  const now = Date.now();
  const freshness = sessionFreshness(accounts, found.session, now);
  if (freshness === 'expired') {
    await deleteSession(accounts.db, found.user.id, found.session.id);
    return undefined;
  }
  if (!SAFE_METHODS.has(request.method) && !csrfTokenMatches(accounts, token, request.headers[CSRF_HEADER])) {
    const permission = request.routeOptions.config.permission;
    // A public route (e.g. signing in again) is served as if no cookie had been sent.
    if (permission === undefined || permission === 'public') return undefined;
    throw new AppError('session.csrf_invalid', 'Send the CSRF token from sign-in (or from GET /api/v1/sessions/current) in the X-CSRF-Token header.');
  }
  if (freshness === 'stale') await touchSession(accounts.db, found.session.id, new Date(now).toISOString());
  setCurrentSession(request, { id: found.session.id, token });
  return userActor(accounts, request, found.user, 'session', 'write');
}

function userActor(accounts: AccountsContext, request: FastifyRequest, user: UserRow, credential: 'session' | 'api_token' | 'basic', scope: 'read' | 'write'): Actor {
  const adminAwaitingTwoFactor = user.is_admin === 1 && accounts.config.adminTwoFactor && user.totp_secret === null;
  if (adminAwaitingTwoFactor && request.routeOptions.config.permission === 'admin') {
    throw new AppError(
      'auth.two_factor_enrolment_required',
      'Turn on two-factor authentication (POST /api/v1/users/me/two-factor) before using administrator functions.',
    );
  }
  return { kind: 'user', userId: user.id, username: user.username, isAdmin: user.is_admin === 1 && !adminAwaitingTwoFactor, credential, scope };
}
